// Hostile Automerge change bytes a legitimate member can sign (issue 9): a change whose seq is
// rewritten with its checksum fixed (Automerge 3.5 panics inside applyChanges), and a compressed
// change chunk that inflates to far more than it weighs. Chunk layout (Automerge binary format):
// magic(4) ‖ checksum(4) ‖ chunkType(1) ‖ uLEB(len) ‖ body; checksum = SHA-256(type ‖ uLEB(len) ‖ body)[0..4].
import { createHash } from 'node:crypto';
import { deflateRawSync } from 'node:zlib';

function uleb(b: Uint8Array, off: number): [number, number] {
  let v = 0;
  let mul = 1;
  for (let i = off; ; i++) {
    const x = b[i]!;
    v += (x & 0x7f) * mul;
    mul *= 128;
    if ((x & 0x80) === 0) return [v, i + 1];
  }
}

function encodeUleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n = Math.floor(n / 128);
    if (n) byte |= 0x80;
    out.push(byte);
  } while (n);
  return out;
}

/** Recompute a chunk's checksum so it passes Automerge's integrity check. */
export function fixChecksum(chunk: Uint8Array): Uint8Array {
  const [len, off] = uleb(chunk, 9);
  chunk.set(createHash('sha256').update(chunk.subarray(8, off + len)).digest().subarray(0, 4), 4);
  return chunk;
}

/** The change with its seq byte set to `seq` (< 128, same width) and the checksum fixed. */
export function rewriteSeq(change: Uint8Array, seq: number): Uint8Array {
  const c = change.slice();
  const [, bodyAt] = uleb(c, 9);
  const [deps, depsAt] = uleb(c, bodyAt);
  const actorLenAt = depsAt + deps * 32;
  const [actorLen, actorAt] = uleb(c, actorLenAt);
  const seqAt = actorAt + actorLen;
  if (c[seqAt]! >= 0x80 || seq >= 0x80) throw new Error('test helper handles one-byte seqs only');
  c[seqAt] = seq;
  return fixChecksum(c);
}

/**
 * A compressed change chunk (type 2) carrying the real change's header fields (deps, actor, seq, so
 * actor binding would pass) followed by `inflated` zero bytes deflated: the 261 KB → 256 MiB bomb, scaled.
 */
export function compressedBomb(change: Uint8Array, inflated: number): Uint8Array {
  const [, bodyAt] = uleb(change, 9);
  const [deps, depsAt] = uleb(change, bodyAt);
  const actorLenAt = depsAt + deps * 32;
  const [actorLen, actorAt] = uleb(change, actorLenAt);
  const [, afterSeq] = uleb(change, actorAt + actorLen);
  const head = change.subarray(bodyAt, afterSeq);
  const body = new Uint8Array([...head, ...deflateRawSync(Buffer.alloc(inflated), { level: 9 })]);
  const len = encodeUleb(body.length);
  const chunk = new Uint8Array(9 + len.length + body.length);
  chunk.set([0x85, 0x6f, 0x4a, 0x83], 0);
  chunk[8] = 2;
  chunk.set(len, 9);
  chunk.set(body, 9 + len.length);
  return fixChecksum(chunk);
}
