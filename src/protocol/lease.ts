// Offline leases (DESIGN → Offline leases): signed by the relay's own Ed25519 key, checked by
// clients (to show remaining offline time) and by the relay (an envelope's leaseId must name a lease
// of that device and workspace whose notAfter has not passed by the relay's clock).
//
// lease = signed ‖ signature(64); signed = u8 version ‖ leaseId ‖ relayId ‖ workspaceId ‖ deviceId ‖ u64 issuedAt ‖ u64 notAfter
// signature = Ed25519(relay, "cloister/lease/v1" ‖ 0x00 ‖ signed)
import { ByteReader, ByteWriter } from '../crypto/bytes.ts';
import { DOMAIN } from '../crypto/domains.ts';
import { sign, verify } from '../crypto/ed25519.ts';
import type { PublicKey, SigningSecretKey } from '../crypto/keys.ts';
import { fail, ok, type Result } from '../crypto/result.ts';

export const LEASE_VERSION = 1;
const SIG = 64;

export interface Lease {
  leaseId: string;
  relayId: string;
  workspaceId: string;
  deviceId: string;
  /** Relay time at issue, ms. */
  issuedAt: number;
  /** Relay time after which envelopes carrying this lease are refused (or held), ms. */
  notAfter: number;
}

export type LeaseFailure = 'lease_malformed' | 'lease_bad_signature';

export function encodeLease(lease: Lease, relayKey: SigningSecretKey): Uint8Array {
  const signed = new ByteWriter()
    .u8(LEASE_VERSION)
    .string(lease.leaseId)
    .string(lease.relayId)
    .string(lease.workspaceId)
    .string(lease.deviceId)
    .u64(lease.issuedAt)
    .u64(lease.notAfter)
    .finish();
  return new ByteWriter().raw(signed).raw(sign(relayKey, DOMAIN.lease, signed)).finish();
}

/** Parse without verifying (for display); use verifyLease before trusting it. */
export function decodeLease(bytes: Uint8Array): Result<Lease, 'lease_malformed'> {
  if (!(bytes instanceof Uint8Array) || bytes.length < SIG + 1) return fail('lease_malformed');
  const r = new ByteReader(bytes.subarray(0, bytes.length - SIG));
  const version = r.u8();
  const leaseId = r.string(256);
  const relayId = r.string(256);
  const workspaceId = r.string(256);
  const deviceId = r.string(256);
  const issuedAt = r.u64();
  const notAfter = r.u64();
  if (
    version !== LEASE_VERSION || leaseId === undefined || relayId === undefined || workspaceId === undefined ||
    deviceId === undefined || issuedAt === undefined || notAfter === undefined || r.remaining !== 0
  )
    return fail('lease_malformed');
  return ok({ leaseId, relayId, workspaceId, deviceId, issuedAt, notAfter });
}

/** Client side: a lease signed by this relay key, or a reason. */
export function verifyLease(bytes: Uint8Array, relayPub: PublicKey): Result<Lease, LeaseFailure> {
  const d = decodeLease(bytes);
  if (!d.ok) return d;
  const signed = bytes.subarray(0, bytes.length - SIG);
  if (!verify(relayPub, DOMAIN.lease, signed, bytes.subarray(bytes.length - SIG))) return fail('lease_bad_signature');
  return d;
}

/** Milliseconds of offline editing left under `lease` at time `now` (never negative). */
export function leaseRemainingMs(lease: Lease, now: number): number {
  return Math.max(0, lease.notAfter - now);
}
