// Read just the actor and seq of a raw Automerge change without decoding its ops: decodeChange on
// every change cost more than applying them (DESIGN → Performance). Layout (Automerge binary format):
//   magic(4) ‖ checksum(4) ‖ chunkType(1) ‖ uLEB(length) ‖ contents
//   contents = uLEB(#deps) ‖ #deps × hash(32) ‖ uLEB(actorLen) ‖ actor ‖ uLEB(seq) ‖ …
// Only uncompressed change chunks (type 1) are read here; anything else returns 'unsupported' (remote
// envelopes refuse it: checkChanges.ts; own changes fall back to decodeChange). A change this accepts but Automerge refuses
// (bad checksum, bad columns) makes applyChanges throw; applyRemote then isolates and quarantines it.
import { toHex } from '../../crypto/bytes.ts';

const MAGIC = [0x85, 0x6f, 0x4a, 0x83];
const CHUNK_CHANGE = 1;

export interface ChangeHeader {
  /** The actor id bytes (a view into the change; hex of these is Automerge's ActorId). */
  actorBytes: Uint8Array;
  seq: number;
}

function uleb(b: Uint8Array, off: number): [number, number] | undefined {
  let v = 0;
  let mul = 1;
  for (let i = 0; i < 8 && off + i < b.length; i++) {
    const byte = b[off + i]!;
    v += (byte & 0x7f) * mul;
    if ((byte & 0x80) === 0) {
      if (i > 0 && byte === 0) return undefined; // over-long encoding
      return v > Number.MAX_SAFE_INTEGER ? undefined : [v, off + i + 1];
    }
    mul *= 128;
  }
  return undefined;
}

export function readChangeHeader(b: Uint8Array): ChangeHeader | 'malformed' | 'unsupported' {
  if (b.length < 10 || MAGIC.some((m, i) => b[i] !== m)) return 'malformed';
  if (b[8] !== CHUNK_CHANGE) return 'unsupported';
  const len = uleb(b, 9);
  if (!len || len[1] + len[0] !== b.length) return 'malformed';
  let off = len[1];
  const deps = uleb(b, off);
  if (!deps || deps[0] > (b.length - deps[1]) / 32) return 'malformed';
  off = deps[1] + deps[0] * 32;
  const actorLen = uleb(b, off);
  if (!actorLen || actorLen[0] === 0 || actorLen[0] > 64 || actorLen[1] + actorLen[0] > b.length) return 'malformed';
  const actorBytes = b.subarray(actorLen[1], actorLen[1] + actorLen[0]);
  const seq = uleb(b, actorLen[1] + actorLen[0]);
  if (!seq || seq[0] < 1) return 'malformed';
  return { actorBytes, seq: seq[0] };
}

/** The change's actor as Automerge writes it (hex), via decodeChange when the fast path can't read it. */
export function changeActorHex(h: ChangeHeader): string {
  return toHex(h.actorBytes);
}

/** The hashes (hex) a plain change chunk depends on, or undefined if its header does not read. */
export function readChangeDeps(b: Uint8Array): string[] | undefined {
  if (b.length < 10 || MAGIC.some((m, i) => b[i] !== m) || b[8] !== CHUNK_CHANGE) return undefined;
  const len = uleb(b, 9);
  if (!len || len[1] + len[0] !== b.length) return undefined;
  const deps = uleb(b, len[1]);
  if (!deps || deps[0] > (b.length - deps[1]) / 32) return undefined;
  const out: string[] = [];
  for (let i = 0; i < deps[0]; i++) out.push(toHex(b.subarray(deps[1] + i * 32, deps[1] + (i + 1) * 32)));
  return out;
}
