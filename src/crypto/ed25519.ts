// Ed25519 signatures (RFC 8032), domain-separated and strictly verified.
// Node's native Ed25519 is ~20x faster than pure JS (DESIGN → Performance), so it is used where
// present; noble is the fallback (browser). Both reject what the other rejects: we pre-check
// non-canonical and small-order public keys and non-canonical S ourselves, and a test runs both
// paths over every Wycheproof vector.
import { ed25519 } from '@noble/curves/ed25519.js';
import { concat, equalBytes, randomBytes, toHex, utf8 } from './bytes.ts';
import type { Domain } from './domains.ts';
import { asKey, type PublicKey, type SigningSecretKey } from './keys.ts';

import { nodeCrypto } from './_platform.ts';

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

const strictKeyCache = new Map<string, boolean>();
/** A public key is usable when it decodes canonically and is not of small order. */
export function isStrictPublicKey(pub: Uint8Array): boolean {
  if (!(pub instanceof Uint8Array) || pub.length !== 32) return false;
  const id = toHex(pub);
  const cached = strictKeyCache.get(id);
  if (cached !== undefined) return cached;
  let strict: boolean;
  try {
    strict = !ed25519.Point.fromBytes(pub, false).isSmallOrder();
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

export function publicKeyOf(secretKey: SigningSecretKey): PublicKey {
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

/** Strict verification: canonical, non-small-order key; canonical S; cofactorless equation. Never throws. */
export function verifyRaw(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array, impl: Ed25519Impl = ED25519_IMPL): boolean {
  if (!(signature instanceof Uint8Array) || signature.length !== 64 || !sIsCanonical(signature)) return false;
  if (!isStrictPublicKey(publicKey)) return false;
  try {
    if (impl === 'node' && nodeCrypto) return nodeCrypto.verify(null, message, nodePublicKey(publicKey), signature);
    return ed25519.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

function withDomain(domain: Domain, message: Uint8Array): Uint8Array {
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
