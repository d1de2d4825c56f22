// A snapshot's document bytes come from another member: before Automerge loads them, check they are
// exactly one document chunk whose compressed columns inflate within a hard bound (DESIGN → Hostile
// change bytes: bounded time and memory). A few kilobytes of DEFLATE can claim gigabytes; Automerge
// would inflate them all and the process would die on every cold join while that snapshot is newest.
//
// Layout (Automerge binary format, document chunk):
//   magic(4) ‖ checksum(4) ‖ type(1) = 0 ‖ uLEB(length) ‖ contents
//   contents = uLEB(#actors) ‖ #actors × (uLEB(len) ‖ bytes) ‖ uLEB(#heads) ‖ #heads × hash(32)
//            ‖ change column metadata ‖ op column metadata ‖ column data … ‖ head indexes
//   column metadata = uLEB(#columns) ‖ #columns × (uLEB(spec) ‖ uLEB(length)); spec bit 3 = DEFLATE
import { Inflate } from 'fflate';

const MAGIC = [0x85, 0x6f, 0x4a, 0x83];
const CHUNK_DOCUMENT = 0;
const DEFLATE_BIT = 0b1000;
/** What a snapshot's columns may inflate to in all (the document Automerge builds from them is of that order). */
export const MAX_SNAPSHOT_INFLATED_BYTES = 256 * 1024 * 1024;

class Reader {
  off = 0;
  constructor(readonly b: Uint8Array) {}
  uleb(): number {
    let v = 0;
    let mul = 1;
    for (let i = 0; i < 8; i++) {
      if (this.off >= this.b.length) throw new RangeError('truncated');
      const byte = this.b[this.off++]!;
      v += (byte & 0x7f) * mul;
      if ((byte & 0x80) === 0) {
        if (v > Number.MAX_SAFE_INTEGER) throw new RangeError('integer too large');
        return v;
      }
      mul *= 128;
    }
    throw new RangeError('integer too long');
  }
  skip(n: number): void {
    if (n < 0 || this.off + n > this.b.length) throw new RangeError('truncated');
    this.off += n;
  }
}

/** Undefined if `bytes` is one document chunk whose columns inflate to at most `maxInflated` bytes; else why not. */
export function boundedDocumentError(bytes: Uint8Array, maxInflated = MAX_SNAPSHOT_INFLATED_BYTES): string | undefined {
  try {
    if (bytes.length < 10 || MAGIC.some((m, i) => bytes[i] !== m)) return 'not an Automerge chunk';
    if (bytes[8] !== CHUNK_DOCUMENT) return 'not a document chunk';
    const r = new Reader(bytes);
    r.off = 9;
    const length = r.uleb();
    if (r.off + length !== bytes.length) return 'not exactly one chunk';
    const actors = r.uleb();
    for (let i = 0; i < actors; i++) r.skip(r.uleb());
    r.skip(r.uleb() * 32);
    const columns: { spec: number; length: number }[] = [];
    for (let part = 0; part < 2; part++) {
      const n = r.uleb();
      for (let i = 0; i < n; i++) columns.push({ spec: r.uleb(), length: r.uleb() });
    }
    let inflated = 0;
    for (const c of columns) {
      const data = bytes.subarray(r.off, r.off + c.length);
      r.skip(c.length);
      if ((c.spec & DEFLATE_BIT) === 0) inflated += c.length;
      else inflated += inflatedLength(data, maxInflated - inflated);
      if (inflated > maxInflated) return `columns inflate beyond ${maxInflated} bytes`;
    }
    return undefined;
  } catch (e) {
    if (e instanceof OverBound) return `columns inflate beyond ${maxInflated} bytes`;
    return `malformed: ${(e instanceof Error ? e.message : String(e)).slice(0, 120)}`;
  }
}

class OverBound extends Error {}

/** The inflated length of raw DEFLATE `data`, streamed and abandoned as soon as it passes `budget` (never held whole). */
function inflatedLength(data: Uint8Array, budget: number): number {
  let n = 0;
  const inflate = new Inflate(chunk => {
    n += chunk.length;
    if (n > budget) throw new OverBound();
  });
  for (let off = 0; off < data.length; off += 4096) inflate.push(data.subarray(off, off + 4096), off + 4096 >= data.length);
  if (data.length === 0) inflate.push(data, true);
  return n;
}
