// Who made which changes, as verified from envelopes: for each accepted (or own sealed) envelope, the
// signing device, its user, the claimed time and the change hashes it carried. history() reads it.
//
// Stored as chunks, one per document per write: [PREFIX, docId, <batch id>] holds the entries of one
// pass (a cold join writes one file per document, not one per envelope) and the envelope hashes it
// drops (tombstones: an entry replaced, e.g. a snapshot's claim by the verified envelope, or a
// re-sealed envelope's old hash). A chunk is written once under a fresh name and never rewritten, so a
// new name is a change (the record-summary cache stamps these names, docStamps.ts), and dropping an
// entry is one small write with no read, atomic with the entries that replace it. Profiles written
// before chunks hold one entry per file ([PREFIX, docId, envelopeHash]); those still read.
import type { StorageAdapterInterface } from '@automerge/automerge-repo';
import { fromUtf8, toHex, utf8 } from '../crypto/bytes.ts';

const PREFIX = 'cloister-provenance';
const CHUNK_VERSION = 1;

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

/** One stored chunk: entries put together, and envelope hashes whose entries (in any chunk) no longer count. */
interface Chunk {
  v: typeof CHUNK_VERSION;
  entries: Provenance[];
  drops?: string[];
}

/** The stand-in envelope hash of an entry learnt from a snapshot: keyed by (device, seq), so the real envelope's entry can replace it. */
export const snapshotProvenanceHash = (deviceId: string, seq: number): string => `snapshot:${deviceId}:${seq}`;

let counter = 0;

/**
 * A fresh chunk name that sorts after the ones written before it (time, then a per-process counter;
 * random bits keep two processes apart). Order only decides which of two entries for one envelope
 * hash is shown (two snapshots' claims about one seq); a clock that steps back can only swap those.
 */
function batchId(): string {
  const time = Date.now().toString(36).padStart(10, '0');
  const n = (counter++ % 36 ** 4).toString(36).padStart(4, '0');
  return `batch-${time}-${n}-${toHex(globalThis.crypto.getRandomValues(new Uint8Array(6)))}`;
}

export class ProvenanceStore {
  constructor(private readonly storage: StorageAdapterInterface) {}

  async put(p: Provenance): Promise<void> {
    await this.putMany(p.docId, [p]);
  }

  /**
   * Record these entries of one document in one chunk (one file write), and drop the entries of
   * `drops` (envelope hashes) wherever they are stored. Nothing is written when both are empty.
   */
  async putMany(docId: string, entries: readonly Provenance[], drops: readonly string[] = []): Promise<void> {
    for (const p of entries) if (p.docId !== docId) throw new RangeError(`provenance of ${p.docId} put under ${docId}`);
    const put = new Set(entries.map(p => p.envelopeHash));
    const dropped = [...new Set(drops)].filter(h => !put.has(h)); // a drop never hides what it is written with
    if (entries.length === 0 && dropped.length === 0) return;
    const chunk: Chunk = { v: CHUNK_VERSION, entries: [...entries], ...(dropped.length ? { drops: dropped } : {}) };
    await this.storage.save([PREFIX, docId, batchId()], utf8(JSON.stringify(chunk)));
  }

  /** Forget one envelope's record (e.g. when the sync engine re-seals a never-pushed envelope): a tombstone chunk. */
  async remove(docId: string, envelopeHash: string): Promise<void> {
    await this.putMany(docId, [], [envelopeHash]);
  }

  /**
   * Every entry of the document, once per envelope hash (the later chunk's wins), without dropped
   * ones. A dropped hash stays dropped: envelope hashes are never reused (each seal draws a fresh
   * nonce), and a snapshot's claim about a seq, once replaced by the verified envelope, stays replaced.
   */
  async list(docId: string): Promise<Provenance[]> {
    const single: Provenance[] = [];
    const chunks: { name: string; chunk: Chunk }[] = [];
    for (const c of await this.storage.loadRange([PREFIX, docId])) {
      if (!c.data) continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(fromUtf8(c.data));
      } catch {
        continue; // unreadable entries are left out; history then shows those changes as unverified
      }
      if (isChunk(parsed)) chunks.push({ name: c.key[c.key.length - 1] ?? '', chunk: parsed });
      else if (isEntry(parsed)) single.push(parsed); // written before chunks: one entry per file
    }
    chunks.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const byHash = new Map<string, Provenance>();
    const dropped = new Set<string>();
    for (const p of single) byHash.set(p.envelopeHash, p);
    for (const { chunk } of chunks) {
      for (const p of chunk.entries) if (isEntry(p)) byHash.set(p.envelopeHash, p);
      for (const h of chunk.drops ?? []) if (typeof h === 'string') dropped.add(h);
    }
    return [...byHash.values()].filter(p => !dropped.has(p.envelopeHash));
  }
}

function isChunk(x: unknown): x is Chunk {
  return typeof x === 'object' && x !== null && (x as Chunk).v === CHUNK_VERSION && Array.isArray((x as Chunk).entries) && ((x as Chunk).drops === undefined || Array.isArray((x as Chunk).drops));
}

function isEntry(x: unknown): x is Provenance {
  return typeof x === 'object' && x !== null && typeof (x as Provenance).envelopeHash === 'string';
}
