// Relay authentication by signed challenge (DESIGN → Relay → Authentication).
// The relay issues challenge = version ‖ relayId ‖ nonce(32) ‖ time; the device signs
// DOMAIN.relayChallenge ‖ 0x00 ‖ challenge ‖ devicePub. The relay accepts a response only for the
// challenge it issued on that connection, once, and within CHALLENGE_MAX_AGE_MS of issuing it.
import { ByteReader, ByteWriter, equalBytes, toBase64url } from '../crypto/bytes.ts';
import { DOMAIN } from '../crypto/domains.ts';
import { sign, verify } from '../crypto/ed25519.ts';
import { deviceIdOf } from '../crypto/ids.ts';
import type { DeviceSigningKey, PublicKey, SigningSecretKey } from '../crypto/keys.ts';
import { fail, ok, type Result } from '../crypto/result.ts';

export const CHALLENGE_VERSION = 1;
export const CHALLENGE_NONCE_BYTES = 32;
/** A response to a challenge older than this (by the relay's clock) is stale. */
export const CHALLENGE_MAX_AGE_MS = 60_000;

/** relayId = base64url of the relay's Ed25519 public key, so a client can check one against the other. */
export const relayIdOf = (relayPub: Uint8Array): string => toBase64url(relayPub);

export interface Challenge {
  relayId: string;
  nonce: Uint8Array;
  /** The relay's time when it issued the challenge, ms. */
  time: number;
}

export type ChallengeFailure =
  | 'auth_malformed'
  | 'auth_wrong_relay'
  | 'auth_wrong_challenge'
  | 'auth_stale'
  | 'auth_replayed'
  | 'auth_bad_signature'
  | 'auth_wrong_device_id';

export function encodeChallenge(c: Challenge): Uint8Array {
  if (c.nonce.length !== CHALLENGE_NONCE_BYTES) throw new RangeError('challenge nonce must be 32 bytes');
  return new ByteWriter().u8(CHALLENGE_VERSION).string(c.relayId).raw(c.nonce).u64(c.time).finish();
}

export function decodeChallenge(bytes: Uint8Array): Result<Challenge, 'auth_malformed'> {
  const r = new ByteReader(bytes);
  const version = r.u8();
  const relayId = r.string(256);
  const nonce = r.raw(CHALLENGE_NONCE_BYTES);
  const time = r.u64();
  if (version !== CHALLENGE_VERSION || relayId === undefined || !nonce || time === undefined || r.remaining !== 0)
    return fail('auth_malformed');
  return ok({ relayId, nonce: nonce.slice(), time });
}

/** Client side: is this challenge one this relay (by its hello's key) could have issued? Refuses to sign another relay's. */
export function challengeIsFor(challengeBytes: Uint8Array, relayPub: Uint8Array): boolean {
  const c = decodeChallenge(challengeBytes);
  return c.ok && c.value.relayId === relayIdOf(relayPub);
}

function signedPart(challengeBytes: Uint8Array, devicePub: PublicKey): Uint8Array {
  return new ByteWriter().bytes(challengeBytes).bytes(devicePub).finish();
}

/** Client side: the signature answering a challenge, over the exact challenge bytes the relay sent. */
export function signChallenge(signingKey: DeviceSigningKey, devicePub: PublicKey, challengeBytes: Uint8Array): Uint8Array {
  return sign(signingKey, DOMAIN.relayChallenge, signedPart(challengeBytes, devicePub));
}

/**
 * The relay's half: a signature by the relay key over the challenge, the client's own fresh nonce and
 * the device key, returned in auth_ok. It proves the relay holds the key it announced in hello.
 * (A relay in the middle that forwards both halves still only sees ciphertext, and can't fake receipts.)
 */
export function signRelayProof(relayKey: SigningSecretKey, challengeBytes: Uint8Array, clientNonce: Uint8Array, devicePub: PublicKey): Uint8Array {
  return sign(relayKey, DOMAIN.relayAuth, new ByteWriter().bytes(challengeBytes).bytes(clientNonce).bytes(devicePub).finish());
}

export function verifyRelayProof(relayPub: PublicKey, challengeBytes: Uint8Array, clientNonce: Uint8Array, devicePub: PublicKey, signature: Uint8Array): boolean {
  return verify(relayPub, DOMAIN.relayAuth, new ByteWriter().bytes(challengeBytes).bytes(clientNonce).bytes(devicePub).finish(), signature);
}

export interface ChallengeResponse {
  deviceId: string;
  devicePub: Uint8Array;
  challenge: Uint8Array;
  signature: Uint8Array;
}

/**
 * Relay side: does this response answer `issued` (the bytes this connection was sent), for this
 * relay, in time, for the first time, with a valid signature by the key the device id names?
 * `consumeNonce` returns false when the nonce was already used; it is called before the signature check
 * so that a failed attempt also burns the challenge.
 */
export function verifyChallengeResponse(
  resp: ChallengeResponse,
  issued: Uint8Array,
  relayId: string,
  now: number,
  consumeNonce: (nonce: Uint8Array) => boolean,
): Result<{ deviceId: string; devicePub: Uint8Array }, ChallengeFailure> {
  const c = decodeChallenge(resp.challenge);
  if (!c.ok) return c;
  if (c.value.relayId !== relayId) return fail('auth_wrong_relay');
  if (!equalBytes(resp.challenge, issued)) return fail('auth_wrong_challenge');
  if (!consumeNonce(c.value.nonce)) return fail('auth_replayed');
  if (now - c.value.time > CHALLENGE_MAX_AGE_MS || c.value.time - now > CHALLENGE_MAX_AGE_MS) return fail('auth_stale');
  if (deviceIdOf(resp.devicePub) !== resp.deviceId) return fail('auth_wrong_device_id');
  if (!verify(resp.devicePub, DOMAIN.relayChallenge, signedPart(resp.challenge, resp.devicePub), resp.signature))
    return fail('auth_bad_signature');
  return ok({ deviceId: resp.deviceId, devicePub: resp.devicePub });
}
