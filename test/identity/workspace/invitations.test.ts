// Stories about invitation codes: proof of the code admits; forged, expired, reused and revoked fail.
import { describe, expect, it } from 'vitest';
import { toBase64url } from '../../../src/crypto/bytes.ts';
import { header } from '../../../src/identity/workspace/buildCommon.ts';
import { createWorkspace } from '../../../src/identity/workspace/createWorkspace.ts';
import { decodeEntry } from '../../../src/identity/workspace/entry.ts';
import {
  CODE_CHARS,
  decodeCode,
  deriveCodeKeys,
  formatInvitationToken,
  newCode,
  parseInvitationToken,
} from '../../../src/identity/workspace/invitation.ts';
import { buildJoin, createInvitation, revokeInvitation } from '../../../src/identity/workspace/invitations.ts';
import { memberOf } from '../../../src/identity/workspace/selectors.ts';
import { signEntry } from '../../../src/identity/workspace/signEntry.ts';
import { DAY, NOW, device, keysOf, must, rejects } from './fixtures.ts';

function invited(opts: { maxUses?: number; expiresAt?: number } = {}) {
  const alice = device('alice');
  const { state: s0 } = createWorkspace(alice, 'Team', { now: NOW });
  const inv = createInvitation(s0, alice, keysOf(s0, alice).get(0)!, {
    role: 'writer',
    expiresAt: opts.expiresAt ?? NOW + DAY,
    now: NOW,
    ...(opts.maxUses ? { maxUses: opts.maxUses } : {}),
  });
  return { alice, state: must(s0, inv.entry.bytes), code: inv.code, invitationId: inv.invitationId };
}

function join(state: ReturnType<typeof invited>['state'], code: string, who: string, at = NOW) {
  const r = buildJoin(state, code, device(who), at);
  if (!r.ok) throw new Error(r.reason);
  return r.value.entry.bytes;
}

describe('invitations', () => {
  it('a code is 26 characters of Crockford base32 and survives human retyping', () => {
    const code = newCode();
    expect(code).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(CODE_CHARS).toBeGreaterThanOrEqual(16);
    const typed = code.toLowerCase().replace(/0/g, 'o').replace(/1/g, 'l').replace(/(.{5})/g, '$1-');
    expect(toBase64url(decodeCode(typed).ok ? (decodeCode(typed) as { value: Uint8Array }).value : new Uint8Array()))
      .toBe(toBase64url((decodeCode(code) as { value: Uint8Array }).value));
    expect(decodeCode('U'.repeat(26)).ok).toBe(false);
  });

  it('the invite entry holds no code, only a public key derived from it', () => {
    const { state, code } = invited();
    const inviteBytes = [...state.applied.values()].find((e) => e.body.kind === 'invite')!.bytes;
    const text = new TextDecoder().decode(inviteBytes);
    expect(text.includes(code)).toBe(false);
    const derived = deriveCodeKeys(code);
    expect(derived.ok && state.invitations.has(derived.value.id)).toBe(true);
  });

  it('an invitation token carries the workspace id and the code', () => {
    const code = newCode();
    const t = parseInvitationToken(formatInvitationToken('wsid_123', code));
    expect(t.ok && t.value).toEqual({ workspaceId: 'wsid_123', code });
    expect(parseInvitationToken('nonsense').ok).toBe(false);
  });

  it("a token for a workspace whose id starts with '-' doesn't start with '-' (a command line would take it for an option), and an unprefixed token still parses", () => {
    const code = newCode();
    const token = formatInvitationToken('-zThNNVS84CG_GvIR4uwFQ', code);
    expect(token.startsWith('-')).toBe(false);
    expect(parseInvitationToken(token).ok && parseInvitationToken(token)).toMatchObject({ value: { workspaceId: '-zThNNVS84CG_GvIR4uwFQ', code } });
    expect(parseInvitationToken(`-zThNNVS84CG_GvIR4uwFQ.${code}`)).toMatchObject({ ok: true, value: { workspaceId: '-zThNNVS84CG_GvIR4uwFQ', code } });
  });

  it('dave joins with proof of the code', () => {
    const { state, code } = invited();
    const s = must(state, join(state, code, 'dave'));
    expect(memberOf(s, 'dave')?.role).toBe('writer');
  });

  it('a forged invitation fails: eve guesses a code', () => {
    const { state } = invited();
    const r = buildJoin(state, newCode(), device('eve'), NOW);
    expect(r.ok ? 'accepted' : r.reason).toBe('invitation_unknown');
  });

  it('a forged invitation fails: eve reuses the invitation id with a proof made from another code', () => {
    const { state, invitationId } = invited();
    const eve = device('eve');
    const other = invited(); // a real invitation in another workspace eve got hold of
    const r = buildJoin(other.state, other.code, eve, NOW);
    if (!r.ok) throw new Error(r.reason);
    const body = decodeEntry(r.value.entry.bytes);
    if (!body.ok || body.value.body.kind !== 'join') throw new Error('decode');
    const forged = signEntry(eve, { ...body.value.body, ...header(state, eve, NOW), invitation: invitationId, lockbox: { epoch: 0, box: body.value.body.lockbox.box, check: toBase64url(state.epochs.get(0)!.check) } });
    rejects(state, forged.bytes, 'invitation_proof_invalid');
  });

  it('a forged invitation fails: a proof for dave cannot admit eve', () => {
    const { state, code } = invited();
    const daveJoin = decodeEntry(join(state, code, 'dave'));
    if (!daveJoin.ok || daveJoin.value.body.kind !== 'join') throw new Error('decode');
    const eve = device('eve');
    const b = daveJoin.value.body;
    const forged = signEntry(eve, {
      ...b,
      author: eve.deviceId,
      user: { userId: 'eve' },
      device: { deviceId: eve.deviceId, signingPub: toBase64url(eve.signingPub), boxPub: toBase64url(eve.boxPub) },
    });
    rejects(state, forged.bytes, 'invitation_proof_invalid');
  });

  it('an expired invitation fails', () => {
    const { state, code } = invited({ expiresAt: NOW + 1000 });
    // joined "in time" by the joiner's clock, but the receiver's clock says it has expired
    rejects(state, join(state, code, 'dave', NOW), 'invitation_expired', NOW + 2000);
    // and a join signed after the expiry fails whatever the receiver's clock says
    rejects(state, join(state, code, 'dave', NOW + 2000), 'invitation_expired', NOW);
  });

  it('a reused invitation fails', () => {
    const { state, code } = invited();
    const s = must(state, join(state, code, 'dave'));
    rejects(s, join(s, code, 'frank'), 'invitation_used');
  });

  it('an invitation with three uses admits three people, not four', () => {
    const { state, code } = invited({ maxUses: 3 });
    let s = state;
    for (const who of ['d1', 'd2', 'd3']) s = must(s, join(s, code, who));
    rejects(s, join(s, code, 'd4'), 'invitation_used');
  });

  it('a revoked invitation fails', () => {
    const { alice, state, code, invitationId } = invited();
    const s = must(state, revokeInvitation(state, alice, invitationId, NOW).bytes);
    rejects(s, join(s, code, 'dave'), 'invitation_revoked');
  });

  it('a writer cannot invite or revoke invitations', () => {
    const { state, code, invitationId } = invited();
    const dave = device('dave');
    const r = buildJoin(state, code, dave, NOW);
    if (!r.ok) throw new Error(r.reason);
    const s = must(state, r.value.entry.bytes);
    rejects(s, revokeInvitation(s, dave, invitationId, NOW).bytes, 'entry_not_permitted');
    const inv = createInvitation(s, dave, r.value.epochKey, { role: 'admin', expiresAt: NOW + DAY, now: NOW });
    rejects(s, inv.entry.bytes, 'entry_not_permitted');
  });
});
