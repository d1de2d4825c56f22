// Stories for Ed25519: domain separation, strict verification (small-order keys, non-canonical S and
// keys) on both the native node path and the noble path, and that the two paths are interchangeable.
import { ed25519 } from '@noble/curves/ed25519.js';
import fc from 'fast-check';
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { concat, fromHex, randomBytes, toHex, utf8 } from '../../src/crypto/bytes.ts';
import { DOMAIN } from '../../src/crypto/domains.ts';
import {
  generateSigningKey,
  isStrictPublicKey,
  publicKeyOf,
  sign,
  signRaw,
  verify,
  verifyRaw,
  type Ed25519Impl,
} from '../../src/crypto/ed25519.ts';
import { asKey, type DeviceSigningKey } from '../../src/crypto/keys.ts';

const IMPLS: Ed25519Impl[] = ['node', 'noble'];
const FC_SEED = 20261127;

// The eight points of small order (the 8-torsion subgroup), including two sign-bit variants.
const SMALL_ORDER = [
  '0100000000000000000000000000000000000000000000000000000000000000', // identity
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', // order 2
  '0000000000000000000000000000000000000000000000000000000000000000', // order 4
  '0000000000000000000000000000000000000000000000000000000000000080', // order 4
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', // order 8
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa', // order 8
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05', // order 8
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85', // order 8
];
const L = (1n << 252n) + 27742317777372353535851937790883648493n;

const leToBig = (b: Uint8Array) => b.reduceRight((acc, x) => (acc << 8n) | BigInt(x), 0n);
const bigToLe = (n: bigint, len: number) => {
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++, n >>= 8n) out[i] = Number(n & 0xffn);
  return out;
};

describe('Ed25519 signatures', () => {
  it('alice signs a change; it verifies under her key on both paths', () => {
    const alice = generateSigningKey<DeviceSigningKey>();
    const msg = utf8('change #1');
    const sig = sign(alice.secretKey, DOMAIN.change, msg);
    expect(verify(alice.publicKey, DOMAIN.change, msg, sig)).toBe(true);
    const signed = concat(utf8(DOMAIN.change), Uint8Array.of(0), msg);
    for (const impl of IMPLS) expect(verifyRaw(alice.publicKey, signed, sig, impl)).toBe(true);
  });

  it('a signature from one domain does not verify in another', () => {
    const alice = generateSigningKey<DeviceSigningKey>();
    const msg = utf8('bob is an admin');
    const sig = sign(alice.secretKey, DOMAIN.change, msg);
    for (const other of [DOMAIN.membership, DOMAIN.lease, DOMAIN.relayChallenge, DOMAIN.invitationProof]) {
      expect(verify(alice.publicKey, other, msg, sig), other).toBe(false);
    }
    // nor as a raw signature over the bare message
    for (const impl of IMPLS) expect(verifyRaw(alice.publicKey, msg, sig, impl)).toBe(false);
  });

  it("eve's key does not verify alice's signature, and a changed message does not verify", () => {
    const alice = generateSigningKey<DeviceSigningKey>();
    const eve = generateSigningKey<DeviceSigningKey>();
    const sig = sign(alice.secretKey, DOMAIN.change, utf8('pay 10'));
    expect(verify(eve.publicKey, DOMAIN.change, utf8('pay 10'), sig)).toBe(false);
    expect(verify(alice.publicKey, DOMAIN.change, utf8('pay 1000'), sig)).toBe(false);
  });

  it('a small-order public key is refused by both implementations, even with a signature raw node would accept', () => {
    // R = identity, S = 0 satisfies [S]B = R + [k]A for A = identity: a "signature" on any message.
    const forged = fromHex('01' + '00'.repeat(63))!;
    const msg = utf8('eve forges anything');
    const identity = fromHex(SMALL_ORDER[0]!)!;
    // Why we pre-check: node's native verifier alone accepts this forgery.
    const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), identity]);
    expect(nodeVerify(null, msg, createPublicKey({ key: spki, format: 'der', type: 'spki' }), forged)).toBe(true);
    for (const h of SMALL_ORDER) {
      const pub = fromHex(h)!;
      expect(ed25519.Point.fromBytes(pub, false).isSmallOrder(), h).toBe(true);
      expect(isStrictPublicKey(pub), h).toBe(false);
      for (const impl of IMPLS) expect(verifyRaw(pub, msg, forged, impl), `${impl} ${h}`).toBe(false);
    }
  });

  it('a non-canonical S (S + L) is refused by both implementations', () => {
    const alice = generateSigningKey<DeviceSigningKey>();
    const msg = utf8('non-malleable');
    const sig = signRaw(alice.secretKey, msg);
    const s = leToBig(sig.subarray(32));
    const malleated = concat(sig.subarray(0, 32), bigToLe(s + L, 32));
    expect(s + L < 1n << 256n).toBe(true);
    for (const impl of IMPLS) {
      expect(verifyRaw(alice.publicKey, msg, sig, impl)).toBe(true);
      expect(verifyRaw(alice.publicKey, msg, malleated, impl), impl).toBe(false);
    }
    // S = L exactly is also out of range
    const sEqualsL = concat(sig.subarray(0, 32), bigToLe(L, 32));
    for (const impl of IMPLS) expect(verifyRaw(alice.publicKey, msg, sEqualsL, impl)).toBe(false);
  });

  it('a non-canonical public key encoding (y ≥ p) is refused', () => {
    // y = p + 1 encodes the identity non-canonically; y = 2^255 - 1 is ≥ p too.
    const p = (1n << 255n) - 19n;
    for (const y of [p, p + 1n, p + 2n, (1n << 255n) - 1n]) {
      const pub = bigToLe(y, 32);
      expect(isStrictPublicKey(pub), y.toString(16)).toBe(false);
      for (const impl of IMPLS) expect(verifyRaw(pub, utf8('x'), new Uint8Array(64), impl)).toBe(false);
    }
  });

  it('verification never throws on garbage: wrong lengths, empty input, non-bytes', () => {
    const alice = generateSigningKey<DeviceSigningKey>();
    const sig = signRaw(alice.secretKey, utf8('m'));
    const bad: [unknown, unknown][] = [
      [alice.publicKey.subarray(1), sig],
      [alice.publicKey, sig.subarray(1)],
      [alice.publicKey, concat(sig, Uint8Array.of(0))],
      [new Uint8Array(), new Uint8Array()],
      ['not bytes', sig],
      [alice.publicKey, 'not bytes'],
      [null, undefined],
    ];
    for (const impl of IMPLS) {
      for (const [pub, s] of bad) {
        expect(() => verifyRaw(pub as Uint8Array, utf8('m'), s as Uint8Array, impl)).not.toThrow();
        expect(verifyRaw(pub as Uint8Array, utf8('m'), s as Uint8Array, impl)).toBe(false);
      }
    }
  });

  it(`node and noble produce identical signatures and accept each other's (fast-check seed ${FC_SEED})`, () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.uint8Array({ maxLength: 300 }), (seed, msg) => {
        const sk = asKey<DeviceSigningKey>(seed);
        const pub = publicKeyOf(sk);
        const a = signRaw(sk, msg, 'node');
        const b = signRaw(sk, msg, 'noble');
        expect(toHex(a)).toBe(toHex(b));
        for (const impl of IMPLS) expect(verifyRaw(pub, msg, a, impl)).toBe(true);
        const flipped = a.slice();
        flipped[msg.length % 64]! ^= 0x01;
        for (const impl of IMPLS) expect(verifyRaw(pub, msg, flipped, impl)).toBe(false);
      }),
      { seed: FC_SEED, numRuns: 200 },
    );
  });

  it('freshly generated keys are strict and distinct', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) {
      const k = generateSigningKey<DeviceSigningKey>();
      expect(isStrictPublicKey(k.publicKey)).toBe(true);
      seen.add(toHex(k.publicKey));
    }
    expect(seen.size).toBe(50);
    expect(isStrictPublicKey(randomBytes(31))).toBe(false);
  });
});
