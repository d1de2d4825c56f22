// Read-only questions about a membership state, the vocabulary the relay and clients authorise with.
import type { Policy, Role } from './entry.ts';
import type { WorkspaceState } from './state.ts';
import { isActive } from './validateEntry.ts';

export type { Role } from './entry.ts';

export interface DeviceInfo {
  deviceId: string;
  userId: string;
  signingPub: Uint8Array;
  boxPub: Uint8Array;
  revoked: boolean;
}

export interface MemberInfo {
  userId: string;
  role: Role;
  removed: boolean;
  devices: string[];
  name?: string;
}

const toMember = (m: { userId: string; role: Role; removed: boolean; devices: string[]; name?: string }): MemberInfo => ({
  userId: m.userId,
  role: m.role,
  removed: m.removed,
  devices: [...m.devices],
  ...(m.name !== undefined ? { name: m.name } : {}),
});

/** Every member ever admitted (removed ones flagged), most senior first. */
export function members(state: WorkspaceState): MemberInfo[] {
  return [...state.members.values()].sort((a, b) => a.admittedAt - b.admittedAt).map(toMember);
}

export function memberOf(state: WorkspaceState, userId: string): MemberInfo | undefined {
  const m = state.members.get(userId);
  return m ? toMember(m) : undefined;
}

/** Any device ever certified, including revoked ones and those of removed members. */
export function deviceInfo(state: WorkspaceState, deviceId: string): DeviceInfo | undefined {
  const d = state.devices.get(deviceId);
  return d ? { ...d } : undefined;
}

/** A current member's device that is not revoked. */
export function isActiveDevice(state: WorkspaceState, deviceId: string): boolean {
  return isActive(state, deviceId);
}

/** Active, and the member's role is admin or writer. */
export function canWrite(state: WorkspaceState, deviceId: string): boolean {
  if (!isActive(state, deviceId)) return false;
  const role = state.members.get(state.devices.get(deviceId)!.userId)!.role;
  return role === 'admin' || role === 'writer';
}

export function currentEpoch(state: WorkspaceState): number {
  return state.epoch;
}

export function policy(state: WorkspaceState): Policy {
  return { ...state.policy };
}

export function workspaceName(state: WorkspaceState): string {
  return state.name;
}

/**
 * True when the current epoch key should be rotated: a device that is no longer active holds a
 * lockbox for it, or an active device has none (after concurrent removals, rotations or enrolments).
 */
export function needsRotation(state: WorkspaceState): boolean {
  const rec = state.epochs.get(state.epoch);
  if (!rec) return false;
  for (const slot of rec.lockboxes.keys()) if (!slot.startsWith('inv:') && !isActive(state, slot)) return true;
  for (const d of state.devices.keys()) if (isActive(state, d) && !rec.lockboxes.has(d)) return true;
  return false;
}
