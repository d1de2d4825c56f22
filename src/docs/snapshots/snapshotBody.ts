// What a snapshot's ciphertext holds (docs/SNAPSHOTS.md): the heads, the Automerge save() bytes, and
// the author's provenance for the changes in them, so a reader can still say who changed what. The
// body is parsed strictly; provenance entries name a device, the session nonce of the envelope that
// carried the changes (readers recompute the actor from it) and the change seqs.
import { ByteReader, ByteWriter, fromHex, toHex } from '../../crypto/bytes.ts';
import { deriveSubkey } from '../../crypto/hkdf.ts';
import { hmacSha256 } from '../../crypto/sha256.ts';
import { INFO } from '../../crypto/domains.ts';
import type { DocumentKey, Key } from '../../crypto/keys.ts';
import { fail, ok, type Result } from '../../crypto/result.ts';
import { SESSION_NONCE_BYTES } from '../../protocol/envelope.ts';
import { MAX_SNAPSHOT_BYTES } from '../../protocol/snapshot.ts';

const HASH_BYTES = 32;
const MAX_HEADS = 4096;
const MAX_PROVENANCE = 1_000_000;
const MAX_SEQS = 1_000_000;

export interface SnapshotProvenance {
  deviceId: string;
  /** The envelope's seq (per device and document). */
  seq: number;
  claimedTime: number;
  /** Hex, 16 bytes: actor = actorFor(devicePub, sessionNonce). */
  sessionNonce: string;
  /** The change seqs (of that actor) the envelope carried. */
  seqs: number[];
}

export interface SnapshotBody {
  /** The document's heads, hex, sorted. */
  heads: string[];
  /** Automerge save() bytes. */
  doc: Uint8Array;
  provenance: SnapshotProvenance[];
}

export function encodeSnapshotBody(b: SnapshotBody): Uint8Array {
  const w = new ByteWriter().u32(b.heads.length);
  for (const h of b.heads) w.raw(fromHex(h)!);
  w.bytes(b.doc).u32(b.provenance.length);
  for (const p of b.provenance) {
    w.string(p.deviceId).u64(p.seq).u64(p.claimedTime).raw(fromHex(p.sessionNonce)!).u32(p.seqs.length);
    for (const s of p.seqs) w.u64(s);
  }
  return w.finish();
}

export function decodeSnapshotBody(bytes: Uint8Array): Result<SnapshotBody, 'snapshot_body_malformed'> {
  const bad = (detail: string) => fail('snapshot_body_malformed' as const, detail);
  const r = new ByteReader(bytes);
  const nHeads = r.u32();
  if (nHeads === undefined || nHeads > MAX_HEADS) return bad('heads');
  const heads: string[] = [];
  for (let i = 0; i < nHeads; i++) {
    const h = r.raw(HASH_BYTES);
    if (!h) return bad('heads');
    heads.push(toHex(h));
  }
  const doc = r.bytes(MAX_SNAPSHOT_BYTES);
  const nProv = r.u32();
  if (!doc || nProv === undefined || nProv > MAX_PROVENANCE) return bad('doc');
  const provenance: SnapshotProvenance[] = [];
  for (let i = 0; i < nProv; i++) {
    const deviceId = r.string(128);
    const seq = r.u64();
    const claimedTime = r.u64();
    const nonce = r.raw(SESSION_NONCE_BYTES);
    const n = r.u32();
    if (!deviceId || seq === undefined || claimedTime === undefined || !nonce || n === undefined || n > MAX_SEQS || n > r.remaining / 8) return bad(`provenance ${i}`);
    const seqs: number[] = [];
    for (let j = 0; j < n; j++) {
      const s = r.u64();
      if (s === undefined || s < 1) return bad(`provenance ${i}`);
      seqs.push(s);
    }
    provenance.push({ deviceId, seq, claimedTime, sessionNonce: toHex(nonce), seqs });
  }
  if (r.remaining !== 0) return bad('trailing bytes');
  return ok({ heads, doc: doc.slice(), provenance });
}

/** The snapshot id of these heads: HMAC under a key derived from the document key (equal heads, equal id). */
export function snapshotIdOf(documentKey: DocumentKey, heads: readonly string[]): Uint8Array {
  const key = deriveSubkey<Key<'snapshot-id'>>(documentKey, INFO.snapshotIdKey);
  const w = new ByteWriter().u32(heads.length);
  for (const h of [...heads].sort()) w.raw(fromHex(h)!);
  return hmacSha256(key, w.finish());
}
