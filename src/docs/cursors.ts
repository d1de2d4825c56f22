// Per-(device, doc) sequence cursors: the highest seq applied (or sealed, for our own device), and the
// hash of the envelope at each seq, so a re-delivery is recognised as a no-op and a different
// envelope at a used seq as a replay. Persisted through the state storage: one small record per pair
// ({last}) and one per (pair, seq) hash, so each advance writes O(1) bytes however long the history.
// Callers hold the profile lock while they load, advance and save, so sessions on one profile agree.
import type { StorageAdapterInterface } from '@automerge/automerge-repo';
import { fromUtf8, utf8 } from '../crypto/bytes.ts';
import type { SeqView } from './envelope/authority.ts';
import { inGroups } from './inGroups.ts';

const PREFIX = 'cloister-cursor';
const HASH_PREFIX = 'cloister-seqhash';
const pairKey = (deviceId: string, docId: string): string => `${deviceId}\u0000${docId}`;
const seqPart = (seq: number): string => String(seq).padStart(16, '0');

interface Cursor {
  last: number;
  /** Seqs up to here came in a snapshot (docs/SNAPSHOTS.md): applied, but with no envelope hash to compare. */
  covered: number;
  /** seq → envelope hash, for the seqs loaded or advanced in this process */
  hashes: Map<number, string>;
}

export interface CursorRef {
  deviceId: string;
  docId: string;
  /** Also load the hash recorded at this seq (to judge an envelope carrying it). */
  seq?: number;
}

export class SeqCursors implements SeqView {
  readonly #cursors = new Map<string, Cursor>();
  readonly #dirty = new Map<string, Set<number>>();

  constructor(private readonly storage: StorageAdapterInterface) {}

  /** (Re)load these pairs, and the hashes at the given seqs, from storage; call under the profile lock. */
  async load(refs: Iterable<CursorRef>): Promise<void> {
    const byPair = new Map<string, { deviceId: string; docId: string; seqs: Set<number> }>();
    for (const r of refs) {
      const k = pairKey(r.deviceId, r.docId);
      if (!byPair.has(k)) byPair.set(k, { deviceId: r.deviceId, docId: r.docId, seqs: new Set() });
      if (r.seq !== undefined) byPair.get(k)!.seqs.add(r.seq);
    }
    for (const [k, { deviceId, docId, seqs }] of byPair) {
      let last = 0;
      let covered = 0;
      const bytes = await this.storage.load([PREFIX, deviceId, docId]);
      if (bytes) {
        try {
          const parsed = JSON.parse(fromUtf8(bytes)) as { last?: unknown; covered?: unknown };
          if (Number.isSafeInteger(parsed.last)) last = parsed.last as number;
          if (Number.isSafeInteger(parsed.covered)) covered = Math.min(parsed.covered as number, last);
        } catch {
          // A damaged cursor reads as 0: later envelopes then look like gaps or replays, never applied twice.
        }
      }
      const hashes = new Map<number, string>();
      for (const seq of seqs) {
        if (seq > last) continue;
        const h = await this.storage.load([HASH_PREFIX, deviceId, docId, seqPart(seq)]);
        if (h) hashes.set(seq, fromUtf8(h));
      }
      this.#cursors.set(k, { last, covered, hashes });
      this.#dirty.delete(k);
    }
  }

  lastSeq(deviceId: string, docId: string): number {
    return this.#cursors.get(pairKey(deviceId, docId))?.last ?? 0;
  }

  envelopeHashAt(deviceId: string, docId: string, seq: number): string | undefined {
    return this.#cursors.get(pairKey(deviceId, docId))?.hashes.get(seq);
  }

  /** The highest seq of (device, doc) taken from a snapshot rather than from its envelope; 0 if none. */
  coveredThrough(deviceId: string, docId: string): number {
    return this.#cursors.get(pairKey(deviceId, docId))?.covered ?? 0;
  }

  /** A loaded snapshot holds (device, doc)'s envelopes up to seq: they count as applied, without hashes. */
  cover(deviceId: string, docId: string, seq: number): void {
    const k = pairKey(deviceId, docId);
    const c = this.#cursors.get(k) ?? { last: 0, covered: 0, hashes: new Map() };
    if (seq <= c.last) return;
    c.last = seq;
    c.covered = seq;
    this.#cursors.set(k, c);
    if (!this.#dirty.has(k)) this.#dirty.set(k, new Set());
  }

  /** Record an envelope at seq (next in line for others' envelopes; freshly allocated for our own). */
  advance(deviceId: string, docId: string, seq: number, envelopeHash: string): void {
    const k = pairKey(deviceId, docId);
    const c = this.#cursors.get(k) ?? { last: 0, covered: 0, hashes: new Map() };
    c.last = Math.max(c.last, seq);
    c.hashes.set(seq, envelopeHash);
    this.#cursors.set(k, c);
    if (!this.#dirty.has(k)) this.#dirty.set(k, new Set());
    this.#dirty.get(k)!.add(seq);
  }

  /** Write every advance: hashes first, then the cursor, so a crash never leaves a seq without its hash. */
  async save(): Promise<void> {
    const dirty = [...this.#dirty].map(([k, seqs]) => {
      const [deviceId = '', docId = ''] = k.split('\u0000');
      return { deviceId, docId, seqs, c: this.#cursors.get(k)! };
    });
    // Every hash file together, then every cursor file together (independent files: the filesystem
    // commits their fsyncs in a group, where one after the other cost one disk flush each).
    const hashes = dirty.flatMap(({ deviceId, docId, seqs, c }) => [...seqs].map(seq => ({ key: [HASH_PREFIX, deviceId, docId, seqPart(seq)], value: c.hashes.get(seq)! })));
    await inGroups(hashes, h => this.storage.save(h.key, utf8(h.value)));
    await inGroups(dirty, ({ deviceId, docId, c }) => this.storage.save([PREFIX, deviceId, docId], utf8(JSON.stringify(c.covered ? { last: c.last, covered: c.covered } : { last: c.last }))));
    this.#dirty.clear();
  }
}
