// Builders for invitations: invite (admin publishes the code's public keys and seals the current
// epoch key to the code's box key), join (the invitee proves the code and admits itself), revoke.
import { fail, ok, type Result } from '../../crypto/result.ts';
import type { EpochKey } from '../../crypto/keys.ts';
import { b64, header } from './buildCommon.ts';
import { b64bytes, type BodyOf, type Role } from './entry.ts';
import { inviteSlot, latestSlotEpoch, openEpochSlot, sealEpochKey } from './epochKeys.ts';
import { deriveCodeKeys, newCode, signInvitationProof } from './invitation.ts';
import { memberSlot, sealName } from './names.ts';
import type { WorkspaceRejection } from './rejections.ts';
import { signEntry, type DeviceKeys, type SignedEntry } from './signEntry.ts';
import type { WorkspaceState } from './state.ts';

export interface InvitationOptions {
  role: Role;
  expiresAt: number;
  maxUses?: number;
  now: number;
}

/** The public half of an invitation, as the invite entry carries it (base64url keys). */
export type InvitationTerms = BodyOf<'invite'>['invitation'];

/** A fresh one-time code and the terms to publish for it (the code itself is never logged or stored). */
export function newInvitation(opts: Omit<InvitationOptions, 'now'>): { code: string; terms: InvitationTerms } {
  const code = newCode();
  const ck = deriveCodeKeys(code);
  if (!ck.ok) throw new Error('fresh code did not decode');
  const { id, pub, boxPub } = ck.value;
  return { code, terms: { id, pub: b64(pub), boxPub: b64(boxPub), role: opts.role, expiresAt: opts.expiresAt, maxUses: opts.maxUses ?? 1 } };
}

/** The invite entry for `terms` at the head of `state`, sealing the current epoch key to the code's box key. */
export function inviteEntry(state: WorkspaceState, keys: DeviceKeys, epochKey: EpochKey, terms: InvitationTerms, now: number): SignedEntry {
  const boxPub = b64bytes(terms.boxPub);
  return signEntry(keys, {
    ...header(state, keys, now),
    kind: 'invite',
    invitation: { ...terms },
    lockbox: { epoch: state.epoch, box: sealEpochKey(boxPub, epochKey, state.workspaceId, state.epoch, inviteSlot(terms.id)), check: b64(state.epochs.get(state.epoch)!.check) },
  });
}

/** An admin invites: returns the entry and the one-time code to hand over. */
export function createInvitation(state: WorkspaceState, keys: DeviceKeys, epochKey: EpochKey, opts: InvitationOptions): { entry: SignedEntry; code: string; invitationId: string } {
  const { code, terms } = newInvitation(opts);
  return { entry: inviteEntry(state, keys, epochKey, terms, opts.now), code, invitationId: terms.id };
}

/**
 * The invitee joins with the code: opens the newest epoch key sealed to the invitation, checks it,
 * reseals it to its own device and signs the join with its device key plus the code proof.
 */
export function buildJoin(state: WorkspaceState, code: string, keys: DeviceKeys, now: number): Result<{ entry: SignedEntry; epochKey: EpochKey }, WorkspaceRejection> {
  const ck = deriveCodeKeys(code);
  if (!ck.ok) return ck;
  const inv = state.invitations.get(ck.value.id);
  if (!inv) return fail('invitation_unknown');
  const epoch = latestSlotEpoch(state, inviteSlot(inv.id));
  if (epoch === undefined) return fail('epoch_no_lockbox');
  const key = openEpochSlot(state, epoch, inviteSlot(inv.id), ck.value.boxKey);
  if (!key.ok) return key;
  const joiner = { userId: keys.userId, deviceId: keys.deviceId, signingPub: keys.signingPub, boxPub: keys.boxPub };
  const entry = signEntry(keys, {
    ...header(state, keys, now),
    kind: 'join',
    invitation: inv.id,
    user: {
      userId: keys.userId,
      ...(keys.userSigningPub ? { userSigningPub: b64(keys.userSigningPub) } : {}),
      ...(keys.name ? { name: sealName(key.value, state.workspaceId, epoch, memberSlot(keys.userId), keys.name) } : {}),
    },
    device: { deviceId: keys.deviceId, signingPub: b64(keys.signingPub), boxPub: b64(keys.boxPub) },
    proof: b64(signInvitationProof(ck.value, state.workspaceId, joiner)),
    lockbox: { epoch, box: sealEpochKey(keys.boxPub, key.value, state.workspaceId, epoch, keys.deviceId), check: b64(state.epochs.get(epoch)!.check) },
  });
  return ok({ entry, epochKey: key.value });
}

export function revokeInvitation(state: WorkspaceState, keys: DeviceKeys, invitationId: string, now: number): SignedEntry {
  return signEntry(keys, { ...header(state, keys, now), kind: 'revoke_invitation', invitation: invitationId });
}
