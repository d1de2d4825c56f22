// Is this entry allowed on top of this state? Checks, in order: workspace, parents, author and
// signature, the author's standing and role at this point, the references the entry makes, and the
// epoch rules. Each refusal has a stable reason code; nothing here mutates the state.
import { deviceIdOf } from '../../crypto/ids.ts';
import { fail, ok, type Result } from '../../crypto/result.ts';
import { verifyDeviceEnrolment } from './deviceLink.ts';
import { b64bytes, type BodyOf, type Entry, type Policy, type Rotation } from './entry.ts';
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

/** Context the merge supplies: whether the entry was valid in its own causal past. */
export interface ValidateContext {
  causallyValid?: () => boolean;
  /** The merge orders entries after their parents itself; a parent may be known but not applied. */
  parentsPresent?: boolean;
}

/**
 * Does the rotation start the next epoch with a lockbox for every device left, and nobody else?
 * A rotation made concurrently with another one arrives "stale" (its epoch is already taken). If it
 * was valid where it was made, the merge applies the entry without its rotation; `needsRotation`
 * then tells clients to rotate again (the concurrent rotations may have sealed to removed devices).
 */
export function checkRotation(s: WorkspaceState, r: Rotation, excluded: (deviceId: string) => boolean, ctx?: ValidateContext): Check {
  const check = rotationShape(s, r, excluded);
  // Valid where it was made but overtaken by a concurrent change: applied without (or with) its
  // rotation as `rotationFits` decides; `needsRotation` then asks clients for a fresh one.
  if (!check.ok && ctx?.causallyValid?.()) return pass;
  return check;
}

function rotationShape(s: WorkspaceState, r: Rotation, excluded: (deviceId: string) => boolean): Check {
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

/** A lockbox for an epoch this state holds under the same key; else only if valid where made. */
function checkLockbox(s: WorkspaceState, ref: { epoch: number; check: string }, ctx?: ValidateContext): Check {
  if (lockboxFits(s, ref)) return pass;
  return ctx?.causallyValid?.() ? pass : fail('epoch_unknown');
}

export function validateEntry(s: WorkspaceState, e: Entry, now?: number, ctx?: ValidateContext): Check {
  const b = e.body;
  if (b.ws !== s.workspaceId) return fail('entry_wrong_workspace');
  if (s.applied.has(e.id)) return fail('entry_duplicate');
  if (b.kind === 'create') return s.applied.size > 0 ? fail('create_not_first') : validateCreate(e, b);
  if (s.applied.size === 0) return fail('log_no_root');
  if (!ctx?.parentsPresent) for (const p of b.parents) if (!s.applied.has(p)) return fail('entry_missing_parent', p);
  if (b.kind === 'join') return validateJoin(s, e, b, now, ctx);

  const author = s.devices.get(b.author);
  if (!author) return fail('entry_author_unknown');
  if (!verifyEntrySignature(e, author.signingPub)) return fail('entry_bad_signature');
  if (!isActive(s, b.author)) return fail('entry_author_inactive');
  const me = s.members.get(author.userId)!;
  const admin = me.role === 'admin';

  switch (b.kind) {
    case 'invite': {
      if (!admin) return fail('entry_not_permitted');
      const inv = b.invitation;
      if (invitationIdOf(b64bytes(inv.pub)) !== inv.id) return fail('entry_malformed', 'invitation id');
      if (s.invitations.has(inv.id)) return fail('invitation_exists');
      return checkLockbox(s, b.lockbox, ctx);
    }
    case 'add_device': {
      const d = { deviceId: b.device.deviceId, signingPub: b64bytes(b.device.signingPub), boxPub: b64bytes(b.device.boxPub) };
      if (deviceIdOf(d.signingPub) !== d.deviceId) return fail('device_id_mismatch');
      if (s.devices.has(d.deviceId)) return fail('device_exists');
      if (!verifyDeviceEnrolment(s.workspaceId, author.userId, d, b64bytes(b.deviceSig))) return fail('device_proof_invalid');
      return checkLockbox(s, b.lockbox, ctx);
    }
    case 'revoke_device': {
      const target = s.devices.get(b.device);
      if (!target) return fail('device_unknown');
      if (target.revoked) return fail('device_already_revoked');
      if (target.userId !== author.userId && !admin) return fail('entry_not_permitted');
      return checkRotation(s, b.rotation, (d) => d === b.device, ctx);
    }
    case 'remove_member': {
      if (!admin) return fail('entry_not_permitted');
      const target = s.members.get(b.member);
      if (!target) return fail('member_unknown');
      if (target.removed) return fail('member_already_removed');
      if (target.role === 'admin' && activeAdmins(s).length <= 1) return fail('last_admin');
      return checkRotation(s, b.rotation, (d) => s.devices.get(d)?.userId === b.member, ctx);
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
      return checkRotation(s, b.rotation, () => false, ctx);
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

function validateJoin(s: WorkspaceState, e: Entry, b: BodyOf<'join'>, now?: number, ctx?: ValidateContext): Check {
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
  // The signed join time is checked on replay; a live append is also checked against the receiver's clock.
  if (b.at > inv.expiresAt || (now !== undefined && now > inv.expiresAt)) return fail('invitation_expired');
  // Removal is final: a user id that was ever a member never joins again (it would revive their old devices).
  const existing = s.members.get(b.user.userId);
  if (existing) return fail(existing.removed ? 'member_was_removed' : 'member_exists');
  if (s.devices.has(d.deviceId)) return fail('device_exists');
  return checkLockbox(s, b.lockbox, ctx);
}
