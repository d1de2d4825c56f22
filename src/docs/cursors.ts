// Per-(device, doc) sequence cursors: the highest seq applied (or sealed, for our own device), and the
// hash of the envelope at each seq, so a re-delivery is recognised as a no-op and a different
// envelope at a used seq as a replay. Persisted through the state storage: one small record per pair
// ({last, hashes of its newest seqs}), and one file per older (pair, seq) hash, so a pass writes one
// file per pair it advanced (a cold join: one per document) and O(1) bytes however long the history.
// A seq's hash leaves the record only once it sits in its own file (written first), so a crash never
// leaves an applied seq without its hash.
// Callers hold the profile lock while they load, advance and save, so sessions on one profile agree.
import type { StorageAdapterInterface } from '@automerge/automerge-repo';
import { fromUtf8, utf8 } from '../crypto/bytes.ts';
import type { SeqView } from './envelope/authority.ts';
import { inGroups } from './inGroups.ts';

const PREFIX = 'cloister-cursor';
const HASH_PREFIX = 'cloister-seqhash';
const pairKey = (deviceId: string, docId: string): string => `${deviceId}\u0000${docId}`;
const seqPart = (seq: number): string => String(seq).padStart(16, '0');
/** The record keeps the hashes of seqs in (last - INLINE, last]; older ones move to their own files. */
const INLINE = 32;

interface Cursor {
  last: number;
  /** Seqs up to here came in a snapshot (docs/SNAPSHOTS.md): applied, but with no envelope hash to compare. */
  covered: number;
  /** seq → envelope hash, for the seqs loaded or advanced in this process */
  hashes: Map<number, string>;
  /** Seqs whose hash lives in the record (as loaded, or as the next save writes it), not in a file of its own. */
  inline: Set<number>;
}

interface StoredCursor {
  last?: unknown;
  covered?: unknown;
  /** seq (decimal) → envelope hash, for the newest seqs (older records lack it: their hashes are all in files). */
  hashes?: unknown;
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
      const hashes = new Map<number, string>();
      const inline = new Set<number>();
      const bytes = await this.storage.load([PREFIX, deviceId, docId]);
      if (bytes) {
        try {
          const parsed = JSON.parse(fromUtf8(bytes)) as StoredCursor;
          if (Number.isSafeInteger(parsed.last)) last = parsed.last as number;
          if (Number.isSafeInteger(parsed.covered)) covered = Math.min(parsed.covered as number, last);
          if (typeof parsed.hashes === 'object' && parsed.hashes !== null)
            for (const [s, h] of Object.entries(parsed.hashes)) {
              const seq = Number(s);
              if (!Number.isSafeInteger(seq) || seq < 1 || seq > last || typeof h !== 'string') continue;
              hashes.set(seq, h);
              inline.add(seq);
            }
        } catch {
          // A damaged cursor reads as 0: later envelopes then look like gaps or replays, never applied twice.
        }
      }
      for (const seq of seqs) {
        if (seq > last || hashes.has(seq)) continue;
        const h = await this.storage.load([HASH_PREFIX, deviceId, docId, seqPart(seq)]);
        if (h) hashes.set(seq, fromUtf8(h));
      }
      this.#cursors.set(k, { last, covered, hashes, inline });
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
    const c = this.#cursors.get(k) ?? { last: 0, covered: 0, hashes: new Map(), inline: new Set() };
    if (seq <= c.last) return;
    c.last = seq;
    c.covered = seq;
    this.#cursors.set(k, c);
    if (!this.#dirty.has(k)) this.#dirty.set(k, new Set());
  }

  /** Record an envelope at seq (next in line for others' envelopes; freshly allocated for our own). */
  advance(deviceId: string, docId: string, seq: number, envelopeHash: string): void {
    const k = pairKey(deviceId, docId);
    const c = this.#cursors.get(k) ?? { last: 0, covered: 0, hashes: new Map(), inline: new Set() };
    c.last = Math.max(c.last, seq);
    c.hashes.set(seq, envelopeHash);
    this.#cursors.set(k, c);
    if (!this.#dirty.has(k)) this.#dirty.set(k, new Set());
    this.#dirty.get(k)!.add(seq);
  }

  /**
   * Write every advance, one record per pair: a pair's newest hashes go inside its record; a hash
   * that falls out of that window is written to its own file first, so a crash never leaves a seq
   * without its hash.
   */
  async save(): Promise<void> {
    const dirty = [...this.#dirty].map(([k, seqs]) => {
      const [deviceId = '', docId = ''] = k.split('\u0000');
      const c = this.#cursors.get(k)!;
      const keep = new Set<number>();
      const spill: number[] = [];
      for (const seq of new Set([...c.inline, ...seqs])) {
        if (!c.hashes.has(seq)) continue;
        if (seq > c.last - INLINE) keep.add(seq);
        else spill.push(seq);
      }
      return { deviceId, docId, c, keep, spill };
    });
    // Every spilled hash together, then every record together (independent files: the filesystem
    // commits their fsyncs in a group, where one after the other cost one disk flush each).
    const files = dirty.flatMap(({ deviceId, docId, c, spill }) => spill.map(seq => ({ key: [HASH_PREFIX, deviceId, docId, seqPart(seq)], value: c.hashes.get(seq)! })));
    await inGroups(files, f => this.storage.save(f.key, utf8(f.value)));
    await inGroups(dirty, async ({ deviceId, docId, c, keep }) => {
      const record: { last: number; covered?: number; hashes?: Record<string, string> } = { last: c.last };
      if (c.covered) record.covered = c.covered;
      if (keep.size) record.hashes = Object.fromEntries([...keep].sort((a, b) => a - b).map(seq => [String(seq), c.hashes.get(seq)!]));
      await this.storage.save([PREFIX, deviceId, docId], utf8(JSON.stringify(record)));
      c.inline = keep;
    });
    this.#dirty.clear();
  }
}
