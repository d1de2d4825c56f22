// XChaCha20-Poly1305 with a key commitment (DESIGN → Cryptography).
// The nonce is random and made here, never by callers. The commitment
// HMAC-SHA256(key, "cloister/aead-commitment/v1" ‖ nonce) is checked before decryption, so a
// ciphertext can't be opened under a second key (Poly1305 alone is not key-committing).
import { xchacha20poly1305 as nobleXChaCha20Poly1305 } from '@noble/ciphers/chacha.js';
import { ByteWriter, concat, equalBytes, randomNonce, utf8 } from './bytes.ts';
import { DOMAIN, type Domain } from './domains.ts';
import { hmacSha256 } from './sha256.ts';
// Native ChaCha20-Poly1305 on Node (noble HChaCha20 subkey), noble elsewhere; byte-identical (tested).
import { xchacha20poly1305 } from './xchachaNative.ts';
import type { AeadKey } from './keys.ts';
import { fail, ok, type Result } from './result.ts';

export const AEAD_VERSION = 1;
export const NONCE_BYTES = 24;
export const COMMITMENT_BYTES = 32;
export const TAG_BYTES = 16;
const SEALED_HEADER = 1 + NONCE_BYTES + COMMITMENT_BYTES;

export interface Sealed {
  nonce: Uint8Array;
  commitment: Uint8Array;
  ciphertext: Uint8Array; // includes the 16-byte Poly1305 tag
}

export type AeadFailure = 'aead_malformed' | 'aead_wrong_key' | 'aead_auth_failed';

function commitmentFor(key: AeadKey, nonce: Uint8Array): Uint8Array {
  return hmacSha256(key, concat(utf8(DOMAIN.commitment), nonce));
}

/** Associated data always starts with the domain string and the format version. */
function fullAd(domain: Domain, ad: Uint8Array): Uint8Array {
  return new ByteWriter().string(domain).u8(AEAD_VERSION).bytes(ad).finish();
}

export function seal(key: AeadKey, plaintext: Uint8Array, domain: Domain, ad: Uint8Array = new Uint8Array()): Sealed {
  const nonce = randomNonce(NONCE_BYTES);
  const ciphertext = xchacha20poly1305(key, nonce, fullAd(domain, ad)).encrypt(plaintext);
  return { nonce, commitment: commitmentFor(key, nonce), ciphertext };
}

export function open(key: AeadKey, sealed: Sealed, domain: Domain, ad: Uint8Array = new Uint8Array()): Result<Uint8Array, AeadFailure> {
  if (sealed.nonce.length !== NONCE_BYTES || sealed.commitment.length !== COMMITMENT_BYTES || sealed.ciphertext.length < TAG_BYTES)
    return fail('aead_malformed');
  if (!equalBytes(commitmentFor(key, sealed.nonce), sealed.commitment)) return fail('aead_wrong_key');
  try {
    return ok(xchacha20poly1305(key, sealed.nonce, fullAd(domain, ad)).decrypt(sealed.ciphertext));
  } catch {
    return fail('aead_auth_failed');
  }
}

/** version(1) ‖ nonce(24) ‖ commitment(32) ‖ ciphertext+tag */
export function encodeSealed(s: Sealed): Uint8Array {
  return concat(Uint8Array.of(AEAD_VERSION), s.nonce, s.commitment, s.ciphertext);
}

export function decodeSealed(bytes: Uint8Array): Result<Sealed, 'aead_malformed'> {
  if (bytes.length < SEALED_HEADER + TAG_BYTES || bytes[0] !== AEAD_VERSION) return fail('aead_malformed');
  return ok({
    nonce: bytes.subarray(1, 1 + NONCE_BYTES),
    commitment: bytes.subarray(1 + NONCE_BYTES, SEALED_HEADER),
    ciphertext: bytes.subarray(SEALED_HEADER),
  });
}

export function sealBytes(key: AeadKey, plaintext: Uint8Array, domain: Domain, ad?: Uint8Array): Uint8Array {
  return encodeSealed(seal(key, plaintext, domain, ad));
}

export function openBytes(key: AeadKey, bytes: Uint8Array, domain: Domain, ad?: Uint8Array): Result<Uint8Array, AeadFailure> {
  const d = decodeSealed(bytes);
  return d.ok ? open(key, d.value, domain, ad) : d;
}

/** Raw XChaCha20-Poly1305 without commitment or domain, for Wycheproof vector tests only. */
export const rawXChaCha20Poly1305 = nobleXChaCha20Poly1305;
