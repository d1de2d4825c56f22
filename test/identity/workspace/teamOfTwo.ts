// alice (admin) and bob (writer), joined through a real invitation.
import { createWorkspace } from '../../../src/identity/workspace/createWorkspace.ts';
import { buildJoin, createInvitation } from '../../../src/identity/workspace/invitations.ts';
import { DAY, NOW, device, keysOf, must } from './fixtures.ts';

export function teamOfTwo() {
  const alice = device('alice');
  const bob = device('bob');
  let { state } = createWorkspace(alice, 'Team', { now: NOW });
  const inv = createInvitation(state, alice, keysOf(state, alice).get(0)!, { role: 'writer', expiresAt: NOW + DAY, now: NOW });
  state = must(state, inv.entry.bytes);
  const join = buildJoin(state, inv.code, bob, NOW);
  if (!join.ok) throw new Error(join.reason);
  state = must(state, join.value.entry.bytes);
  return { alice, bob, state };
}
