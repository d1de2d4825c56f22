// Identifiers derived from keys: deviceId = a hash of the signing public key (DESIGN → Keys).
import { sha256 } from './sha256.ts';
import { concat, toBase64url, utf8 } from './bytes.ts';
import { DOMAIN } from './domains.ts';
import type { PublicKey } from './keys.ts';

/** deviceId = base64url(SHA-256("cloister/device-id/v1" ‖ signingPub)[0..16]) */
export function deviceIdOf(signingPub: PublicKey): string {
  return toBase64url(sha256(concat(utf8(DOMAIN.deviceId), signingPub)).subarray(0, 16));
}

/** A random 128-bit identifier, base64url. */
export function randomId(bytes: Uint8Array): string {
  return toBase64url(bytes);
}
