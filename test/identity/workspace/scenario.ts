// A shared team for concurrency tests: alice (founder admin), bob and carol (admins), dave (writer).
// The prefix log is built once; each story forks concurrent branches from its end.
import type { Role } from '../../../src/identity/workspace/entry.ts';
import { createWorkspace } from '../../../src/identity/workspace/createWorkspace.ts';
import { buildJoin, createInvitation } from '../../../src/identity/workspace/invitations.ts';
import { appendEntry } from '../../../src/identity/workspace/log.ts';
import { members, needsRotation } from '../../../src/identity/workspace/selectors.ts';
import type { DeviceKeys } from '../../../src/identity/workspace/signEntry.ts';
import type { WorkspaceState } from '../../../src/identity/workspace/state.ts';
import { isActive } from '../../../src/identity/workspace/validateEntry.ts';
import { DAY, NOW, device, keysOf, must } from './fixtures.ts';

export const people = { alice: device('alice'), bob: device('bob'), carol: device('carol'), dave: device('dave') };
export type Person = keyof typeof people;

function admit(state: WorkspaceState, admin: DeviceKeys, joiner: DeviceKeys, role: Role, log: Uint8Array[]): WorkspaceState {
  const inv = createInvitation(state, admin, keysOf(state, admin).get(state.epoch)!, { role, expiresAt: NOW + 3650 * DAY, now: NOW });
  state = must(state, inv.entry.bytes);
  const join = buildJoin(state, inv.code, joiner, NOW);
  if (!join.ok) throw new Error(join.reason);
  log.push(inv.entry.bytes, join.value.entry.bytes);
  return must(state, join.value.entry.bytes);
}

export function prefix(): { state: WorkspaceState; log: Uint8Array[] } {
  const created = createWorkspace(people.alice, 'Team', { now: NOW });
  const log = [created.root];
  let state = created.state;
  state = admit(state, people.alice, people.bob, 'admin', log);
  state = admit(state, people.alice, people.carol, 'admin', log);
  state = admit(state, people.alice, people.dave, 'writer', log);
  return { state, log };
}

/** Append a list of entries in order; throws on the first rejection. */
export function applyAll(state: WorkspaceState, entries: Uint8Array[]): WorkspaceState {
  for (const e of entries) {
    const r = appendEntry(state, e, NOW);
    if (!r.ok) throw new Error(`rejected: ${r.reason} ${r.detail ?? ''}`);
    state = r.value;
  }
  return state;
}

/** Everything that must agree between replicas, as plain comparable data. */
export function summary(state: WorkspaceState) {
  return {
    members: members(state),
    activeDevices: [...state.devices.keys()].filter((d) => isActive(state, d)).sort(),
    epoch: state.epoch,
    epochChecks: [...state.epochs.values()].map((r) => Buffer.from(r.check).toString('hex')).sort(),
    policy: state.policy,
    invitations: [...state.invitations.values()].map((i) => `${i.id}:${i.uses}:${i.revoked}`).sort(),
    applied: [...state.applied.keys()].sort(),
    head: state.head,
    needsRotation: needsRotation(state),
  };
}
