// Actor binding (DESIGN → Documents and changes): a session's Automerge actor is derived from the
// device's signing key and a fresh per-session nonce, so two tabs or a restart never share an actor,
// and a receiver can recompute the actor from the signed envelope and refuse a forged one.
import { sha256 } from '../crypto/sha256.ts';
import { concat, randomBytes, toHex } from '../crypto/bytes.ts';
import type { PublicKey } from '../crypto/keys.ts';
import { SESSION_NONCE_BYTES } from '../protocol/envelope.ts';

/** actor = hex(SHA-256(devicePub ‖ sessionNonce)[0..16]) — Automerge actor ids are hex strings. */
export function actorFor(devicePub: PublicKey, sessionNonce: Uint8Array): string {
  if (sessionNonce.length !== SESSION_NONCE_BYTES) throw new RangeError(`sessionNonce must be ${SESSION_NONCE_BYTES} bytes`);
  return toHex(sha256(concat(devicePub, sessionNonce)).subarray(0, 16));
}

/** A fresh random session nonce; call once per session (process, tab). */
export const newSessionNonce = (): Uint8Array => randomBytes(SESSION_NONCE_BYTES);
