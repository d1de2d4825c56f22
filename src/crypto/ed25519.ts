// Ed25519 signatures (RFC 8032), domain-separated and strictly verified.
// Node's native Ed25519 is ~20x faster than pure JS (DESIGN → Performance), so it is used where
// present; noble is the fallback (browser). Both accept exactly the same set (DESIGN → Signatures):
// S < L, canonical A and R, A and R in the prime-order subgroup and not the identity, and the
// cofactorless equation [S]B = R + [k]A. Pinned by test/crypto/ed25519Differential.test.ts over the
// "Taming the many EdDSAs" vectors, Wycheproof and generated torsion and encoding edge cases.
// In the browser, WebCrypto's Ed25519 (ed25519WebCrypto.ts) verifies batches asynchronously behind the
// same pre-checks; the triples it accepted are remembered (_ed25519Verified.ts) and found here.
import { ed25519 } from '@noble/curves/ed25519.js';
import { concat, equalBytes, fromHex, randomBytes, toHex, utf8 } from './bytes.ts';
import type { Domain } from './domains.ts';
import { asKey, type PublicKey, type SigningSecretKey } from './keys.ts';

import { nodeCrypto } from './_platform.ts';
import { wasVerified } from './_ed25519Verified.ts';

const SPKI_PREFIX = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00]);
const PKCS8_PREFIX = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20]);

// Group order L, little-endian, for the canonical-S check (RFC 8032 §5.1.7 step 1).
const L = [0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10];

function sIsCanonical(sig: Uint8Array): boolean {
  for (let i = 31; i >= 0; i--) {
    const s = sig[32 + i]!;
    if (s < L[i]!) return true;
    if (s > L[i]!) return false;
  }
  return false; // S == L
}

// y-coordinates (sign bit cleared) of the eight small-order points: 1 (identity), p-1 (order 2),
// 0 (order 4) and the two of order 8. Each x sign-bit variant is small-order, or is x = 0 with
// x_0 = 1, which RFC 8032 §5.1.3 step 4 refuses as non-canonical.
const SMALL_ORDER_Y = [
  '0100000000000000000000000000000000000000000000000000000000000000',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  '0000000000000000000000000000000000000000000000000000000000000000',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
].map((h) => fromHex(h)!);

/**
 * Is R (the signature's first half) canonical and not of small order? Byte comparisons only: y < p
 * (RFC 8032 §5.1.3 step 1), and y is none of the small-order points' (which also covers x = 0 with
 * x_0 = 1). Whether R decodes at all, and its torsion, are left to the verifiers (see verifyRaw).
 */
function rIsCanonicalAndLarge(sig: Uint8Array): boolean {
  const top = sig[31]! & 0x7f;
  // y ≥ p = 2^255 - 19 ⇔ top byte 0x7f, bytes 30..1 all 0xff, byte 0 ≥ 0xed.
  if (top === 0x7f && sig[0]! >= 0xed) {
    let allFf = true;
    for (let i = 1; i < 31 && allFf; i++) allFf = sig[i] === 0xff;
    if (allFf) return false;
  }
  for (const y of SMALL_ORDER_Y) {
    let same = top === y[31];
    for (let i = 0; i < 31 && same; i++) same = sig[i] === y[i];
    if (same) return false;
  }
  return true;
}

const strictKeyCache = new Map<string, boolean>();
/**
 * Is this a usable public key? It must decode canonically (RFC 8032 §5.1.3, no ZIP-215 leniency) to a
 * point of the prime-order subgroup other than the identity: no small-order and no mixed-order key.
 * The subgroup check ([L]A = identity) costs a scalar multiplication, so verdicts are cached per key.
 */
export function isStrictPublicKey(pub: Uint8Array): boolean {
  if (!(pub instanceof Uint8Array) || pub.length !== 32) return false;
  const id = toHex(pub);
  const cached = strictKeyCache.get(id);
  if (cached !== undefined) return cached;
  let strict: boolean;
  try {
    const A = ed25519.Point.fromBytes(pub, false);
    strict = !A.isSmallOrder() && A.isTorsionFree();
  } catch {
    strict = false;
  }
  if (strictKeyCache.size > 10_000) strictKeyCache.clear();
  strictKeyCache.set(id, strict);
  return strict;
}

export type Ed25519Impl = 'node' | 'noble';
export const ED25519_IMPL: Ed25519Impl = nodeCrypto ? 'node' : 'noble';

export function generateSigningKey<K extends SigningSecretKey>(): { secretKey: K; publicKey: PublicKey } {
  const secretKey = asKey<K>(randomBytes(32));
  return { secretKey, publicKey: ed25519.getPublicKey(secretKey) };
}

export function publicKeyOf(secretKey: SigningSecretKey, impl: Ed25519Impl = ED25519_IMPL): PublicKey {
  // Native: ~0.1 ms instead of noble's ~20 ms cold (its first scalar multiplication builds tables),
  // which every unlock pays.
  if (impl === 'node' && nodeCrypto) {
    const spki = nodeCrypto.createPublicKey(nodePrivateKey(secretKey)).export({ format: 'der', type: 'spki' });
    return new Uint8Array(spki.subarray(SPKI_PREFIX.length));
  }
  return ed25519.getPublicKey(secretKey);
}

const pubKeyCache = new Map<string, import('node:crypto').KeyObject>();
function nodePublicKey(pub: Uint8Array) {
  const id = toHex(pub);
  let k = pubKeyCache.get(id);
  if (!k) {
    k = nodeCrypto!.createPublicKey({ key: Buffer.from(concat(SPKI_PREFIX, pub)), format: 'der', type: 'spki' });
    if (pubKeyCache.size > 10_000) pubKeyCache.clear();
    pubKeyCache.set(id, k);
  }
  return k;
}

// Importing the key costs ~300 µs, signing ~40 µs (DESIGN → Performance: a flush signs every ~100 ms).
// Cached per secret-key array; the copy check makes a wiped or reused array re-import.
const privKeyCache = new WeakMap<Uint8Array, { seed: Uint8Array; key: import('node:crypto').KeyObject }>();
function nodePrivateKey(secretKey: SigningSecretKey) {
  const hit = privKeyCache.get(secretKey);
  if (hit && equalBytes(hit.seed, secretKey)) return hit.key;
  const key = nodeCrypto!.createPrivateKey({ key: Buffer.from(concat(PKCS8_PREFIX, secretKey)), format: 'der', type: 'pkcs8' });
  privKeyCache.set(secretKey, { seed: secretKey.slice(), key });
  return key;
}

/** Raw Ed25519 signature over exactly `message` (no domain), for vector tests and the two paths. */
export function signRaw(secretKey: SigningSecretKey, message: Uint8Array, impl: Ed25519Impl = ED25519_IMPL): Uint8Array {
  if (impl === 'node' && nodeCrypto) return new Uint8Array(nodeCrypto.sign(null, message, nodePrivateKey(secretKey)));
  return ed25519.sign(message, secretKey);
}

/**
 * The checks every path makes before its own verifier (see verifyRaw): a 64-byte signature with
 * S < L and R canonical and not small-order, and a strict public key. Shared with the WebCrypto path.
 */
export function passesStrictPrechecks(publicKey: Uint8Array, signature: Uint8Array): boolean {
  if (!(signature instanceof Uint8Array) || signature.length !== 64 || !sIsCanonical(signature)) return false;
  if (!rIsCanonicalAndLarge(signature)) return false;
  return isStrictPublicKey(publicKey);
}

/**
 * Strict verification, the same verdict on both paths (DESIGN → Signatures). Never throws.
 *
 * Checked here for both: S < L, a strict key (isStrictPublicKey), R canonical and not small-order.
 * What is left is R's torsion. Node (OpenSSL) checks the cofactorless equation by re-encoding
 * [S]B - [k]A and comparing bytes with R; with A in the prime-order subgroup that point is in it too,
 * so a torsioned R can never match, and its [L]R check would only add cost. noble checks the
 * cofactored equation [8]([S]B - R - [k]A) = 0, which a torsioned R passes, so there we also check
 * [L]R = 0. With A and R both torsion-free the two equations are equivalent.
 */
export function verifyRaw(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array, impl: Ed25519Impl = ED25519_IMPL): boolean {
  if (!passesStrictPrechecks(publicKey, signature)) return false;
  try {
    if (impl === 'node' && nodeCrypto) return nodeCrypto.verify(null, message, nodePublicKey(publicKey), signature);
    // Accepted already by WebCrypto behind the same pre-checks (verifyRawWebCrypto): noble would agree.
    if (wasVerified(publicKey, message, signature)) return true;
    // The equation first: a forgery or garbage costs one verification, not that plus [L]R.
    if (!ed25519.verify(signature, message, publicKey, { zip215: false })) return false;
    return ed25519.Point.fromBytes(signature.subarray(0, 32), false).isTorsionFree();
  } catch {
    return false;
  }
}

export function withDomain(domain: Domain, message: Uint8Array): Uint8Array {
  const d = utf8(domain);
  return concat(d, Uint8Array.of(0), message);
}

/** Sign `message` under a domain string: the signed bytes are domain ‖ 0x00 ‖ message. */
export function sign(secretKey: SigningSecretKey, domain: Domain, message: Uint8Array): Uint8Array {
  return signRaw(secretKey, withDomain(domain, message));
}

export function verify(publicKey: PublicKey, domain: Domain, message: Uint8Array, signature: Uint8Array): boolean {
  return verifyRaw(publicKey, withDomain(domain, message), signature);
}
