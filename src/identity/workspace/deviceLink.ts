// Linking a new device to an existing user. The existing device shows a one-time code; the new
// device answers with a request carrying its public keys, its own signature over them (kept in the
// add_device entry, so everyone sees the device consented) and a proof of the code, which the
// existing device checks before it signs the add_device entry.
import { ByteWriter, fromBase64url, toBase64url } from '../../crypto/bytes.ts';
import { DOMAIN } from '../../crypto/domains.ts';
import { sign, verify } from '../../crypto/ed25519.ts';
import { deviceIdOf } from '../../crypto/ids.ts';
import type { DeviceSigningKey, PublicKey } from '../../crypto/keys.ts';
import { fail, ok, type Result } from '../../crypto/result.ts';
import { deriveCodeKeys, newCode } from './invitation.ts';
import type { WorkspaceRejection } from './rejections.ts';

export interface NewDevice {
  deviceId: string;
  signingPub: PublicKey;
  boxPub: PublicKey;
}

export interface DeviceLinkRequest {
  workspaceId: string;
  userId: string;
  device: { deviceId: string; signingPub: string; boxPub: string };
  deviceSig: string;
  linkProof: string;
}

export function deviceLinkMessage(workspaceId: string, userId: string, d: NewDevice): Uint8Array {
  return new ByteWriter().string(workspaceId).string(userId).string(d.deviceId).bytes(d.signingPub).bytes(d.boxPub).finish();
}

/** The new device's signature over its own enrolment (carried in the add_device entry). */
export function signDeviceEnrolment(signingKey: DeviceSigningKey, workspaceId: string, userId: string, d: NewDevice): Uint8Array {
  return sign(signingKey, DOMAIN.deviceLinkProof, deviceLinkMessage(workspaceId, userId, d));
}

export function verifyDeviceEnrolment(workspaceId: string, userId: string, d: NewDevice, sig: Uint8Array): boolean {
  return verify(d.signingPub, DOMAIN.deviceLinkProof, deviceLinkMessage(workspaceId, userId, d), sig);
}

/** A one-time device-link code (same alphabet and strength as invitation codes). */
export const createDeviceLinkCode = (): string => newCode();

/** On the new device: answer a link code with this device's keys. */
export function buildDeviceLinkRequest(
  code: string,
  workspaceId: string,
  userId: string,
  device: NewDevice & { signingKey: DeviceSigningKey },
): Result<DeviceLinkRequest, WorkspaceRejection> {
  const keys = deriveCodeKeys(code, 'device-link');
  if (!keys.ok) return keys;
  const d = { deviceId: device.deviceId, signingPub: device.signingPub, boxPub: device.boxPub };
  const msg = deviceLinkMessage(workspaceId, userId, d);
  return ok({
    workspaceId,
    userId,
    device: { deviceId: d.deviceId, signingPub: toBase64url(d.signingPub), boxPub: toBase64url(d.boxPub) },
    deviceSig: toBase64url(sign(device.signingKey, DOMAIN.deviceLinkProof, msg)),
    linkProof: toBase64url(sign(keys.value.signingKey, DOMAIN.deviceLinkProof, msg)),
  });
}

/** On the existing device: check a request against the code it showed. */
export function verifyDeviceLinkRequest(
  code: string,
  workspaceId: string,
  userId: string,
  req: DeviceLinkRequest,
): Result<{ device: NewDevice; deviceSig: Uint8Array }, WorkspaceRejection> {
  const keys = deriveCodeKeys(code, 'device-link');
  if (!keys.ok) return keys;
  const signingPub = fromBase64url(req.device.signingPub);
  const boxPub = fromBase64url(req.device.boxPub);
  const deviceSig = fromBase64url(req.deviceSig);
  const linkProof = fromBase64url(req.linkProof);
  if (!signingPub || !boxPub || !deviceSig || !linkProof || signingPub.length !== 32 || boxPub.length !== 32)
    return fail('device_link_invalid');
  if (req.workspaceId !== workspaceId || req.userId !== userId) return fail('device_link_invalid');
  const device = { deviceId: req.device.deviceId, signingPub, boxPub };
  if (deviceIdOf(signingPub) !== device.deviceId) return fail('device_id_mismatch');
  const msg = deviceLinkMessage(workspaceId, userId, device);
  if (!verify(keys.value.pub, DOMAIN.deviceLinkProof, msg, linkProof)) return fail('device_link_invalid');
  if (!verify(signingPub, DOMAIN.deviceLinkProof, msg, deviceSig)) return fail('device_proof_invalid');
  return ok({ device, deviceSig });
}
