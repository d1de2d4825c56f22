// Authentic remote envelopes that can't be applied yet, persisted (encrypted, via the state storage)
// so a restart loses nothing (DESIGN → Pitfalls: Automerge queues changes with missing dependencies,
// and the Repo's incremental save does not persist that queue).
//   gap:  earlier envelopes from the same device for the doc haven't arrived (seq > last+1);
//   deps: in sequence and accepted, but some changes' dependencies aren't in the document yet.
import type { StorageAdapterInterface } from '@automerge/automerge-repo';

const PREFIX = 'cloister-pending';

export type PendingKind = 'gap' | 'deps';

export interface PendingEnvelope {
  kind: PendingKind;
  docId: string;
  envelopeHash: string;
  bytes: Uint8Array;
}

export class PendingStore {
  constructor(private readonly storage: StorageAdapterInterface) {}

  async put(kind: PendingKind, docId: string, envelopeHash: string, bytes: Uint8Array): Promise<void> {
    const other: PendingKind = kind === 'gap' ? 'deps' : 'gap';
    await this.storage.remove([PREFIX, docId, other, envelopeHash]);
    await this.storage.save([PREFIX, docId, kind, envelopeHash], bytes);
  }

  /** Held envelopes, for one doc or all. */
  async list(docId?: string, kind?: PendingKind): Promise<PendingEnvelope[]> {
    const prefix = docId === undefined ? [PREFIX] : kind === undefined ? [PREFIX, docId] : [PREFIX, docId, kind];
    const out: PendingEnvelope[] = [];
    for (const c of await this.storage.loadRange(prefix)) {
      if (!c.data || c.key.length !== 4 || (c.key[2] !== 'gap' && c.key[2] !== 'deps')) continue;
      out.push({ docId: c.key[1]!, kind: c.key[2], envelopeHash: c.key[3]!, bytes: c.data });
    }
    return out;
  }

  async remove(kind: PendingKind, docId: string, envelopeHash: string): Promise<void> {
    await this.storage.remove([PREFIX, docId, kind, envelopeHash]);
  }
}
