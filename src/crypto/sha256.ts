// SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104): Node's native implementation where it exists,
// noble elsewhere (browser); byte-identical (test/crypto/sha256.test.ts). Storage names, AEAD key
// commitments and envelope hashes call these thousands of times per sync pass, and native is ~10×
// noble on these small inputs (DESIGN → Performance).
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { nodeCrypto } from './_platform.ts';

export type HashImpl = 'node' | 'noble';
export const HASH_IMPL: HashImpl = nodeCrypto ? 'node' : 'noble';

const asBytes = (b: Buffer): Uint8Array => new Uint8Array(b.buffer, b.byteOffset, b.byteLength);

export function sha256(message: Uint8Array, impl: HashImpl = HASH_IMPL): Uint8Array {
  if (impl === 'node' && nodeCrypto) return asBytes(nodeCrypto.createHash('sha256').update(message).digest());
  return nobleSha256(message);
}

// Importing the key on each call costs about half of a native HMAC of a short message. Cached per key
// array; the copy check makes a wiped or reused array import again (as ed25519.ts does).
const hmacKeys = new WeakMap<Uint8Array, { copy: Uint8Array; key: import('node:crypto').KeyObject }>();
function nodeHmacKey(key: Uint8Array) {
  const hit = hmacKeys.get(key);
  if (hit && hit.copy.length === key.length && nodeCrypto!.timingSafeEqual(hit.copy, key)) return hit.key;
  const imported = nodeCrypto!.createSecretKey(key);
  hmacKeys.set(key, { copy: key.slice(), key: imported });
  return imported;
}

export function hmacSha256(key: Uint8Array, message: Uint8Array, impl: HashImpl = HASH_IMPL): Uint8Array {
  if (impl === 'node' && nodeCrypto) return asBytes(nodeCrypto.createHmac('sha256', key.length > 0 ? nodeHmacKey(key) : key).update(message).digest());
  return hmac(nobleSha256, key, message);
}
