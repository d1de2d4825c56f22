// Shared pieces for entry builders: the common header (the next chain position after `state`)
// and the rotation recipients.
import { toBase64url } from '../../crypto/bytes.ts';
import type { EpochKey, PublicKey } from '../../crypto/keys.ts';
import { ENTRY_VERSION, type Rotation } from './entry.ts';
import { inviteSlot, makeRotation } from './epochKeys.ts';
import type { DeviceKeys } from './signEntry.ts';
import type { WorkspaceState } from './state.ts';
import { activeDevices } from './validateEntry.ts';

export function header(state: WorkspaceState, keys: Pick<DeviceKeys, 'deviceId'>, now: number) {
  return { v: ENTRY_VERSION as typeof ENTRY_VERSION, ws: state.workspaceId, index: state.order.length, prev: state.head, author: keys.deviceId, at: now };
}

export const b64 = (b: Uint8Array): string => toBase64url(b);

/** Everyone who must get the next epoch key: active devices not excluded, and pending invitations. */
export function rotationRecipients(state: WorkspaceState, excluded: (deviceId: string) => boolean): { slot: string; boxPub: PublicKey }[] {
  const out = activeDevices(state)
    .filter((d) => !excluded(d))
    .map((d) => ({ slot: d, boxPub: state.devices.get(d)!.boxPub }));
  for (const inv of state.invitations.values())
    if (!inv.revoked && inv.uses < inv.maxUses) out.push({ slot: inviteSlot(inv.id), boxPub: inv.boxPub });
  return out;
}

/** A rotation to the next epoch; throws if the caller lacks the current epoch key (our misuse). */
export function nextRotation(state: WorkspaceState, epochKeys: Map<number, EpochKey>, excluded: (deviceId: string) => boolean): { rotation: Rotation; key: EpochKey } {
  const current = epochKeys.get(state.epoch);
  if (!current) throw new Error(`missing the key for epoch ${state.epoch}`);
  return makeRotation(state.workspaceId, state.epoch + 1, current, rotationRecipients(state, excluded));
}
