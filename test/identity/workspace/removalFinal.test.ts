// Removal is final (DESIGN → Membership log): a removed member's devices are all inactive, and their
// user id never joins again, whatever invitation they hold; the person comes back as a new identity.
import { describe, expect, it } from 'vitest';
import { createWorkspace } from '../../../src/identity/workspace/createWorkspace.ts';
import { buildJoin, createInvitation } from '../../../src/identity/workspace/invitations.ts';
import { removeMember } from '../../../src/identity/workspace/members.ts';
import { isActiveDevice } from '../../../src/identity/workspace/selectors.ts';
import type { DeviceKeys } from '../../../src/identity/workspace/signEntry.ts';
import type { WorkspaceState } from '../../../src/identity/workspace/state.ts';
import type { Role } from '../../../src/identity/workspace/entry.ts';
import { DAY, NOW, device, keysOf, must, rejects } from './fixtures.ts';

function invite(state: WorkspaceState, admin: DeviceKeys, role: Role) {
  const inv = createInvitation(state, admin, keysOf(state, admin).get(state.epoch)!, { role, expiresAt: NOW + DAY, now: NOW });
  return { state: must(state, inv.entry.bytes), code: inv.code };
}

function joinWith(state: WorkspaceState, code: Uint8Array | string, joiner: DeviceKeys) {
  const j = buildJoin(state, code as never, joiner, NOW);
  if (!j.ok) throw new Error(j.reason);
  return j.value.entry.bytes;
}

describe('removal is final', () => {
  it('a rejoin under an old user id is refused, even with a fresh reader invitation, and the old devices stay revoked', async () => {
    const alice = device('alice');
    const bobLaptop = device('bob');
    let { state } = createWorkspace(alice, 'Team', { now: NOW });
    let inv = invite(state, alice, 'writer');
    state = must(inv.state, joinWith(inv.state, inv.code, bobLaptop));
    state = must(state, removeMember(state, alice, keysOf(state, alice), 'bob', NOW).entry.bytes);
    // Removing bob ended his laptop's access.
    expect(isActiveDevice(state, bobLaptop.deviceId)).toBe(false);

    // Bob (or whoever stole his laptop's user id) gets a reader invitation and joins as "bob" again, from a new device.
    const bobPhone = device('bob');
    inv = invite(state, alice, 'reader');
    rejects(inv.state, joinWith(inv.state, inv.code, bobPhone), 'member_was_removed');
    expect(isActiveDevice(inv.state, bobLaptop.deviceId)).toBe(false);

    // The same person joins as a new identity.
    const bob2 = device('bob-2');
    const back = must(inv.state, joinWith(inv.state, inv.code, bob2));
    expect(isActiveDevice(back, bob2.deviceId)).toBe(true);
    expect(isActiveDevice(back, bobLaptop.deviceId)).toBe(false);
  });
});
