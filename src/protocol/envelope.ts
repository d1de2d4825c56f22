// The change-envelope wire format shared by clients and the relay (DESIGN → Change envelope).
// The relay can decode the header and verify the signature without any key that decrypts; the
// body is AEAD ciphertext whose associated data is the encoded header.
//
// envelope  = signed ‖ signature(64)
// signed    = u8 version ‖ bytes(header) ‖ nonce(24) ‖ commitment(32) ‖ bytes(ciphertext)
// signature = Ed25519(device, "cloister/change/v1" ‖ 0x00 ‖ signed)  — over the exact bytes sent.
import { COMMITMENT_BYTES, NONCE_BYTES, TAG_BYTES, type Sealed } from '../crypto/aead.ts';
import { ByteReader, ByteWriter } from '../crypto/bytes.ts';
import { DOMAIN } from '../crypto/domains.ts';
import { sign, verify } from '../crypto/ed25519.ts';
import type { DeviceSigningKey, PublicKey } from '../crypto/keys.ts';
import { fail, ok, type Result } from '../crypto/result.ts';

/** 2: the header names the membership-log position (index, head) its author had. */
export const ENVELOPE_VERSION = 2;
export const SESSION_NONCE_BYTES = 16;
/** A membership-log entry id: SHA-256 of the entry, raw. */
export const LOG_HEAD_BYTES = 32;
const MAX_U32 = 0xffff_ffff;
export const SIGNATURE_BYTES = 64;
/** Upper bound on one envelope; the relay also enforces its own (smaller, configurable) frame limit. */
export const MAX_ENVELOPE_BYTES = 16 * 1024 * 1024;
const MAX_ID_CHARS = 128;

export interface EnvelopeHeader {
  version: number;
  workspaceId: string;
  docId: string;
  deviceId: string;
  epoch: number;
  /** Per-(device, doc) sequence number, starting at 1, gapless. */
  seq: number;
  leaseId: string;
  /** The device's claimed wall-clock time in ms. Claimed, not trusted. */
  claimedTime: number;
  /** Per-session nonce: actor = SHA-256(devicePub ‖ sessionNonce)[0..16]. */
  sessionNonce: Uint8Array;
  /** The index of the last membership-log entry its author had (DESIGN → Fork detection in the data plane). */
  logIndex: number;
  /** The id (raw SHA-256, 32 bytes) of the entry at `logIndex` in its author's chain. */
  logHead: Uint8Array;
}

export interface DecodedEnvelope {
  header: EnvelopeHeader;
  /** The encoded header exactly as sent; the AEAD associated data. */
  headerBytes: Uint8Array;
  sealed: Sealed;
  signature: Uint8Array;
  /** The bytes the signature covers. */
  signedBytes: Uint8Array;
}

export type EnvelopeDecodeFailure = 'envelope_malformed' | 'envelope_version_unsupported' | 'envelope_too_large';

export function encodeEnvelopeHeader(h: EnvelopeHeader): Uint8Array {
  if (h.sessionNonce.length !== SESSION_NONCE_BYTES) throw new RangeError('sessionNonce must be 16 bytes');
  if (h.logHead.length !== LOG_HEAD_BYTES) throw new RangeError('logHead must be 32 bytes');
  if (!Number.isInteger(h.logIndex) || h.logIndex < 0 || h.logIndex > MAX_U32) throw new RangeError('logIndex must be a u32');
  return new ByteWriter()
    .u8(h.version)
    .string(h.workspaceId)
    .string(h.docId)
    .string(h.deviceId)
    .u32(h.epoch)
    .u64(h.seq)
    .string(h.leaseId)
    .u64(h.claimedTime)
    .raw(h.sessionNonce)
    .u32(h.logIndex)
    .raw(h.logHead)
    .finish();
}

export function decodeEnvelopeHeader(bytes: Uint8Array): Result<EnvelopeHeader, EnvelopeDecodeFailure> {
  const r = new ByteReader(bytes);
  const version = r.u8();
  if (version === undefined) return fail('envelope_malformed', 'header');
  if (version !== ENVELOPE_VERSION) return fail('envelope_version_unsupported');
  const workspaceId = r.string(MAX_ID_CHARS);
  const docId = r.string(MAX_ID_CHARS);
  const deviceId = r.string(MAX_ID_CHARS);
  const epoch = r.u32();
  const seq = r.u64();
  const leaseId = r.string(MAX_ID_CHARS);
  const claimedTime = r.u64();
  const sessionNonce = r.raw(SESSION_NONCE_BYTES);
  const logIndex = r.u32();
  const logHead = r.raw(LOG_HEAD_BYTES);
  if (
    workspaceId === undefined || docId === undefined || deviceId === undefined || epoch === undefined ||
    seq === undefined || leaseId === undefined || claimedTime === undefined || sessionNonce === undefined ||
    logIndex === undefined || logHead === undefined ||
    r.remaining !== 0 || seq < 1 || !workspaceId || !docId || !deviceId
  )
    return fail('envelope_malformed', 'header');
  return ok({ version, workspaceId, docId, deviceId, epoch, seq, leaseId, claimedTime, sessionNonce: sessionNonce.slice(), logIndex, logHead: logHead.slice() });
}

/** Sign and encode an envelope from its header and the AEAD output sealed with that header as AD. */
export function encodeEnvelope(headerBytes: Uint8Array, sealed: Sealed, signingKey: DeviceSigningKey): Uint8Array {
  const signed = new ByteWriter()
    .u8(ENVELOPE_VERSION)
    .bytes(headerBytes)
    .raw(sealed.nonce)
    .raw(sealed.commitment)
    .bytes(sealed.ciphertext)
    .finish();
  return new ByteWriter().raw(signed).raw(sign(signingKey, DOMAIN.change, signed)).finish();
}

/** Parse an envelope strictly. Does not verify the signature (the caller needs the device key first). */
export function decodeEnvelope(bytes: Uint8Array): Result<DecodedEnvelope, EnvelopeDecodeFailure> {
  if (!(bytes instanceof Uint8Array)) return fail('envelope_malformed');
  if (bytes.length > MAX_ENVELOPE_BYTES) return fail('envelope_too_large');
  if (bytes.length < 1 + 4 + NONCE_BYTES + COMMITMENT_BYTES + 4 + TAG_BYTES + SIGNATURE_BYTES) return fail('envelope_malformed');
  const signedBytes = bytes.subarray(0, bytes.length - SIGNATURE_BYTES);
  const signature = bytes.subarray(bytes.length - SIGNATURE_BYTES);
  const r = new ByteReader(signedBytes);
  const version = r.u8();
  if (version !== ENVELOPE_VERSION) return fail('envelope_version_unsupported');
  const headerBytes = r.bytes(4096);
  const nonce = r.raw(NONCE_BYTES);
  const commitment = r.raw(COMMITMENT_BYTES);
  const ciphertext = r.bytes(MAX_ENVELOPE_BYTES);
  if (!headerBytes || !nonce || !commitment || !ciphertext || r.remaining !== 0 || ciphertext.length < TAG_BYTES)
    return fail('envelope_malformed');
  const header = decodeEnvelopeHeader(headerBytes);
  if (!header.ok) return header;
  return ok({ header: header.value, headerBytes, sealed: { nonce, commitment, ciphertext }, signature, signedBytes });
}

/** Does the signature verify under this device's public key? (The caller checks the key belongs to header.deviceId.) */
export function verifyEnvelopeSignature(env: DecodedEnvelope, devicePub: PublicKey): boolean {
  return verify(devicePub, DOMAIN.change, env.signedBytes, env.signature);
}
