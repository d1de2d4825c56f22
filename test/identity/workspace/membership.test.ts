// Stories about who may append what to a workspace's membership log.
import { describe, expect, it } from 'vitest';
import { createWorkspace } from '../../../src/identity/workspace/createWorkspace.ts';
import { buildJoin, createInvitation } from '../../../src/identity/workspace/invitations.ts';
import { removeMember, setPolicy, setRole } from '../../../src/identity/workspace/members.ts';
import { canWrite, currentEpoch, isActiveDevice, memberOf, members, policy } from '../../../src/identity/workspace/selectors.ts';
import type { WorkspaceState } from '../../../src/identity/workspace/state.ts';
import type { Role } from '../../../src/identity/workspace/entry.ts';
import type { DeviceKeys } from '../../../src/identity/workspace/signEntry.ts';
import { DAY, NOW, device, keysOf, must, rejects } from './fixtures.ts';

function admit(state: WorkspaceState, admin: DeviceKeys, joiner: DeviceKeys, role: Role): WorkspaceState {
  const inv = createInvitation(state, admin, keysOf(state, admin).get(state.epoch)!, { role, expiresAt: NOW + DAY, now: NOW });
  state = must(state, inv.entry.bytes);
  const join = buildJoin(state, inv.code, joiner, NOW);
  if (!join.ok) throw new Error(join.reason);
  return must(state, join.value.entry.bytes);
}

function team() {
  const alice = device('alice', 'Alice');
  const bob = device('bob', 'Bob');
  const eve = device('eve', 'Eve');
  let { state } = createWorkspace(alice, 'Team', { now: NOW });
  state = admit(state, alice, bob, 'writer');
  return { alice, bob, eve, state };
}

describe('membership log', () => {
  it('alice creates a workspace and is its only admin', () => {
    const alice = device('alice', 'Alice');
    const { state } = createWorkspace(alice, 'Team', { now: NOW });
    expect(members(state)).toEqual([{ userId: 'alice', role: 'admin', removed: false, devices: [alice.deviceId], name: 'Alice' }]);
    expect(currentEpoch(state)).toBe(0);
    expect(canWrite(state, alice.deviceId)).toBe(true);
  });

  it('bob joins with an invitation and gets the invited role', () => {
    const { bob, state } = team();
    expect(memberOf(state, 'bob')?.role).toBe('writer');
    expect(isActiveDevice(state, bob.deviceId)).toBe(true);
    expect(canWrite(state, bob.deviceId)).toBe(true);
    expect(keysOf(state, bob).has(0)).toBe(true);
  });

  it('eve, who is not a member, cannot append', () => {
    const { eve, state } = team();
    const entry = setPolicy(state, eve, { maxOfflineMs: 1, leasePolicy: 'reject' }, NOW);
    rejects(state, entry.bytes, 'entry_author_unknown');
    const role = setRole(state, eve, 'eve', 'admin', NOW);
    rejects(state, role.bytes, 'entry_author_unknown');
  });

  it('eve cannot pass off an entry under bob’s device id', () => {
    const { bob, eve, state } = team();
    const forged = setPolicy(state, { ...eve, deviceId: bob.deviceId }, { maxOfflineMs: 1, leasePolicy: 'reject' }, NOW);
    rejects(state, forged.bytes, 'entry_bad_signature');
  });

  it('a writer cannot remove members', () => {
    const { alice, bob, state } = team();
    const keys = keysOf(state, bob);
    const { entry } = removeMember(state, bob, keys, 'alice', NOW);
    rejects(state, entry.bytes, 'entry_not_permitted');
    expect(memberOf(state, 'alice')?.removed).toBe(false);
    expect(alice.deviceId).toBeTruthy();
  });

  it('a writer cannot change roles or the policy', () => {
    const { bob, state } = team();
    rejects(state, setRole(state, bob, 'bob', 'admin', NOW).bytes, 'entry_not_permitted');
    rejects(state, setPolicy(state, bob, { maxOfflineMs: 1, leasePolicy: 'reject' }, NOW).bytes, 'entry_not_permitted');
  });

  it('the admin sets roles and the policy, and the selectors show them', () => {
    const { alice, bob, state: s0 } = team();
    let state = must(s0, setRole(s0, alice, 'bob', 'reader', NOW).bytes);
    expect(canWrite(state, bob.deviceId)).toBe(false);
    expect(isActiveDevice(state, bob.deviceId)).toBe(true);
    state = must(state, setPolicy(state, alice, { maxOfflineMs: 3 * DAY, leasePolicy: 'reject' }, NOW).bytes);
    expect(policy(state)).toEqual({ maxOfflineMs: 3 * DAY, leasePolicy: 'reject' });
  });

  it('the last admin cannot be demoted or removed', () => {
    const { alice, state } = team();
    rejects(state, setRole(state, alice, 'alice', 'writer', NOW).bytes, 'last_admin');
    rejects(state, removeMember(state, alice, keysOf(state, alice), 'alice', NOW).entry.bytes, 'last_admin');
  });

  it('an entry delivered twice is a duplicate', () => {
    const { alice, state } = team();
    const e = setPolicy(state, alice, { maxOfflineMs: 1, leasePolicy: 'hold' }, NOW);
    const s1 = must(state, e.bytes);
    rejects(s1, e.bytes, 'entry_duplicate');
  });

  it('a removed member can no longer append', () => {
    const { alice, bob, state: s0 } = team();
    let state = must(s0, setRole(s0, alice, 'bob', 'admin', NOW).bytes);
    state = must(state, removeMember(state, alice, keysOf(state, alice), 'bob', NOW).entry.bytes);
    expect(memberOf(state, 'bob')?.removed).toBe(true);
    expect(isActiveDevice(state, bob.deviceId)).toBe(false);
    rejects(state, setPolicy(state, bob, { maxOfflineMs: 1, leasePolicy: 'hold' }, NOW).bytes, 'entry_author_inactive');
  });
});
