// Offline membership changes (DESIGN → Membership log → Offline membership changes). An admin's
// change made without the relay is kept as an intent: what was asked for, not a signed entry. At
// the next sync each intent is rebuilt on the chain's current head, validated there and appended;
// one that is no longer valid (the member is already gone, the invitation was revoked…) is marked
// failed with its reason and stays visible until the person dismisses it. Never dropped silently.
import { z } from 'zod';
import { randomBytes, toBase64url } from '../../crypto/bytes.ts';
import type { EpochKey } from '../../crypto/keys.ts';
import { fail, ok, type Result } from '../../crypto/result.ts';
import { revokeDevice } from './devices.ts';
import type { Policy, Role } from './entry.ts';
import { inviteEntry, revokeInvitation, type InvitationTerms } from './invitations.ts';
import { appendEntry } from './log.ts';
import { removeMember, rotateKey, setDisplayName, setPolicy, setRole } from './members.ts';
import type { WorkspaceRejection } from './rejections.ts';
import type { DeviceKeys, SignedEntry } from './signEntry.ts';
import type { WorkspaceState } from './state.ts';

const id = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/);
const role = z.enum(['admin', 'writer', 'reader']);
const actionSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('invite'),
    invitation: z.strictObject({ id, pub: z.string().max(64), boxPub: z.string().max(64), role, expiresAt: z.number().int().nonnegative(), maxUses: z.number().int().min(1).max(1000) }),
  }),
  z.strictObject({ kind: z.literal('remove_member'), member: id }),
  z.strictObject({ kind: z.literal('set_role'), member: id, role }),
  z.strictObject({ kind: z.literal('revoke_device'), device: id }),
  z.strictObject({ kind: z.literal('revoke_invitation'), invitation: id }),
  z.strictObject({ kind: z.literal('set_policy'), policy: z.strictObject({ maxOfflineMs: z.number().int().nonnegative(), leasePolicy: z.enum(['reject', 'hold']) }) }),
  z.strictObject({ kind: z.literal('rotate_key') }),
  z.strictObject({ kind: z.literal('set_name'), name: z.string().min(1).max(100) }),
]);
export const intentSchema = z.strictObject({
  id,
  createdAt: z.number().int().nonnegative(),
  action: actionSchema,
  status: z.enum(['pending', 'failed']),
  reason: z.string().max(64).optional(),
  detail: z.string().max(500).optional(),
});

export type IntentAction = z.infer<typeof actionSchema>;
export type Intent = z.infer<typeof intentSchema>;

export function newIntent(action: IntentAction, now: number): Intent {
  return { id: toBase64url(randomBytes(12)), createdAt: now, action, status: 'pending' };
}

export const inviteIntent = (terms: InvitationTerms): IntentAction => ({ kind: 'invite', invitation: { ...terms } });

/** Parse stored intents; anything malformed is skipped (it came from our own sealed store). */
export function parseIntents(v: unknown): Intent[] {
  if (!Array.isArray(v)) return [];
  return v.flatMap((x) => {
    const p = intentSchema.safeParse(x);
    return p.success ? [p.data] : [];
  });
}

export interface BuiltIntent {
  entry: SignedEntry;
  /** The next epoch key, when the entry rotates. */
  newKey?: { epoch: number; key: EpochKey };
}

/**
 * The entry for `action` at the head of `state`, checked there. Fails with the reason the chain
 * would refuse it for, so a stale intent is reported instead of sent.
 */
export function buildIntent(state: WorkspaceState, keys: DeviceKeys, epochKeys: ReadonlyMap<number, EpochKey>, action: IntentAction, now: number): Result<BuiltIntent, WorkspaceRejection> {
  const current = epochKeys.get(state.epoch);
  const needsKey = action.kind === 'invite' || action.kind === 'remove_member' || action.kind === 'revoke_device' || action.kind === 'rotate_key' || action.kind === 'set_name';
  if (needsKey && !current) return fail('epoch_no_lockbox', `this device does not hold the key for epoch ${state.epoch}`);
  let built: BuiltIntent;
  const rotated = (r: { entry: SignedEntry; epochKey: EpochKey }): BuiltIntent => ({ entry: r.entry, newKey: { epoch: state.epoch + 1, key: r.epochKey } });
  const keyMap = new Map(epochKeys);
  switch (action.kind) {
    case 'invite':
      built = { entry: inviteEntry(state, keys, current!, action.invitation, now) };
      break;
    case 'remove_member':
      if (!state.members.has(action.member)) return fail('member_unknown');
      if (state.members.get(action.member)!.removed) return fail('member_already_removed');
      built = rotated(removeMember(state, keys, keyMap, action.member, now));
      break;
    case 'set_role':
      built = { entry: setRole(state, keys, action.member, action.role as Role, now) };
      break;
    case 'revoke_device':
      if (!state.devices.has(action.device)) return fail('device_unknown');
      if (state.devices.get(action.device)!.revoked) return fail('device_already_revoked');
      built = rotated(revokeDevice(state, keys, keyMap, action.device, now));
      break;
    case 'revoke_invitation':
      built = { entry: revokeInvitation(state, keys, action.invitation, now) };
      break;
    case 'set_policy':
      built = { entry: setPolicy(state, keys, action.policy as Policy, now) };
      break;
    case 'rotate_key':
      built = rotated(rotateKey(state, keys, keyMap, now));
      break;
    case 'set_name':
      built = { entry: setDisplayName(state, keys, current!, action.name, now) };
      break;
  }
  const check = appendEntry(state, built.entry.bytes, now);
  return check.ok ? ok(built) : check;
}

/**
 * Is what the intent asks for already true at this head (someone else did it, or our own append
 * landed but its reply was lost)? Then there is nothing to append, and nothing to report as failed.
 */
export function intentSatisfied(state: WorkspaceState, a: IntentAction): boolean {
  switch (a.kind) {
    case 'invite':
      return state.invitations.has(a.invitation.id);
    case 'remove_member':
      return state.members.get(a.member)?.removed === true;
    case 'set_role': {
      const m = state.members.get(a.member);
      return !!m && !m.removed && m.role === a.role;
    }
    case 'revoke_device':
      return state.devices.get(a.device)?.revoked === true;
    case 'revoke_invitation':
      return state.invitations.get(a.invitation)?.revoked === true;
    case 'set_policy':
      return state.policy.maxOfflineMs === a.policy.maxOfflineMs && state.policy.leasePolicy === a.policy.leasePolicy;
    case 'rotate_key':
    case 'set_name': // sealed: the chain can't say whether it already holds this name; setting it again is harmless
      return false;
  }
}

/** One line for a person: what the intent asks for. */
export function describeIntent(a: IntentAction): string {
  switch (a.kind) {
    case 'invite':
      return `invite a ${a.invitation.role} (invitation ${a.invitation.id.slice(0, 8)}, until ${new Date(a.invitation.expiresAt).toISOString()})`;
    case 'remove_member':
      return `remove member ${a.member}`;
    case 'set_role':
      return `make ${a.member} ${a.role}`;
    case 'revoke_device':
      return `revoke device ${a.device}`;
    case 'revoke_invitation':
      return `revoke invitation ${a.invitation}`;
    case 'set_policy':
      return `set the offline policy (${a.policy.leasePolicy}, ${Math.round(a.policy.maxOfflineMs / 3_600_000)} h)`;
    case 'rotate_key':
      return 'rotate the workspace key';
    case 'set_name':
      return `set your display name to "${a.name}"`;
  }
}
