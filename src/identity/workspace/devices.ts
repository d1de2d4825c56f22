// Builders for a user's devices: add (signed by an existing device of the same user, carrying the
// new device's own enrolment signature and the current epoch key sealed to it) and revoke (which
// rotates the epoch key inline, leaving the revoked device out).
import type { EpochKey } from '../../crypto/keys.ts';
import { b64, header, nextRotation } from './buildCommon.ts';
import type { NewDevice } from './deviceLink.ts';
import { sealEpochKey } from './epochKeys.ts';
import { signEntry, type DeviceKeys, type SignedEntry } from './signEntry.ts';
import type { WorkspaceState } from './state.ts';

export function addDevice(state: WorkspaceState, keys: DeviceKeys, epochKey: EpochKey, device: NewDevice, deviceSig: Uint8Array, now: number): SignedEntry {
  return signEntry(keys, {
    ...header(state, keys, now),
    kind: 'add_device',
    device: { deviceId: device.deviceId, signingPub: b64(device.signingPub), boxPub: b64(device.boxPub) },
    deviceSig: b64(deviceSig),
    lockbox: { epoch: state.epoch, box: sealEpochKey(device.boxPub, epochKey, state.workspaceId, state.epoch, device.deviceId), check: b64(state.epochs.get(state.epoch)!.check) },
  });
}

export function revokeDevice(state: WorkspaceState, keys: DeviceKeys, epochKeys: Map<number, EpochKey>, deviceId: string, now: number): { entry: SignedEntry; epochKey: EpochKey } {
  const { rotation, key } = nextRotation(state, epochKeys, (d) => d === deviceId);
  return { entry: signEntry(keys, { ...header(state, keys, now), kind: 'revoke_device', device: deviceId, rotation }), epochKey: key };
}
