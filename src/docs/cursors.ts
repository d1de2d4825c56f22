// Per-(device, doc) sequence cursors: the highest seq applied (or sealed, for our own device) and the
// hash of each envelope at its seq, so a re-delivery is recognised as a no-op and a different
// envelope at a used seq as a replay. Persisted through the state storage; callers hold the profile
// lock while they load, advance and save, so sessions on one profile agree.
import type { StorageAdapterInterface } from '@automerge/automerge-repo';
import { fromUtf8, utf8 } from '../crypto/bytes.ts';
import type { SeqView } from './envelope/authority.ts';

const PREFIX = 'cloister-cursor';
const pairKey = (deviceId: string, docId: string): string => `${deviceId}\u0000${docId}`;

interface Cursor {
  last: number;
  /** seq → envelope hash */
  hashes: Record<string, string>;
}

export class SeqCursors implements SeqView {
  readonly #cursors = new Map<string, Cursor>();
  readonly #dirty = new Set<string>();

  constructor(private readonly storage: StorageAdapterInterface) {}

  /** (Re)load these pairs from storage; call under the profile lock before judging envelopes. */
  async load(pairs: Iterable<{ deviceId: string; docId: string }>): Promise<void> {
    for (const { deviceId, docId } of pairs) {
      const bytes = await this.storage.load([PREFIX, deviceId, docId]);
      let c: Cursor = { last: 0, hashes: {} };
      if (bytes) {
        try {
          const parsed = JSON.parse(fromUtf8(bytes)) as Cursor;
          if (Number.isSafeInteger(parsed.last) && parsed.hashes && typeof parsed.hashes === 'object') c = parsed;
        } catch {
          // A damaged cursor reads as empty; later envelopes then show as duplicates of nothing (replays) or gaps, never silently applied twice.
        }
      }
      this.#cursors.set(pairKey(deviceId, docId), c);
      this.#dirty.delete(pairKey(deviceId, docId));
    }
  }

  lastSeq(deviceId: string, docId: string): number {
    return this.#cursors.get(pairKey(deviceId, docId))?.last ?? 0;
  }

  envelopeHashAt(deviceId: string, docId: string, seq: number): string | undefined {
    return this.#cursors.get(pairKey(deviceId, docId))?.hashes[String(seq)];
  }

  /** Record seq (must be last+1, or any seq for our own sealing after a reload) with its envelope hash. */
  advance(deviceId: string, docId: string, seq: number, envelopeHash: string): void {
    const k = pairKey(deviceId, docId);
    const c = this.#cursors.get(k) ?? { last: 0, hashes: {} };
    c.last = Math.max(c.last, seq);
    c.hashes[String(seq)] = envelopeHash;
    this.#cursors.set(k, c);
    this.#dirty.add(k);
  }

  /** Write every advanced cursor. */
  async save(): Promise<void> {
    for (const k of this.#dirty) {
      const [deviceId = '', docId = ''] = k.split('\u0000');
      await this.storage.save([PREFIX, deviceId, docId], utf8(JSON.stringify(this.#cursors.get(k))));
    }
    this.#dirty.clear();
  }
}
