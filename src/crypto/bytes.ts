// Byte helpers shared by every construction: encoding, constant-time compare, wiping,
// and a strict length-prefixed writer/reader for wire formats.
import { randomBytes as nobleRandom } from '@noble/hashes/utils.js';

export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
export const fromUtf8 = (b: Uint8Array): string => new TextDecoder('utf-8', { fatal: true }).decode(b);

/** Where randomBytes draws from: the system CSPRNG, except inside a seeded simulation run. */
let source: (n: number) => Uint8Array = nobleRandom;
let nonceSource: (n: number) => Uint8Array = nobleRandom;
export const randomBytes = (n: number): Uint8Array => source(n);
/**
 * Random bytes whose value never changes what a run means, only that they are fresh: AEAD nonces,
 * challenges, temp-file names. The system CSPRNG too; a seeded simulation gives them their own stream,
 * so concurrent writes drawing them in any order leave keys and ids on the main stream unchanged.
 */
export const randomNonce = (n: number): Uint8Array => nonceSource(n);

/**
 * For `cloister sim` only (src/cli/sim/seededRandom.ts): make every randomBytes call in this process
 * (or worker thread) draw from `seeded`, so keys, nonces and ids follow the run's seed. Returns the
 * function that puts the system CSPRNG back. Never called by the product: a seeded source is public.
 */
export function replaceRandomSourceForSimulation(seeded: (n: number) => Uint8Array, seededNonces: (n: number) => Uint8Array): () => void {
  const before = [source, nonceSource] as const;
  source = seeded;
  nonceSource = seededNonces;
  return () => {
    [source, nonceSource] = before;
  };
}

export function concat(...parts: Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** Constant-time comparison of two byte strings of equal length. */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** Overwrite a secret in place. JS can't promise no copies remain, but we drop ours. */
export function wipe(...bufs: (Uint8Array | undefined)[]): void {
  for (const b of bufs) b?.fill(0);
}

export function toHex(b: Uint8Array): string {
  let s = '';
  for (const x of b) s += x.toString(16).padStart(2, '0');
  return s;
}

export function fromHex(s: string): Uint8Array | undefined {
  if (s.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(s)) return undefined;
  const out = new Uint8Array(s.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(s.slice(2 * i, 2 * i + 2), 16);
  return out;
}

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
export function toBase64url(b: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < b.length; i += 3) {
    const n = (b[i]! << 16) | (b[i + 1]! << 8) | b[i + 2]!;
    out += B64URL[(n >> 18) & 63]! + B64URL[(n >> 12) & 63]! + B64URL[(n >> 6) & 63]! + B64URL[n & 63]!;
  }
  if (i < b.length) {
    const n = (b[i]! << 16) | ((b[i + 1] ?? 0) << 8);
    out += B64URL[(n >> 18) & 63]! + B64URL[(n >> 12) & 63]!;
    if (i + 1 < b.length) out += B64URL[(n >> 6) & 63]!;
  }
  return out;
}

export function fromBase64url(s: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]*$/.test(s) || s.length % 4 === 1) return undefined;
  const out = new Uint8Array(Math.floor((s.length * 3) / 4));
  let bits = 0;
  let acc = 0;
  let o = 0;
  for (const ch of s) {
    acc = (acc << 6) | B64URL.indexOf(ch);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  // Reject non-canonical trailing bits so each byte string has exactly one encoding.
  if (bits > 0 && (acc & ((1 << bits) - 1)) !== 0) return undefined;
  return out;
}

/** Writes a strict binary layout: fixed-width big-endian integers and u32-length-prefixed fields. */
export class ByteWriter {
  private chunks: Uint8Array[] = [];
  u8(n: number): this {
    this.chunks.push(Uint8Array.of(n & 0xff));
    return this;
  }
  u32(n: number): this {
    if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`u32 out of range: ${n}`);
    // Byte by byte: a DataView would force V8 to move this small on-heap array off the heap, which
    // costs more than the rest of a storage-name or AEAD header encoding.
    this.chunks.push(Uint8Array.of(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff));
    return this;
  }
  /** Unsigned integer up to 2^53-1, written as 8 bytes. */
  u64(n: number): this {
    if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`u64 out of range: ${n}`);
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(n));
    this.chunks.push(b);
    return this;
  }
  raw(b: Uint8Array): this {
    this.chunks.push(b);
    return this;
  }
  bytes(b: Uint8Array): this {
    return this.u32(b.length).raw(b);
  }
  string(s: string): this {
    return this.bytes(utf8(s));
  }
  finish(): Uint8Array {
    return concat(...this.chunks);
  }
}

/** Reads what ByteWriter wrote. Every read returns undefined on truncation instead of throwing. */
export class ByteReader {
  private off = 0;
  constructor(private readonly buf: Uint8Array) {}
  get remaining(): number {
    return this.buf.length - this.off;
  }
  get offset(): number {
    return this.off;
  }
  u8(): number | undefined {
    if (this.remaining < 1) return undefined;
    return this.buf[this.off++];
  }
  u32(): number | undefined {
    if (this.remaining < 4) return undefined;
    const b = this.buf;
    const o = this.off;
    this.off += 4;
    return ((b[o]! << 24) >>> 0) + (b[o + 1]! << 16) + (b[o + 2]! << 8) + b[o + 3]!;
  }
  u64(): number | undefined {
    if (this.remaining < 8) return undefined;
    const v = new DataView(this.buf.buffer, this.buf.byteOffset + this.off, 8).getBigUint64(0);
    this.off += 8;
    return v > BigInt(Number.MAX_SAFE_INTEGER) ? undefined : Number(v);
  }
  raw(n: number): Uint8Array | undefined {
    if (n < 0 || this.remaining < n) return undefined;
    const v = this.buf.subarray(this.off, this.off + n);
    this.off += n;
    return v;
  }
  /** A u32-length-prefixed field, refused if longer than `max`. */
  bytes(max = 1 << 26): Uint8Array | undefined {
    const n = this.u32();
    if (n === undefined || n > max) return undefined;
    return this.raw(n);
  }
  string(max = 1 << 16): string | undefined {
    const b = this.bytes(max);
    if (b === undefined) return undefined;
    try {
      return fromUtf8(b);
    } catch {
      return undefined;
    }
  }
}

/** Throws a clear error when our own code passes a wrong-length byte string (API misuse, not untrusted input). */
export function abytes(value: Uint8Array, length: number | undefined, name: string): void {
  if (!(value instanceof Uint8Array)) throw new TypeError(`${name} must be a Uint8Array`);
  if (length !== undefined && value.length !== length)
    throw new RangeError(`${name} must be ${length} bytes, got ${value.length}`);
}
