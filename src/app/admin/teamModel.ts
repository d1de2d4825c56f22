// What the Team view shows, computed from a workspace's membership state and this browser's pending
// intents: members with their display names, roles and devices, what this person may change, and the
// membership changes still waiting for the relay (or refused there), in words with names, not ids.
// Pure functions over WorkspaceState, so they are unit-tested without a browser.
import type { Role } from '../../identity/workspace/entry.ts';
import type { Intent, IntentAction } from '../../identity/workspace/intents.ts';
import { describeRejection, WORKSPACE_REJECTIONS, type WorkspaceRejection } from '../../identity/workspace/rejections.ts';
import type { WorkspaceState } from '../../identity/workspace/state.ts';
import { isActive } from '../../identity/workspace/validateEntry.ts';

export interface TeamDevice {
  deviceId: string;
  revoked: boolean;
  /** This browser's own device. */
  thisDevice: boolean;
}

export interface TeamMember {
  userId: string;
  /** The display name, or a short form of the user id when the member chose none. */
  label: string;
  hasName: boolean;
  role: Role;
  removed: boolean;
  you: boolean;
  devices: TeamDevice[];
}

export interface PendingChange {
  id: string;
  text: string;
  status: 'pending' | 'failed';
  /** Why the relay or the chain refused it (failed only), in words. */
  why?: string;
}

export interface Team {
  members: TeamMember[];
  me?: TeamMember;
  /** May invite, change roles and remove members. */
  isAdmin: boolean;
  changes: PendingChange[];
}

export const shortId = (id: string): string => id.slice(0, 8);

/** The name people see for `userId` in `state` (its display name, else a short id). */
export function labelOf(state: WorkspaceState, userId: string): string {
  return state.members.get(userId)?.name ?? `member ${shortId(userId)}`;
}

export function teamOf(state: WorkspaceState, intents: readonly Intent[], thisDeviceId: string, vaultUserId: string): Team {
  const myUserId = state.devices.get(thisDeviceId)?.userId ?? vaultUserId;
  const members = [...state.members.values()]
    .sort((a, b) => a.admittedAt - b.admittedAt)
    .map((m): TeamMember => ({
      userId: m.userId,
      label: m.name ?? `member ${shortId(m.userId)}`,
      hasName: m.name !== undefined,
      role: m.role,
      removed: m.removed,
      you: m.userId === myUserId,
      devices: m.devices.map((d) => ({ deviceId: d, revoked: state.devices.get(d)?.revoked ?? true, thisDevice: d === thisDeviceId })),
    }));
  const me = members.find((m) => m.you);
  return {
    members,
    ...(me ? { me } : {}),
    isAdmin: !!me && !me.removed && me.role === 'admin' && isActive(state, thisDeviceId),
    changes: intents.map((i) => ({
      id: i.id,
      text: describeChange(state, i.action),
      status: i.status,
      ...(i.status === 'failed' ? { why: whyRefused(i.reason) } : {}),
    })),
  };
}

function whyRefused(reason: string | undefined): string {
  return reason ? failureText(reason) : 'refused';
}

/** A refusal in words with its stable reason code: "… (member_removed)". */
export function failureText(reason: string, detail?: string): string {
  const words = Object.hasOwn(WORKSPACE_REJECTIONS, reason) ? describeRejection(reason as WorkspaceRejection) : (detail ?? reason);
  return `${words} (${reason})`;
}

/** A membership change in words, with members' names. */
export function describeChange(state: WorkspaceState, a: IntentAction): string {
  switch (a.kind) {
    case 'invite':
      return `Invite a ${a.invitation.role} (${a.invitation.maxUses === 1 ? 'one person' : `up to ${a.invitation.maxUses} people`}, until ${new Date(a.invitation.expiresAt).toLocaleString()})`;
    case 'remove_member':
      return `Remove ${labelOf(state, a.member)}`;
    case 'set_role':
      return `Make ${labelOf(state, a.member)} ${a.role === 'admin' ? 'an admin' : `a ${a.role}`}`;
    case 'revoke_device': {
      const owner = state.devices.get(a.device)?.userId;
      return `Revoke device ${shortId(a.device)}${owner ? ` of ${labelOf(state, owner)}` : ''}`;
    }
    case 'revoke_invitation':
      return `Revoke invitation ${shortId(a.invitation)}`;
    case 'set_policy':
      return `Set the offline policy (${a.policy.leasePolicy}, ${Math.round(a.policy.maxOfflineMs / 3_600_000)} h)`;
    case 'rotate_key':
      return 'Rotate the workspace key';
    case 'set_name':
      return `Set your name to "${a.name}"`;
  }
}
