// Who made which changes, as verified from envelopes: for each accepted (or own sealed) envelope, the
// signing device, its user, the claimed time and the change hashes it carried. history() reads it.
import type { StorageAdapterInterface } from '@automerge/automerge-repo';
import { fromUtf8, utf8 } from '../crypto/bytes.ts';

const PREFIX = 'cloister-provenance';

export interface Provenance {
  docId: string;
  envelopeHash: string;
  deviceId: string;
  userId: string;
  seq: number;
  /** The device's claimed time (ms): claimed, not verified. */
  claimedTime: number;
  /** The Automerge actor of the envelope's changes, and each change's seq: (actor, seq) names a change. */
  actor: string;
  seqs: number[];
  /** Hex of the envelope's session nonce: lets a snapshot reader recompute actor = actorFor(devicePub, nonce). */
  sessionNonce?: string;
  /** Learnt from a snapshot, not from the envelope itself: the snapshot's author device (trusted as far as that author). */
  viaSnapshot?: string;
}

export class ProvenanceStore {
  constructor(private readonly storage: StorageAdapterInterface) {}

  async put(p: Provenance): Promise<void> {
    await this.storage.save([PREFIX, p.docId, p.envelopeHash], utf8(JSON.stringify(p)));
  }

  /** Forget one envelope's record (e.g. when the sync engine re-seals a never-pushed envelope). */
  async remove(docId: string, envelopeHash: string): Promise<void> {
    await this.storage.remove([PREFIX, docId, envelopeHash]);
  }

  async list(docId: string): Promise<Provenance[]> {
    const out: Provenance[] = [];
    for (const c of await this.storage.loadRange([PREFIX, docId])) {
      if (!c.data) continue;
      try {
        out.push(JSON.parse(fromUtf8(c.data)) as Provenance);
      } catch {
        // unreadable entries are left out; history then shows those changes as unverified
      }
    }
    return out;
  }
}
