// Is this entry allowed as the next link of this chain? Checks, in order: workspace, position
// (index and prev), author and signature, the author's standing and role at this point, the
// per-role limits, the references the entry makes, and the epoch rules. Every entry is judged
// against the complete state before it: there is no concurrency to settle. Each refusal has a
// stable reason code; nothing here mutates the state.
import { deviceIdOf } from '../../crypto/ids.ts';
import { fail, ok, type Result } from '../../crypto/result.ts';
import { verifyDeviceEnrolment } from './deviceLink.ts';
import { b64bytes, type BodyOf, type Entry, type Policy, type Role, type Rotation } from './entry.ts';
import { lockboxFits, rotationFits } from './epochKeys.ts';
import { invitationIdOf, verifyInvitationProof } from './invitation.ts';
import type { WorkspaceRejection } from './rejections.ts';
import { verifyEntrySignature } from './signEntry.ts';
import type { MemberRecord, WorkspaceState } from './state.ts';

type Check = Result<void, WorkspaceRejection>;
const pass: Check = ok(undefined);
export const MAX_OFFLINE_LIMIT_MS = 10 * 365 * 24 * 3600 * 1000;

export function isActive(s: WorkspaceState, deviceId: string): boolean {
  const d = s.devices.get(deviceId);
  if (!d || d.revoked) return false;
  const m = s.members.get(d.userId);
  return !!m && !m.removed;
}

export const activeDevices = (s: WorkspaceState): string[] => [...s.devices.keys()].filter((id) => isActive(s, id));

const activeAdmins = (s: WorkspaceState): MemberRecord[] => [...s.members.values()].filter((m) => !m.removed && m.role === 'admin');

function validPolicy(p: Policy): boolean {
  return p.maxOfflineMs <= MAX_OFFLINE_LIMIT_MS;
}

/** Per-role limits (DESIGN → Membership log → Bounded): relay and clients refuse beyond them. */
export const LIMITS = {
  /** Devices a member may have that are not revoked. */
  devicesPerUser: { admin: 20, writer: 10, reader: 5 },
  /** Log entries a member's devices may author in any 24 hours (by the entries' relay-checked times). */
  entriesPerDay: { admin: 1000, writer: 50, reader: 50 },
} as const satisfies Record<string, Record<Role, number>>;
const DAY_MS = 24 * 3600 * 1000;
/** How far an entry's time may be from the relay's clock when it is appended (the relay checks). */
export const MAX_ENTRY_SKEW_MS = 15 * 60 * 1000;

/** Does the rotation start the next epoch with a lockbox for every device left, and nobody else? */
export function checkRotation(s: WorkspaceState, r: Rotation, excluded: (deviceId: string) => boolean): Check {
  if (r.epoch !== s.epoch + 1) return fail('rotation_wrong_epoch');
  if (!rotationFits(s, r)) return fail('rotation_wrong_previous');
  const remaining = activeDevices(s).filter((d) => !excluded(d));
  for (const d of remaining) if (!(d in r.lockboxes)) return fail('rotation_missing_lockbox', d);
  const keep = new Set(remaining);
  for (const slot of Object.keys(r.lockboxes)) {
    if (slot.startsWith('inv:')) {
      const inv = s.invitations.get(slot.slice(4));
      if (!inv || inv.revoked || inv.uses >= inv.maxUses) return fail('rotation_unexpected_lockbox', slot);
    } else if (!keep.has(slot)) return fail('rotation_unexpected_lockbox', slot);
  }
  return pass;
}

/** A lockbox for an epoch this state holds, under the same key. */
function checkLockbox(s: WorkspaceState, ref: { epoch: number; check: string }): Check {
  return lockboxFits(s, ref) ? pass : fail('epoch_unknown');
}

/** How many entries `userId`'s devices authored in the 24 hours up to `at` (scanning back from the head). */
function entriesInDay(s: WorkspaceState, userId: string, at: number): number {
  let n = 0;
  for (let i = s.order.length - 1; i > 0; i--) {
    const b = s.applied.get(s.order[i]!)!.body;
    if (b.at <= at - DAY_MS - 2 * MAX_ENTRY_SKEW_MS) break; // times are relay-checked, so roughly ordered
    if (b.at > at - DAY_MS && s.devices.get(b.author)?.userId === userId) n++;
  }
  return n;
}

export function validateEntry(s: WorkspaceState, e: Entry, now?: number): Check {
  const b = e.body;
  if (b.ws !== s.workspaceId) return fail('entry_wrong_workspace');
  if (s.applied.has(e.id)) return fail('entry_duplicate');
  if (b.kind === 'create') return s.applied.size > 0 ? fail('create_not_first') : validateCreate(e, b);
  if (s.applied.size === 0) return fail('log_no_root');
  if (b.index !== s.order.length || b.prev !== s.head) return fail('log_stale', `the log is at index ${s.order.length - 1}`);
  if (b.kind === 'join') return validateJoin(s, e, b, now);

  const author = s.devices.get(b.author);
  if (!author) return fail('entry_author_unknown');
  if (!verifyEntrySignature(e, author.signingPub)) return fail('entry_bad_signature');
  if (!isActive(s, b.author)) return fail('entry_author_inactive');
  const me = s.members.get(author.userId)!;
  const admin = me.role === 'admin';
  if (entriesInDay(s, me.userId, b.at) >= LIMITS.entriesPerDay[me.role]) return fail('limit_entries_per_day');

  switch (b.kind) {
    case 'invite': {
      if (!admin) return fail('entry_not_permitted');
      const inv = b.invitation;
      if (invitationIdOf(b64bytes(inv.pub)) !== inv.id) return fail('entry_malformed', 'invitation id');
      if (s.invitations.has(inv.id)) return fail('invitation_exists');
      return checkLockbox(s, b.lockbox);
    }
    case 'add_device': {
      const d = { deviceId: b.device.deviceId, signingPub: b64bytes(b.device.signingPub), boxPub: b64bytes(b.device.boxPub) };
      if (deviceIdOf(d.signingPub) !== d.deviceId) return fail('device_id_mismatch');
      if (s.devices.has(d.deviceId)) return fail('device_exists');
      if (!verifyDeviceEnrolment(s.workspaceId, author.userId, d, b64bytes(b.deviceSig))) return fail('device_proof_invalid');
      const devices = me.devices.filter((id) => !s.devices.get(id)?.revoked).length;
      if (devices >= LIMITS.devicesPerUser[me.role]) return fail('limit_devices');
      return checkLockbox(s, b.lockbox);
    }
    case 'revoke_device': {
      const target = s.devices.get(b.device);
      if (!target) return fail('device_unknown');
      if (target.revoked) return fail('device_already_revoked');
      if (target.userId !== author.userId && !admin) return fail('entry_not_permitted');
      return checkRotation(s, b.rotation, (d) => d === b.device);
    }
    case 'remove_member': {
      if (!admin) return fail('entry_not_permitted');
      const target = s.members.get(b.member);
      if (!target) return fail('member_unknown');
      if (target.removed) return fail('member_already_removed');
      if (target.role === 'admin' && activeAdmins(s).length <= 1) return fail('last_admin');
      return checkRotation(s, b.rotation, (d) => s.devices.get(d)?.userId === b.member);
    }
    case 'set_role': {
      if (!admin) return fail('entry_not_permitted');
      const target = s.members.get(b.member);
      if (!target || target.removed) return fail('member_unknown');
      if (target.role === 'admin' && b.role !== 'admin' && activeAdmins(s).length <= 1) return fail('last_admin');
      return pass;
    }
    case 'rotate_key':
      if (!admin) return fail('entry_not_permitted');
      return checkRotation(s, b.rotation, () => false);
    case 'revoke_invitation': {
      if (!admin) return fail('entry_not_permitted');
      const inv = s.invitations.get(b.invitation);
      if (!inv) return fail('invitation_unknown');
      if (inv.revoked) return fail('invitation_revoked');
      return pass;
    }
    case 'set_policy':
      if (!admin) return fail('entry_not_permitted');
      return validPolicy(b.policy) ? pass : fail('policy_invalid');
    case 'set_name':
      // Anyone active names themselves (never another member), sealed under an epoch the log has.
      return s.epochs.has(b.name.epoch) ? pass : fail('epoch_unknown');
  }
}

function validateCreate(e: Entry, b: BodyOf<'create'>): Check {
  const signingPub = b64bytes(b.device.signingPub);
  if (deviceIdOf(signingPub) !== b.device.deviceId) return fail('device_id_mismatch');
  if (b.author !== b.device.deviceId) return fail('entry_author_unknown');
  if (!verifyEntrySignature(e, signingPub)) return fail('entry_bad_signature');
  if (!validPolicy(b.policy)) return fail('policy_invalid');
  return pass;
}

function validateJoin(s: WorkspaceState, e: Entry, b: BodyOf<'join'>, now?: number): Check {
  const d = { deviceId: b.device.deviceId, signingPub: b64bytes(b.device.signingPub), boxPub: b64bytes(b.device.boxPub) };
  if (deviceIdOf(d.signingPub) !== d.deviceId) return fail('device_id_mismatch');
  if (b.author !== d.deviceId) return fail('entry_author_unknown');
  if (!verifyEntrySignature(e, d.signingPub)) return fail('entry_bad_signature');
  const inv = s.invitations.get(b.invitation);
  if (!inv) return fail('invitation_unknown');
  if (!verifyInvitationProof(inv.pub, s.workspaceId, inv.id, { userId: b.user.userId, ...d }, b64bytes(b.proof)))
    return fail('invitation_proof_invalid');
  if (inv.revoked) return fail('invitation_revoked');
  if (inv.uses >= inv.maxUses) return fail('invitation_used');
  // Expiry by the chain: the join's time (which the relay checked against its clock when it
  // appended it) and, on a live append, the appender's clock.
  if (b.at > inv.expiresAt || (now !== undefined && now > inv.expiresAt)) return fail('invitation_expired');
  // Removal is final: a user id that was ever a member never joins again (it would revive their old devices).
  const existing = s.members.get(b.user.userId);
  if (existing) return fail(existing.removed ? 'member_was_removed' : 'member_exists');
  if (s.devices.has(d.deviceId)) return fail('device_exists');
  return checkLockbox(s, b.lockbox);
}
