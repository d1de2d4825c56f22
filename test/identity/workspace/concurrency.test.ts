// Stories about concurrent appends: removal wins, seniority settles mutual removals, a removed
// member's concurrent entries (and what builds on them) are dropped, on every replica alike.
import { describe, expect, it } from 'vitest';
import { createInvitation, buildJoin } from '../../../src/identity/workspace/invitations.ts';
import { replayLog } from '../../../src/identity/workspace/log.ts';
import { removeMember, setPolicy, setRole } from '../../../src/identity/workspace/members.ts';
import { memberOf, needsRotation, policy } from '../../../src/identity/workspace/selectors.ts';
import type { WorkspaceState } from '../../../src/identity/workspace/state.ts';
import { DAY, NOW, device, keysOf } from './fixtures.ts';
import { applyAll, people, prefix, summary } from './scenario.ts';

const { alice, bob, carol } = people;
const base = prefix();

function replay(entries: Uint8Array[]): WorkspaceState {
  const r = replayLog(entries, NOW);
  if (!r.ok) throw new Error(r.reason);
  return r.value;
}

/** Every replica, whichever branch it saw first, ends in the same state; returns it. */
function converge(branchA: Uint8Array[], branchB: Uint8Array[]): WorkspaceState {
  const ab = applyAll(base.state, [...branchA, ...branchB]);
  const ba = applyAll(base.state, [...branchB, ...branchA]);
  const full = replay([...base.log, ...branchB, ...branchA].reverse());
  expect(summary(ab)).toEqual(summary(ba));
  expect(summary(full)).toEqual(summary(ab));
  return ab;
}

describe('concurrent membership changes', () => {
  it('a removed member’s concurrent entries are dropped, and what builds on them', () => {
    const s = base.state;
    const removal = removeMember(s, alice, keysOf(s, alice), 'bob', NOW).entry.bytes;
    // meanwhile bob, not yet knowing, changes the policy, invites frank, and frank joins
    const pol = setPolicy(s, bob, { maxOfflineMs: 1, leasePolicy: 'reject' }, NOW);
    let sb = applyAll(s, [pol.bytes]);
    const inv = createInvitation(sb, bob, keysOf(sb, bob).get(sb.epoch)!, { role: 'admin', expiresAt: NOW + DAY, now: NOW });
    sb = applyAll(sb, [inv.entry.bytes]);
    const frank = device('frank');
    const join = buildJoin(sb, inv.code, frank, NOW);
    if (!join.ok) throw new Error(join.reason);

    const merged = converge([removal], [pol.bytes, inv.entry.bytes, join.value.entry.bytes]);
    expect(memberOf(merged, 'bob')?.removed).toBe(true);
    expect(memberOf(merged, 'frank')).toBeUndefined();
    expect(policy(merged)).toEqual(base.state.policy);
    expect(merged.dropped.get(pol.id)).toBe('entry_concurrently_removed');
    expect(merged.dropped.get(join.value.entry.id)).toBe('entry_concurrently_removed');
  });

  it('a mutual removal is settled by seniority: the earlier-admitted admin stays', () => {
    const s = base.state;
    const aliceRemovesBob = removeMember(s, alice, keysOf(s, alice), 'bob', NOW).entry.bytes;
    const bobRemovesAlice = removeMember(s, bob, keysOf(s, bob), 'alice', NOW).entry.bytes;
    const merged = converge([aliceRemovesBob], [bobRemovesAlice]);
    expect(memberOf(merged, 'alice')?.removed).toBe(false);
    expect(memberOf(merged, 'bob')?.removed).toBe(true);
    expect(needsRotation(merged)).toBe(false);
  });

  it('mutual removal between two later admins: bob (admitted before carol) stays', () => {
    const s = base.state;
    const merged = converge(
      [removeMember(s, carol, keysOf(s, carol), 'bob', NOW).entry.bytes],
      [removeMember(s, bob, keysOf(s, bob), 'carol', NOW).entry.bytes],
    );
    expect(memberOf(merged, 'bob')?.removed).toBe(false);
    expect(memberOf(merged, 'carol')?.removed).toBe(true);
  });

  it('removal wins over a concurrent promotion by the removed admin', () => {
    const s = base.state;
    const merged = converge(
      [removeMember(s, alice, keysOf(s, alice), 'bob', NOW).entry.bytes],
      [setRole(s, bob, 'dave', 'admin', NOW).bytes],
    );
    expect(memberOf(merged, 'dave')?.role).toBe('writer');
  });

  it('two unrelated concurrent removals both take effect, and a fresh rotation is called for', () => {
    const s = base.state;
    const merged = converge(
      [removeMember(s, alice, keysOf(s, alice), 'dave', NOW).entry.bytes],
      [removeMember(s, bob, keysOf(s, bob), 'carol', NOW).entry.bytes],
    );
    expect(memberOf(merged, 'dave')?.removed).toBe(true);
    expect(memberOf(merged, 'carol')?.removed).toBe(true);
    // each rotation sealed the new key to the member the other one removed
    expect(needsRotation(merged)).toBe(true);
  });

  it('a removed admin who removed someone concurrently is overruled: that removal is dropped', () => {
    // carol removes alice while alice removes dave: alice's removal of dave is dropped
    const s = base.state;
    const merged = converge(
      [removeMember(s, carol, keysOf(s, carol), 'alice', NOW).entry.bytes],
      [removeMember(s, alice, keysOf(s, alice), 'dave', NOW).entry.bytes],
    );
    expect(memberOf(merged, 'alice')?.removed).toBe(true);
    expect(memberOf(merged, 'dave')?.removed).toBe(false);
  });

  it('two people racing to use a single-use invitation: exactly one gets in, the same one everywhere', () => {
    const s = base.state;
    const inv = createInvitation(s, alice, keysOf(s, alice).get(s.epoch)!, { role: 'writer', expiresAt: NOW + DAY, now: NOW });
    const s1 = applyAll(s, [inv.entry.bytes]);
    const frank = buildJoin(s1, inv.code, device('frank'), NOW);
    const grace = buildJoin(s1, inv.code, device('grace'), NOW);
    if (!frank.ok || !grace.ok) throw new Error('join');
    const a = applyAll(s1, [frank.value.entry.bytes, grace.value.entry.bytes]);
    const b = applyAll(s1, [grace.value.entry.bytes, frank.value.entry.bytes]);
    expect(summary(a)).toEqual(summary(b));
    const admitted = ['frank', 'grace'].filter((u) => memberOf(a, u) !== undefined);
    expect(admitted).toHaveLength(1);
    const loser = admitted[0] === 'frank' ? grace : frank;
    expect(a.dropped.get(loser.value.entry.id)).toBe('invitation_used');
  });
});
