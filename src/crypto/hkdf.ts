// HKDF-SHA256 subkeys (RFC 5869), one purpose per key; info strings live in domains.ts.
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { asKey, type Key } from './keys.ts';
import { concat, utf8 } from './bytes.ts';
import type { Info } from './domains.ts';
import { nodeCrypto } from './_platform.ts';

/** Raw HKDF-SHA256, exposed for vector tests. */
export function hkdfSha256(ikm: Uint8Array, salt: Uint8Array | undefined, info: Uint8Array, length: number): Uint8Array {
  return hkdf(sha256, ikm, salt, info, length);
}

/** Derive a 32-byte subkey for one named purpose, optionally bound to a context (e.g. a doc id). */
export function deriveSubkey<K extends Key<string>>(parent: Uint8Array, info: Info, context: Uint8Array = new Uint8Array()): K {
  const infoBytes = concat(utf8(info), Uint8Array.of(0), context);
  // Native where it exists (Node caps info at 1,024 bytes); an absent salt is HashLen zero bytes
  // either way (RFC 5869 §2.2), so both give the same key (test/crypto/sha256.test.ts).
  if (nodeCrypto && infoBytes.length <= 1024) return asKey<K>(new Uint8Array(nodeCrypto.hkdfSync('sha256', parent, new Uint8Array(0), infoBytes, 32)));
  return asKey<K>(hkdf(sha256, parent, undefined, infoBytes, 32));
}

