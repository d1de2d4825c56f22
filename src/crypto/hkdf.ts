// HKDF-SHA256 subkeys (RFC 5869), one purpose per key; info strings live in domains.ts.
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { hmac } from '@noble/hashes/hmac.js';
import { asKey, type Key } from './keys.ts';
import { concat, utf8 } from './bytes.ts';
import type { Info } from './domains.ts';

/** Raw HKDF-SHA256, exposed for vector tests. */
export function hkdfSha256(ikm: Uint8Array, salt: Uint8Array | undefined, info: Uint8Array, length: number): Uint8Array {
  return hkdf(sha256, ikm, salt, info, length);
}

/** Derive a 32-byte subkey for one named purpose, optionally bound to a context (e.g. a doc id). */
export function deriveSubkey<K extends Key<string>>(parent: Uint8Array, info: Info, context: Uint8Array = new Uint8Array()): K {
  return asKey<K>(hkdf(sha256, parent, undefined, concat(utf8(info), Uint8Array.of(0), context), 32));
}

export function hmacSha256(key: Uint8Array, message: Uint8Array): Uint8Array {
  return hmac(sha256, key, message);
}

export { sha256 };
