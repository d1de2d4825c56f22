// Admin builders: remove a member (rotating the epoch key inline without their devices), change a
// role, rotate the key on its own, and set the offline policy; and anyone's own display name.
import type { EpochKey } from '../../crypto/keys.ts';
import { header, nextRotation } from './buildCommon.ts';
import type { Policy, Role } from './entry.ts';
import { memberSlot, sealName } from './names.ts';
import { signEntry, type DeviceKeys, type SignedEntry } from './signEntry.ts';
import type { WorkspaceState } from './state.ts';

export function removeMember(state: WorkspaceState, keys: DeviceKeys, epochKeys: Map<number, EpochKey>, userId: string, now: number): { entry: SignedEntry; epochKey: EpochKey } {
  const { rotation, key } = nextRotation(state, epochKeys, (d) => state.devices.get(d)?.userId === userId);
  return { entry: signEntry(keys, { ...header(state, keys, now), kind: 'remove_member', member: userId, rotation }), epochKey: key };
}

export function rotateKey(state: WorkspaceState, keys: DeviceKeys, epochKeys: Map<number, EpochKey>, now: number): { entry: SignedEntry; epochKey: EpochKey } {
  const { rotation, key } = nextRotation(state, epochKeys, () => false);
  return { entry: signEntry(keys, { ...header(state, keys, now), kind: 'rotate_key', rotation }), epochKey: key };
}

export function setRole(state: WorkspaceState, keys: DeviceKeys, userId: string, role: Role, now: number): SignedEntry {
  return signEntry(keys, { ...header(state, keys, now), kind: 'set_role', member: userId, role });
}

/** The author's display name in this workspace, sealed under the current epoch key for their member slot. */
export function setDisplayName(state: WorkspaceState, keys: DeviceKeys, epochKey: EpochKey, name: string, now: number): SignedEntry {
  const userId = state.devices.get(keys.deviceId)?.userId ?? keys.userId;
  return signEntry(keys, { ...header(state, keys, now), kind: 'set_name', name: sealName(epochKey, state.workspaceId, state.epoch, memberSlot(userId), name) });
}

export function setPolicy(state: WorkspaceState, keys: DeviceKeys, policy: Policy, now: number): SignedEntry {
  return signEntry(keys, { ...header(state, keys, now), kind: 'set_policy', policy });
}
