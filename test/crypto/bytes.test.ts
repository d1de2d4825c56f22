// Stories for byte helpers: base64url and hex are exact inverses with one encoding per byte string,
// and ByteReader refuses every truncation by returning undefined rather than throwing.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ByteReader,
  ByteWriter,
  concat,
  equalBytes,
  fromBase64url,
  fromHex,
  fromUtf8,
  toBase64url,
  toHex,
  utf8,
  wipe,
} from '../../src/crypto/bytes.ts';

const FC_SEED = 42_2026;

describe('base64url', () => {
  it(`round-trips every byte string (fast-check seed ${FC_SEED}) and agrees with Node's encoder`, () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        const s = toBase64url(b);
        expect(s).toBe(Buffer.from(b).toString('base64url'));
        expect(s).toMatch(/^[A-Za-z0-9_-]*$/);
        expect(fromBase64url(s)).toEqual(b);
      }),
      { seed: FC_SEED, numRuns: 1000 },
    );
  });

  it('refuses non-canonical encodings: set trailing bits, impossible lengths, padding, foreign alphabets', () => {
    expect(fromBase64url('AA')).toEqual(Uint8Array.of(0));
    expect(fromBase64url('AB')).toBeUndefined(); // low 4 bits must be zero
    expect(fromBase64url('AAA')).toEqual(Uint8Array.of(0, 0));
    expect(fromBase64url('AAB')).toBeUndefined(); // low 2 bits must be zero
    expect(fromBase64url('A')).toBeUndefined(); // length ≡ 1 mod 4 is impossible
    expect(fromBase64url('AAAAA')).toBeUndefined();
    expect(fromBase64url('AA==')).toBeUndefined(); // no padding
    expect(fromBase64url('A+/A')).toBeUndefined(); // standard base64 alphabet
    expect(fromBase64url('AA AA')).toBeUndefined();
    expect(fromBase64url('')).toEqual(new Uint8Array());
  });

  it(`every string that decodes re-encodes to itself: one encoding per byte string (seed ${FC_SEED})`, () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.split('');
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...alphabet), { maxLength: 40 }), (chars) => {
        const s = chars.join('');
        const b = fromBase64url(s);
        if (b !== undefined) expect(toBase64url(b)).toBe(s);
      }),
      { seed: FC_SEED, numRuns: 2000 },
    );
  });
});

describe('hex and utf8', () => {
  it('hex round-trips and refuses odd lengths and non-hex characters', () => {
    const b = Uint8Array.of(0, 1, 0xab, 0xff);
    expect(toHex(b)).toBe('0001abff');
    expect(fromHex('0001ABff')).toEqual(b);
    expect(fromHex('abc')).toBeUndefined();
    expect(fromHex('zz')).toBeUndefined();
    expect(fromHex('0x00')).toBeUndefined();
  });

  it('utf8 decoding is fatal on malformed input', () => {
    expect(fromUtf8(utf8('héllo ✓'))).toBe('héllo ✓');
    expect(() => fromUtf8(Uint8Array.of(0xc3))).toThrow();
  });

  it('equalBytes compares lengths and contents; wipe zeroes in place', () => {
    expect(equalBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 2))).toBe(true);
    expect(equalBytes(Uint8Array.of(1, 2), Uint8Array.of(1, 3))).toBe(false);
    expect(equalBytes(Uint8Array.of(1), Uint8Array.of(1, 0))).toBe(false);
    const secret = Uint8Array.of(9, 9, 9);
    wipe(secret, undefined);
    expect(secret).toEqual(new Uint8Array(3));
  });
});

describe('ByteWriter / ByteReader', () => {
  const sample = () =>
    new ByteWriter().u8(7).u32(0xdeadbeef).u64(Number.MAX_SAFE_INTEGER).bytes(Uint8Array.of(1, 2, 3)).string('ﬁle ✓').raw(Uint8Array.of(9)).finish();
  const readAll = (r: ByteReader) => [r.u8(), r.u32(), r.u64(), r.bytes(), r.string(), r.raw(1)];

  it('reads back exactly what was written, consuming every byte', () => {
    const r = new ByteReader(sample());
    expect(readAll(r)).toEqual([7, 0xdeadbeef, Number.MAX_SAFE_INTEGER, Uint8Array.of(1, 2, 3), 'ﬁle ✓', Uint8Array.of(9)]);
    expect(r.remaining).toBe(0);
  });

  it('returns undefined (never throws) on truncation at every prefix length', () => {
    const full = sample();
    for (let n = 0; n < full.length; n++) {
      const r = new ByteReader(full.subarray(0, n));
      let fields: unknown[] = [];
      expect(() => (fields = readAll(r)), `prefix ${n}`).not.toThrow();
      expect(fields.includes(undefined), `prefix ${n}`).toBe(true);
    }
  });

  it('a reader on a subarray view reads from the right offset', () => {
    const inner = sample();
    const outer = concat(Uint8Array.of(0xff, 0xff, 0xff), inner);
    expect(readAll(new ByteReader(outer.subarray(3)))[1]).toBe(0xdeadbeef);
  });

  it('refuses length prefixes above the cap, u64 beyond 2^53, and malformed utf8 strings', () => {
    expect(new ByteReader(new ByteWriter().bytes(new Uint8Array(10)).finish()).bytes(9)).toBeUndefined();
    expect(new ByteReader(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0)).u64()).toBeUndefined();
    expect(new ByteReader(new ByteWriter().bytes(Uint8Array.of(0xc3)).finish()).string()).toBeUndefined();
    expect(new ByteReader(new Uint8Array(4)).raw(-1)).toBeUndefined();
  });

  it('the writer refuses out-of-range integers (API misuse throws)', () => {
    expect(() => new ByteWriter().u32(-1)).toThrow(RangeError);
    expect(() => new ByteWriter().u32(2 ** 32)).toThrow(RangeError);
    expect(() => new ByteWriter().u32(1.5)).toThrow(RangeError);
    expect(() => new ByteWriter().u64(2 ** 53)).toThrow(RangeError);
  });
});
