// Differential stories for Ed25519: the native path (Node's crypto, OpenSSL) and the browser path
// (noble) must give the same verdict on every input, and that verdict must be the strict one
// (DESIGN → Cryptography → Signatures). Inputs: the "Taming the many EdDSAs" vectors 0–11
// (test/vectors/taming-eddsa, from novifinancial/ed25519-speccheck), every Wycheproof Ed25519 case,
// and generated edge cases: R + T and A + T for each of the eight small-order points T, an identity
// R, non-canonical encodings, and seeded random corruptions.
import { ED25519_TORSION_SUBGROUP, ed25519 } from '@noble/curves/ed25519.js';
import { sha512 } from '@noble/hashes/sha2.js';
import fc from 'fast-check';
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { concat, fromHex, toHex, utf8 } from '../../src/crypto/bytes.ts';
import { ED25519_IMPL, isStrictPublicKey, verifyRaw } from '../../src/crypto/ed25519.ts';

const Point = ed25519.Point;
const L = Point.Fn.ORDER;
const p = (1n << 255n) - 19n;
const FC_SEED = 20261130;

const leToBig = (b: Uint8Array) => b.reduceRight((acc, x) => (acc << 8n) | BigInt(x), 0n);
const bigToLe = (n: bigint, len = 32) => {
  const out = new Uint8Array(len);
  for (let i = 0; i < len; i++, n >>= 8n) out[i] = Number(n & 0xffn);
  return out;
};
const mod = (n: bigint, m: bigint) => ((n % m) + m) % m;
const hx = (h: string) => fromHex(h)!;
/** RFC 8032 §5.1.7 step 2: k = SHA-512(R ‖ A ‖ M) mod L, over the bytes as given. */
const challenge = (r: Uint8Array, a: Uint8Array, msg: Uint8Array) => mod(leToBig(sha512(concat(r, a, msg))), L);

/**
 * The strict verdict, written independently of src/crypto/ed25519.ts from noble's point arithmetic:
 * S < L; A and R decode canonically; both are in the prime-order subgroup and not the identity;
 * and the cofactorless equation [S]B = R + [k]A holds.
 */
function strictVerdict(pub: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean {
  if (pub.length !== 32 || sig.length !== 64) return false;
  const S = leToBig(sig.subarray(32));
  if (S >= L) return false;
  let A, R;
  try {
    A = Point.fromBytes(pub, false);
    R = Point.fromBytes(sig.subarray(0, 32), false);
  } catch {
    return false;
  }
  for (const P of [A, R]) if (P.isSmallOrder() || !P.isTorsionFree()) return false;
  const k = challenge(sig.subarray(0, 32), pub, msg);
  return Point.BASE.multiplyUnsafe(S).equals(R.add(A.multiplyUnsafe(k)));
}

const paths = (pub: Uint8Array, msg: Uint8Array, sig: Uint8Array) => ({
  native: verifyRaw(pub, msg, sig, 'node'),
  browser: verifyRaw(pub, msg, sig, 'noble'),
  strict: strictVerdict(pub, msg, sig),
});

/** Node's verifier with no pre-checks of ours: what the native path would say on its own. */
function rawNative(pub: Uint8Array, msg: Uint8Array, sig: Uint8Array): boolean {
  try {
    const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), pub]);
    return nodeVerify(null, msg, createPublicKey({ key: spki, format: 'der', type: 'spki' }), sig);
  } catch {
    return false;
  }
}
/** noble's strict-mode verifier with no pre-checks of ours: what the browser path would say on its own. */
const rawBrowser = (pub: Uint8Array, msg: Uint8Array, sig: Uint8Array) => ed25519.verify(sig, msg, pub, { zip215: false });

/** A signer who knows the secret scalar a and may add torsion to A or R at will. */
function signer(label: string) {
  const { scalar: a } = ed25519.utils.getExtendedPublicKey(sha512(utf8(`cloister differential key ${label}`)).subarray(0, 32));
  let counter = 0;
  const nonce = () => mod(leToBig(sha512(utf8(`cloister differential nonce ${label} ${counter++}`))), L);
  return {
    a,
    /** Sign msg under the public encoding `pub` (A, or A + T), with R = [r]B + extra. */
    sign(pub: Uint8Array, msg: Uint8Array, opts: { r?: bigint; extra?: InstanceType<typeof Point> } = {}) {
      const r = opts.r ?? nonce();
      const base = r === 0n ? Point.ZERO : Point.BASE.multiply(r);
      const R = (opts.extra ? base.add(opts.extra) : base).toBytes();
      const S = mod(r + challenge(R, pub, msg) * a, L);
      return concat(R, bigToLe(S));
    },
    nonce,
  };
}

const torsion = ED25519_TORSION_SUBGROUP.map((h) => Point.fromHex(h));
/** Order of a small-order point: the least n in {1, 2, 4, 8} with [n]T = identity. */
const orderOf = (T: InstanceType<typeof Point>) => [1n, 2n, 4n, 8n].find((n) => T.multiplyUnsafe(n).is0())!;

interface TamingCase {
  number: number;
  message: string;
  pub_key: string;
  signature: string;
  comment: string;
  strict_verdict: boolean;
  refused_because: string;
}
const taming = JSON.parse(readFileSync(new URL('../vectors/taming-eddsa/cases.json', import.meta.url), 'utf8')) as {
  source: { commit: string };
  cases: TamingCase[];
};

describe('Ed25519: one behaviour on the native and the browser path', () => {
  it('the native path really is the native one in this test run', () => {
    expect(ED25519_IMPL).toBe('node');
  });

  it('every "Taming the many EdDSAs" vector (cases 0–11) is refused by both the native and the browser path', () => {
    expect(taming.cases.map((c) => c.number)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    for (const c of taming.cases) {
      const got = paths(hx(c.pub_key), hx(c.message), hx(c.signature));
      expect(got, `case ${c.number}: ${c.comment}`).toEqual({ native: false, browser: false, strict: c.strict_verdict });
    }
  });

  it('the Taming vectors have teeth: without our pre-checks, native accepts a small-order key and the two paths split on the cofactored cases 4 and 5', () => {
    const c = (n: number) => taming.cases[n]!;
    const args = (n: number) => [hx(c(n).pub_key), hx(c(n).message), hx(c(n).signature)] as const;
    // Case 0: small-order A and R, S = 0. OpenSSL checks neither, and the equation holds.
    expect(rawNative(...args(0))).toBe(true);
    // Cases 4 and 5 pass the cofactored equation only: noble's (cofactored) says yes, OpenSSL's no.
    for (const n of [4, 5]) {
      expect(rawBrowser(...args(n)), `case ${n}`).toBe(true);
      expect(rawNative(...args(n)), `case ${n}`).toBe(false);
    }
  });

  it('on every Wycheproof Ed25519 case, native, browser and the strict reference give one verdict', () => {
    const file = JSON.parse(readFileSync(new URL('../vectors/wycheproof/ed25519_test.json', import.meta.url), 'utf8')) as {
      numberOfTests: number;
      testGroups: { publicKey: { pk: string }; tests: { tcId: number; msg: string; sig: string; result: string }[] }[];
    };
    const disagreements: string[] = [];
    let ran = 0;
    for (const g of file.testGroups) {
      for (const t of g.tests) {
        ran++;
        const got = paths(hx(g.publicKey.pk), hx(t.msg), hx(t.sig));
        const want = t.result === 'valid';
        if (got.native !== want || got.browser !== want || got.strict !== want) {
          disagreements.push(`tcId ${t.tcId} (${t.result}): ${JSON.stringify(got)}`);
        }
      }
    }
    expect(disagreements).toEqual([]);
    expect(ran).toBe(file.numberOfTests);
  });

  it('a signature with a torsion component in R (R + T, for each of the eight small-order T) is refused by both the native and the browser path', () => {
    const alice = signer('alice');
    const pub = Point.BASE.multiply(alice.a).toBytes();
    const msg = utf8('cloister/change/v1 torsion in R');
    for (const [i, T] of torsion.entries()) {
      const sig = alice.sign(pub, msg, { extra: T });
      const got = paths(pub, msg, sig);
      if (T.is0()) {
        // The control: T = identity is an honest signature.
        expect(got, `T${i}`).toEqual({ native: true, browser: true, strict: true });
        continue;
      }
      expect(got, `T${i} = ${ED25519_TORSION_SUBGROUP[i]}`).toEqual({ native: false, browser: false, strict: false });
      // Why the browser path needs [L]R = 0: noble's cofactored equation alone accepts it.
      expect(rawBrowser(pub, msg, sig), `T${i}`).toBe(true);
      // And why the native path doesn't: the cofactorless equation already fails (A is torsion-free).
      expect(rawNative(pub, msg, sig), `T${i}`).toBe(false);
    }
  });

  it('a small-order R (nonce zero plus T) is refused by both paths, including R = identity, which the cofactorless equation alone accepts', () => {
    const alice = signer('alice-r0');
    const pub = Point.BASE.multiply(alice.a).toBytes();
    const msg = utf8('cloister/change/v1 zero nonce');
    for (const [i, T] of torsion.entries()) {
      const sig = alice.sign(pub, msg, { r: 0n, extra: T });
      expect(sig.subarray(0, 32)).toEqual(hx(ED25519_TORSION_SUBGROUP[i]!));
      expect(paths(pub, msg, sig), `T${i}`).toEqual({ native: false, browser: false, strict: false });
      expect(rawBrowser(pub, msg, sig), `T${i}`).toBe(true);
      // R = identity, S = k·a satisfies [S]B = R + [k]A exactly: the one small-order R that a
      // cofactorless verifier with a torsion-free A still accepts, so it is refused by encoding.
      expect(rawNative(pub, msg, sig), `T${i}`).toBe(T.is0());
    }
  });

  it("a mixed-order public key (A + T) is refused by both paths, even with a signature whose cofactorless equation holds, which native alone accepts", () => {
    const mallory = signer('mallory');
    const A = Point.BASE.multiply(mallory.a);
    expect(isStrictPublicKey(A.toBytes())).toBe(true);
    for (const [i, T] of torsion.entries()) {
      if (T.is0()) continue;
      const pub = A.add(T).toBytes();
      expect(isStrictPublicKey(pub), `T${i}`).toBe(false);
      const msg = utf8(`cloister/change/v1 mixed key ${i}`);
      // Cofactored-only: R = [r]B. noble alone accepts it.
      const cofactored = mallory.sign(pub, msg);
      expect(paths(pub, msg, cofactored), `T${i} cofactored`).toEqual({ native: false, browser: false, strict: false });
      expect(rawBrowser(pub, msg, cofactored), `T${i}`).toBe(true);
      // Cofactorless-valid: R = [r]B - T, kept only when k ≡ 1 (mod ord T), so R + [k](A + T) = [S]B.
      const n = orderOf(T);
      let sig: Uint8Array | undefined;
      for (let tries = 0; tries < 400 && !sig; tries++) {
        const cand = mallory.sign(pub, msg, { extra: T.negate() });
        if (mod(challenge(cand.subarray(0, 32), pub, msg), n) === 1n) sig = cand;
      }
      expect(sig, `T${i}: no cofactorless signature found`).toBeDefined();
      expect(rawNative(pub, msg, sig!), `T${i}`).toBe(true);
      expect(paths(pub, msg, sig!), `T${i} cofactorless`).toEqual({ native: false, browser: false, strict: false });
    }
  });

  it('non-canonical encodings of R (y ≥ p, or x = 0 with the sign bit) and of A are refused by both paths', () => {
    const alice = signer('alice-enc');
    const pub = Point.BASE.multiply(alice.a).toBytes();
    const msg = utf8('cloister/change/v1 encodings');
    const good = alice.sign(pub, msg);
    expect(paths(pub, msg, good)).toEqual({ native: true, browser: true, strict: true });
    const nonCanonical: Uint8Array[] = [];
    // y + p for every y < 19, with both sign bits (some are points under ZIP-215's lenient decoding,
    // some are not points at all); and y ∈ {1, p - 1}, where x = 0, with the sign bit x_0 = 1.
    for (let y = 0n; y < 19n; y++) for (const sign of [0n, 1n << 255n]) nonCanonical.push(bigToLe(y + p + sign));
    nonCanonical.push(bigToLe(1n + (1n << 255n)), bigToLe(p - 1n + (1n << 255n)));
    const lenientPoints = nonCanonical.filter((enc) => {
      try {
        return !!Point.fromBytes(enc, true);
      } catch {
        return false;
      }
    });
    expect(lenientPoints.length).toBeGreaterThan(4);
    for (const enc of nonCanonical) {
      const asR = concat(enc, good.subarray(32));
      expect(paths(pub, msg, asR), `R = ${toHex(enc)}`).toEqual({ native: false, browser: false, strict: false });
      expect(isStrictPublicKey(enc), `A = ${toHex(enc)}`).toBe(false);
      expect(paths(enc, msg, good), `A = ${toHex(enc)}`).toEqual({ native: false, browser: false, strict: false });
    }
    // S ≥ L: S + L and S = L.
    const S = leToBig(good.subarray(32));
    for (const s of [S + L, L, (1n << 256n) - 1n]) {
      const sig = concat(good.subarray(0, 32), bigToLe(s));
      expect(paths(pub, msg, sig), `S = ${s}`).toEqual({ native: false, browser: false, strict: false });
    }
  });

  it(`random corruptions of honest signatures and keys get one verdict from native, browser and the strict reference (fast-check seed ${FC_SEED})`, () => {
    const alice = signer('alice-fc');
    const A = Point.BASE.multiply(alice.a);
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 64 }),
        fc.integer({ min: 0, max: 7 }),
        fc.integer({ min: 0, max: 7 }),
        fc.constantFrom('none', 'flip-sig', 'flip-key', 'random-r', 'random-key'),
        fc.integer({ min: 0, max: 767 }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        (msg, tR, tA, corruption, bit, junk) => {
          const pub = A.add(torsion[tA]!).toBytes();
          const sig = alice.sign(pub, msg, { extra: torsion[tR]! });
          let key = pub;
          if (corruption === 'flip-sig') sig[bit % 512 >> 3]! ^= 1 << (bit & 7);
          if (corruption === 'flip-key') (key = pub.slice())[bit % 256 >> 3]! ^= 1 << (bit & 7);
          if (corruption === 'random-r') sig.set(junk, 0);
          if (corruption === 'random-key') key = junk;
          const got = paths(key, msg, sig);
          expect(got.native).toBe(got.strict);
          expect(got.browser).toBe(got.strict);
          // Untouched, the verdict is yes exactly when neither R nor A carries torsion.
          if (corruption === 'none') expect(got.strict).toBe(tR === 0 && tA === 0);
        },
      ),
      { seed: FC_SEED, numRuns: 300 },
    );
  });
});
