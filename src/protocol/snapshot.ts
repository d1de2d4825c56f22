// The snapshot wire format shared by clients and the relay (docs/SNAPSHOTS.md). A snapshot is one
// member's encrypted, signed compaction of one document: Automerge save() bytes, the heads they hold
// and the per-device envelope seqs they cover. The relay can decode the header (author, document,
// covers) and verify the signature without any key that decrypts; the heads and the document stay in
// the ciphertext, whose associated data is the encoded header.
//
// snapshot  = signed ‖ signature(64)
// signed    = u8 version ‖ bytes(header) ‖ nonce(24) ‖ commitment(32) ‖ bytes(ciphertext)
// signature = Ed25519(device, "cloister/snapshot/v1" ‖ 0x00 ‖ signed)
import { COMMITMENT_BYTES, NONCE_BYTES, TAG_BYTES, type Sealed } from '../crypto/aead.ts';
import { ByteReader, ByteWriter } from '../crypto/bytes.ts';
import { DOMAIN } from '../crypto/domains.ts';
import { sign, verify } from '../crypto/ed25519.ts';
import type { DeviceSigningKey, PublicKey } from '../crypto/keys.ts';
import { fail, ok, type Result } from '../crypto/result.ts';
import { LOG_HEAD_BYTES, SIGNATURE_BYTES } from './envelope.ts';

export const SNAPSHOT_VERSION = 1;
/** A snapshot id: HMAC of the heads under a key only members hold (equal heads → equal id; no DAG shape leaks). */
export const SNAPSHOT_ID_BYTES = 32;
/** Upper bound on one snapshot; the relay also enforces its own (smaller, configurable) frame limit. */
export const MAX_SNAPSHOT_BYTES = 64 * 1024 * 1024;
/** At most this many (device, seq) pairs in `covers`. */
export const MAX_COVERS = 10_000;
const MAX_ID_CHARS = 128;
const MAX_U32 = 0xffff_ffff;

/** Up to which envelope seq of one device (for this document) the snapshot holds every change. */
export interface SnapshotCover {
  deviceId: string;
  seq: number;
}

export interface SnapshotHeader {
  version: number;
  workspaceId: string;
  docId: string;
  /** The author device, which signs. */
  deviceId: string;
  /** The key epoch the body is sealed under. */
  epoch: number;
  /** The author's claimed wall-clock time in ms. Claimed, not trusted. */
  claimedTime: number;
  /** The membership-log position its author had (as in envelopes). */
  logIndex: number;
  logHead: Uint8Array;
  /** HMAC-SHA-256(snapshot-id key of the document, sorted heads): equal for equal heads, opaque to the relay. */
  snapshotId: Uint8Array;
  /** Per device, the highest envelope seq whose changes the snapshot holds; sorted by deviceId, unique. */
  covers: SnapshotCover[];
}

export interface DecodedSnapshot {
  header: SnapshotHeader;
  headerBytes: Uint8Array;
  sealed: Sealed;
  signature: Uint8Array;
  signedBytes: Uint8Array;
}

export type SnapshotDecodeFailure = 'snapshot_malformed' | 'snapshot_version_unsupported' | 'snapshot_too_large';

export function encodeSnapshotHeader(h: SnapshotHeader): Uint8Array {
  if (h.logHead.length !== LOG_HEAD_BYTES) throw new RangeError('logHead must be 32 bytes');
  if (h.snapshotId.length !== SNAPSHOT_ID_BYTES) throw new RangeError('snapshotId must be 32 bytes');
  if (!Number.isInteger(h.logIndex) || h.logIndex < 0 || h.logIndex > MAX_U32) throw new RangeError('logIndex must be a u32');
  if (h.covers.length > MAX_COVERS) throw new RangeError('too many covers');
  const w = new ByteWriter()
    .u8(h.version)
    .string(h.workspaceId)
    .string(h.docId)
    .string(h.deviceId)
    .u32(h.epoch)
    .u64(h.claimedTime)
    .u32(h.logIndex)
    .raw(h.logHead)
    .raw(h.snapshotId)
    .u32(h.covers.length);
  for (const c of h.covers) w.string(c.deviceId).u64(c.seq);
  return w.finish();
}

export function decodeSnapshotHeader(bytes: Uint8Array): Result<SnapshotHeader, SnapshotDecodeFailure> {
  const r = new ByteReader(bytes);
  const version = r.u8();
  if (version === undefined) return fail('snapshot_malformed', 'header');
  if (version !== SNAPSHOT_VERSION) return fail('snapshot_version_unsupported');
  const workspaceId = r.string(MAX_ID_CHARS);
  const docId = r.string(MAX_ID_CHARS);
  const deviceId = r.string(MAX_ID_CHARS);
  const epoch = r.u32();
  const claimedTime = r.u64();
  const logIndex = r.u32();
  const logHead = r.raw(LOG_HEAD_BYTES);
  const snapshotId = r.raw(SNAPSHOT_ID_BYTES);
  const n = r.u32();
  if (
    workspaceId === undefined || docId === undefined || deviceId === undefined || epoch === undefined || claimedTime === undefined ||
    logIndex === undefined || logHead === undefined || snapshotId === undefined || n === undefined ||
    !workspaceId || !docId || !deviceId || n > MAX_COVERS
  )
    return fail('snapshot_malformed', 'header');
  const covers: SnapshotCover[] = [];
  for (let i = 0; i < n; i++) {
    const d = r.string(MAX_ID_CHARS);
    const seq = r.u64();
    if (!d || seq === undefined || seq < 1) return fail('snapshot_malformed', `cover ${i}`);
    if (i > 0 && !(covers[i - 1]!.deviceId < d)) return fail('snapshot_malformed', 'covers not sorted and unique');
    covers.push({ deviceId: d, seq });
  }
  if (r.remaining !== 0) return fail('snapshot_malformed', 'header');
  return ok({ version, workspaceId, docId, deviceId, epoch, claimedTime, logIndex, logHead: logHead.slice(), snapshotId: snapshotId.slice(), covers });
}

/** Sign and encode a snapshot from its header and the AEAD output sealed with that header as AD. */
export function encodeSnapshot(headerBytes: Uint8Array, sealed: Sealed, signingKey: DeviceSigningKey): Uint8Array {
  const signed = new ByteWriter().u8(SNAPSHOT_VERSION).bytes(headerBytes).raw(sealed.nonce).raw(sealed.commitment).bytes(sealed.ciphertext).finish();
  return new ByteWriter().raw(signed).raw(sign(signingKey, DOMAIN.snapshot, signed)).finish();
}

/** Parse a snapshot strictly. Does not verify the signature (the caller needs the device key first). */
export function decodeSnapshot(bytes: Uint8Array): Result<DecodedSnapshot, SnapshotDecodeFailure> {
  if (!(bytes instanceof Uint8Array)) return fail('snapshot_malformed');
  if (bytes.length > MAX_SNAPSHOT_BYTES) return fail('snapshot_too_large');
  if (bytes.length < 1 + 4 + NONCE_BYTES + COMMITMENT_BYTES + 4 + TAG_BYTES + SIGNATURE_BYTES) return fail('snapshot_malformed');
  const signedBytes = bytes.subarray(0, bytes.length - SIGNATURE_BYTES);
  const signature = bytes.subarray(bytes.length - SIGNATURE_BYTES);
  const r = new ByteReader(signedBytes);
  const version = r.u8();
  if (version !== SNAPSHOT_VERSION) return fail('snapshot_version_unsupported');
  const headerBytes = r.bytes(4 * 1024 * 1024);
  const nonce = r.raw(NONCE_BYTES);
  const commitment = r.raw(COMMITMENT_BYTES);
  const ciphertext = r.bytes(MAX_SNAPSHOT_BYTES);
  if (!headerBytes || !nonce || !commitment || !ciphertext || r.remaining !== 0 || ciphertext.length < TAG_BYTES) return fail('snapshot_malformed');
  const header = decodeSnapshotHeader(headerBytes);
  if (!header.ok) return header;
  return ok({ header: header.value, headerBytes, sealed: { nonce, commitment, ciphertext }, signature, signedBytes });
}

/** Does the signature verify under this device's public key? (The caller checks the key belongs to header.deviceId.) */
export function verifySnapshotSignature(s: DecodedSnapshot, devicePub: PublicKey): boolean {
  return verify(devicePub, DOMAIN.snapshot, s.signedBytes, s.signature);
}
