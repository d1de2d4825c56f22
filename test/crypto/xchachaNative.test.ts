// The native XChaCha20-Poly1305 path (Node's ChaCha20-Poly1305 + noble HChaCha20) must be
// byte-identical to noble's on every Wycheproof vector and on random inputs, and refuse what noble refuses.
import { readFileSync } from 'node:fs';
import { xchacha20poly1305 as noble } from '@noble/ciphers/chacha.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concat, equalBytes, fromHex } from '../../src/crypto/bytes.ts';
import { XCHACHA_IMPL, xchacha20poly1305 as fast } from '../../src/crypto/xchachaNative.ts';

const SEED = 20261127;

describe('native XChaCha20-Poly1305', () => {
  it('is the implementation in use on Node', () => {
    expect(XCHACHA_IMPL).toBe('node');
  });

  it('matches every Wycheproof XChaCha20-Poly1305 case exactly', () => {
    const file = JSON.parse(readFileSync(new URL('../vectors/wycheproof/xchacha20_poly1305_test.json', import.meta.url), 'utf8')) as {
      testGroups: { tests: Record<string, string>[] }[];
    };
    let ran = 0;
    for (const g of file.testGroups) {
      for (const t of g.tests) {
        ran++;
        const [key, iv, aad, msg] = ['key', 'iv', 'aad', 'msg'].map(k => fromHex(t[k]!)!) as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
        const sealed = concat(fromHex(t.ct!)!, fromHex(t.tag!)!);
        let dec: Uint8Array | undefined;
        try {
          dec = fast(key, iv, aad).decrypt(sealed);
        } catch {
          dec = undefined;
        }
        if (t.result === 'valid') {
          expect(dec && equalBytes(dec, msg), `tc ${t.tcId}`).toBe(true);
          expect(equalBytes(fast(key, iv, aad).encrypt(msg), sealed), `tc ${t.tcId}`).toBe(true);
        } else {
          expect(dec !== undefined && equalBytes(dec, msg), `tc ${t.tcId}`).toBe(false);
        }
      }
    }
    expect(ran).toBe(315);
  });

  it(`agrees with noble on random keys, nonces, AD and messages, and refuses any flipped bit (fast-check seed ${SEED})`, () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 24, maxLength: 24 }),
        fc.uint8Array({ maxLength: 64 }),
        fc.uint8Array({ maxLength: 2048 }),
        fc.nat(),
        (key, nonce, ad, msg, flip) => {
          const a = fast(key, nonce, ad).encrypt(msg);
          const b = noble(key, nonce, ad).encrypt(msg);
          expect(equalBytes(a, b)).toBe(true);
          expect(equalBytes(fast(key, nonce, ad).decrypt(b), msg)).toBe(true);
          const bad = b.slice();
          bad[flip % bad.length]! ^= 1 << flip % 8;
          expect(() => fast(key, nonce, ad).decrypt(bad)).toThrow();
        },
      ),
      { seed: SEED, numRuns: 300 },
    );
  });
});
