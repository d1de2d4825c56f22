// Getting the current epoch key to every active device, automatically. Joins and device additions
// carry a lockbox for the epoch the joiner could open (the invitation's newest); when a rotation
// crossed the join, or a removal crossed another change, some active device has no lockbox for the
// current epoch (or an inactive one still has one). The library's answer is a fresh rotate_key that
// seals the next key to exactly the active devices: any admin device holding the current key makes
// it when it sees the need (the sync engine does this after every log merge).
import type { EpochKey } from '../../crypto/keys.ts';
import { rotateKey } from './members.ts';
import { isActiveDevice, needsRotation } from './selectors.ts';
import type { DeviceKeys, SignedEntry } from './signEntry.ts';
import type { WorkspaceState } from './state.ts';

/** Active devices with no lockbox for the current epoch (they can't read or write new envelopes yet). */
export function devicesWithoutCurrentKey(state: WorkspaceState): string[] {
  const rec = state.epochs.get(state.epoch);
  if (!rec) return [];
  return [...state.devices.keys()].filter((d) => isActiveDevice(state, d) && !rec.lockboxes.has(d));
}

/** May this device share keys: an active admin device that holds the current epoch key? */
export function canShareKeys(state: WorkspaceState, deviceId: string, epochKeys: ReadonlyMap<number, EpochKey>): boolean {
  if (!isActiveDevice(state, deviceId)) return false;
  const d = state.devices.get(deviceId)!;
  return state.members.get(d.userId)?.role === 'admin' && epochKeys.has(state.epoch);
}

/**
 * The rotate_key entry that re-keys the workspace for exactly its active devices, if one is needed
 * and this device may make it; otherwise undefined.
 */
export function keyShareEntry(
  state: WorkspaceState,
  keys: DeviceKeys,
  epochKeys: ReadonlyMap<number, EpochKey>,
  now: number,
): { entry: SignedEntry; epoch: number; epochKey: EpochKey } | undefined {
  if (!needsRotation(state) || !canShareKeys(state, keys.deviceId, epochKeys)) return undefined;
  const { entry, epochKey } = rotateKey(state, keys, new Map(epochKeys), now);
  return { entry, epoch: state.epoch + 1, epochKey };
}
