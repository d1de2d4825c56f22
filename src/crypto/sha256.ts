// SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104): Node's native implementation where it exists,
// noble elsewhere (browser); byte-identical (test/crypto/sha256.test.ts). Storage names, AEAD key
// commitments and envelope hashes call these thousands of times per sync pass, and native is ~10×
// noble on these small inputs (DESIGN → Performance).
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { nodeCrypto } from './_platform.ts';
import { toHex } from './bytes.ts';

export type HashImpl = 'node' | 'noble';
export const HASH_IMPL: HashImpl = nodeCrypto ? 'node' : 'noble';

const asBytes = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

export function sha256(message: Uint8Array, impl: HashImpl = HASH_IMPL): Uint8Array {
  if (impl === 'node' && nodeCrypto) return asBytes(nodeCrypto.createHash('sha256').update(message).digest());
  return nobleSha256(message);
}

// Importing the key on each call costs about half of a native HMAC of a short message, so the imported
// key is kept per key array. The check that the array still holds that key (a wiped or reused array
// imports again) compares SHA-256 fingerprints: no copy of the key is kept beside the array.
const hmacKeys = new WeakMap<Uint8Array, { check: string; key: import('node:crypto').KeyObject }>();
function nodeHmacKey(key: Uint8Array) {
  const check = keyFingerprint(key);
  const hit = hmacKeys.get(key);
  if (hit && hit.check === check) return hit.key;
  const imported = nodeCrypto!.createSecretKey(key);
  hmacKeys.set(key, { check, key: imported });
  return imported;
}

/** SHA-256 of a key, for telling whether a key array still holds the key a cache was made for. */
export function keyFingerprint(key: Uint8Array): string {
  return toHex(sha256(key));
}

export function hmacSha256(key: Uint8Array, message: Uint8Array, impl: HashImpl = HASH_IMPL): Uint8Array {
  if (impl === 'node' && nodeCrypto) return asBytes(nodeCrypto.createHmac('sha256', key.length > 0 ? nodeHmacKey(key) : key).update(message).digest());
  return hmac(nobleSha256, key, message);
}
