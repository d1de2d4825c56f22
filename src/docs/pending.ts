// Authentic remote envelopes that can't be applied yet, persisted (encrypted, via the state storage)
// so a restart loses nothing (DESIGN → Pitfalls: Automerge queues changes with missing dependencies,
// and the Repo's incremental save does not persist that queue).
//   gap:  earlier envelopes from the same device for the doc haven't arrived (seq > last+1);
//   deps: in sequence and accepted, but some changes' dependencies aren't in the document yet.
// Parked envelopes never hold back the pull cursor (DESIGN → The cursor never pins); what bounds them
// is the budget below, per (device, doc): past it they are quarantined as dependency_missing.
import type { StorageAdapterInterface } from '@automerge/automerge-repo';

const PREFIX = 'cloister-pending';

/** At most this many envelopes, and this many bytes, wait per (device, doc). */
export const MAX_PENDING_PER_DEVICE_DOC = 1000;
export const MAX_PENDING_BYTES_PER_DEVICE_DOC = 64 * 1024 * 1024;

/** Counts what waits per (device, doc) while one batch is judged. */
export class PendingBudget {
  readonly #used = new Map<string, { n: number; bytes: number }>();

  constructor(
    readonly maxEnvelopes = MAX_PENDING_PER_DEVICE_DOC,
    readonly maxBytes = MAX_PENDING_BYTES_PER_DEVICE_DOC,
  ) {}

  /** Count an envelope already waiting. */
  note(deviceId: string, docId: string, bytes: number): void {
    const k = `${deviceId}\u0000${docId}`;
    const u = this.#used.get(k) ?? { n: 0, bytes: 0 };
    u.n++;
    u.bytes += bytes;
    this.#used.set(k, u);
  }

  /** Take room for one more; false when it would exceed the bound. */
  take(deviceId: string, docId: string, bytes: number): boolean {
    const u = this.#used.get(`${deviceId}\u0000${docId}`) ?? { n: 0, bytes: 0 };
    if (u.n + 1 > this.maxEnvelopes || u.bytes + bytes > this.maxBytes) return false;
    this.note(deviceId, docId, bytes);
    return true;
  }
}

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
