// The WebCrypto Ed25519 path (src/crypto/ed25519WebCrypto.ts) run under Node's WebCrypto: it gives the
// strict verdicts, and what it accepted is found by the synchronous browser path (noble) only for the
// exact (key, message, signature) it verified — a remembered signature can't vouch for another message
// or key. Chromium runs the full vector set in test/browser/webcryptoEd25519.e2e.test.ts.
import { ed25519 } from '@noble/curves/ed25519.js';
import { afterEach, describe, expect, it } from 'vitest';
import { forgetVerified, wasVerified } from '../../src/crypto/_ed25519Verified.ts';
import { utf8 } from '../../src/crypto/bytes.ts';
import { verifyRaw } from '../../src/crypto/ed25519.ts';
import { verifyRawWebCrypto, webCryptoEd25519Available } from '../../src/crypto/ed25519WebCrypto.ts';

const seed = new Uint8Array(32).fill(7);
const pub = ed25519.getPublicKey(seed);
const msg = utf8('cloister/change/v1 alice writes');
const sig = ed25519.sign(msg, seed);

describe('WebCrypto Ed25519', () => {
  afterEach(() => {
    forgetVerified();
  });

  it('is available here, accepts an honest signature and remembers exactly that triple', async () => {
    expect(await webCryptoEd25519Available()).toBe(true);
    expect(await verifyRawWebCrypto(pub, msg, sig)).toBe(true);
    expect(wasVerified(pub, msg, sig)).toBe(true);
    expect(wasVerified(pub, utf8('cloister/change/v1 eve writes'), sig)).toBe(false);
    expect(wasVerified(ed25519.getPublicKey(new Uint8Array(32).fill(9)), msg, sig)).toBe(false);
  });

  it('the browser path agrees with a remembered verdict, and judges anything else itself', async () => {
    await verifyRawWebCrypto(pub, msg, sig);
    expect(verifyRaw(pub, msg, sig, 'noble')).toBe(true);
    expect(verifyRaw(pub, utf8('cloister/change/v1 eve writes'), sig, 'noble')).toBe(false);
  });

  it('a forgery is refused and not remembered; a non-canonical S is refused before WebCrypto sees it', async () => {
    const bad = sig.slice();
    bad[5]! ^= 1;
    expect(await verifyRawWebCrypto(pub, msg, bad)).toBe(false);
    expect(wasVerified(pub, msg, bad)).toBe(false);
    const sPlusL = sig.slice();
    // S + L (L = 2^252 + 27742317777372353535851937790883648493) is the same scalar, non-canonically encoded.
    let carry = 0;
    const Lbytes = [0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10];
    for (let i = 0; i < 32; i++) {
      const v = sPlusL[32 + i]! + Lbytes[i]! + carry;
      sPlusL[32 + i] = v & 0xff;
      carry = v >> 8;
    }
    expect(await verifyRawWebCrypto(pub, msg, sPlusL)).toBe(false);
  });
});
