// The convergence property: every delivery order of the same membership entries gives the same
// state on every replica. Random concurrent branches of removals, role changes, policy changes,
// rotations, invitations and device revocations fork from a shared team; replicas replay them in
// random permutations, or receive them one by one in random causal orders through appendEntry.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addDevice, revokeDevice } from '../../../src/identity/workspace/devices.ts';
import { signDeviceEnrolment } from '../../../src/identity/workspace/deviceLink.ts';
import { buildJoin, createInvitation, revokeInvitation } from '../../../src/identity/workspace/invitations.ts';
import { appendEntry, replayLog } from '../../../src/identity/workspace/log.ts';
import { removeMember, rotateKey, setPolicy, setRole } from '../../../src/identity/workspace/members.ts';
import { decodeEntry } from '../../../src/identity/workspace/entry.ts';
import type { WorkspaceState } from '../../../src/identity/workspace/state.ts';
import { latestSlotEpoch, openEpochKeys } from '../../../src/identity/workspace/epochKeys.ts';
import { needsRotation } from '../../../src/identity/workspace/selectors.ts';
import { isActive } from '../../../src/identity/workspace/validateEntry.ts';
import { DAY, NOW, device, keysOf } from './fixtures.ts';
import { people, prefix, summary, type Person } from './scenario.ts';
import { mulberry32 } from '../../../src/cli/sim/rng.ts';
import { SLOW_TEST_MS } from '../../timeouts.ts';

export const SEED = Number(process.env.WORKSPACE_FC_SEED ?? 20261127);
const RUNS = 200;
const names: Person[] = ['alice', 'bob', 'carol', 'dave'];
const base = prefix();

type Op =
  | { k: 'remove'; by: Person; who: Person }
  | { k: 'role'; by: Person; who: Person; role: 'admin' | 'writer' | 'reader' }
  | { k: 'policy'; by: Person; ms: number }
  | { k: 'rotate'; by: Person }
  | { k: 'invite'; by: Person }
  | { k: 'revokeInvite'; by: Person }
  | { k: 'revokeDevice'; by: Person }
  | { k: 'join'; who: number }
  | { k: 'addDevice'; by: Person; who: number };

const person = fc.constantFrom(...names);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ k: fc.constant('remove' as const), by: person, who: person }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('role' as const), by: person, who: person, role: fc.constantFrom('admin' as const, 'writer' as const, 'reader' as const) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('policy' as const), by: person, ms: fc.integer({ min: 0, max: 10 * DAY }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('rotate' as const), by: person }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('invite' as const), by: person }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('revokeInvite' as const), by: person }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('revokeDevice' as const), by: person }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('join' as const), who: fc.integer({ min: 0, max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('addDevice' as const), by: person, who: fc.integer({ min: 0, max: 3 }) }) },
);

// Newcomers racing for a shared two-use invitation, and spare devices, made once.
const newcomers = [0, 1, 2, 3].map((i) => device(`new${i}`));
const spareDevices = names.flatMap((n) => [0, 1, 2, 3].map((i) => ({ n, i, d: device(n) })));
const shared = createInvitation(base.state, people.alice, keysOf(base.state, people.alice).get(0)!, { role: 'writer', expiresAt: NOW + 3650 * DAY, now: NOW, maxUses: 2 });
base.state = applyAllOrThrow(base.state, shared.entry.bytes);
base.log.push(shared.entry.bytes);

function applyAllOrThrow(state: WorkspaceState, bytes: Uint8Array): WorkspaceState {
  const r = appendEntry(state, bytes, NOW);
  if (!r.ok) throw new Error(r.reason);
  return r.value;
}

/** Build one branch: each op by its author against the branch's own view; invalid ops are skipped. */
function branch(ops: Op[], start: WorkspaceState): { entries: Uint8Array[]; state: WorkspaceState } {
  let state = start;
  const entries: Uint8Array[] = [];
  for (const o of ops) {
    const by = people['by' in o ? o.by : 'alice'];
    let bytes: Uint8Array;
    try {
      const keys = keysOf(state, by);
      switch (o.k) {
        case 'remove': bytes = removeMember(state, by, keys, o.who, NOW).entry.bytes; break;
        case 'role': bytes = setRole(state, by, o.who, o.role, NOW).bytes; break;
        case 'policy': bytes = setPolicy(state, by, { maxOfflineMs: o.ms, leasePolicy: 'hold' }, NOW).bytes; break;
        case 'rotate': bytes = rotateKey(state, by, keys, NOW).entry.bytes; break;
        case 'invite': bytes = createInvitation(state, by, keys.get(state.epoch)!, { role: 'writer', expiresAt: NOW + DAY, now: NOW }).entry.bytes; break;
        case 'revokeInvite': {
          const inv = [...state.invitations.values()].find((i) => !i.revoked);
          if (!inv) continue;
          bytes = revokeInvitation(state, by, inv.id, NOW).bytes;
          break;
        }
        case 'revokeDevice': bytes = revokeDevice(state, by, keys, by.deviceId, NOW).entry.bytes; break;
        case 'join': {
          const j = buildJoin(state, shared.code, newcomers[o.who]!, NOW);
          if (!j.ok) continue;
          bytes = j.value.entry.bytes;
          break;
        }
        case 'addDevice': {
          const spare = spareDevices.find((x) => x.n === o.by && x.i === o.who)!.d;
          const sig = signDeviceEnrolment(spare.signingKey, state.workspaceId, by.userId, spare);
          bytes = addDevice(state, by, keys.get(state.epoch)!, spare, sig, NOW).bytes;
          break;
        }
      }
    } catch {
      continue; // e.g. the author can no longer open the current key in this branch
    }
    const r = appendEntry(state, bytes, NOW);
    if (!r.ok) continue;
    state = r.value;
    entries.push(bytes);
  }
  return { entries, state };
}

/** mulberry32 (src/cli/sim/rng.ts): a seeded generator, so an order can be replayed from the printed seed. */
const rng = mulberry32;

function shuffle<T>(xs: T[], rand: () => number): T[] {
  const a = [...xs];
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** Deliver entries one at a time in a random order that respects parents (as sync does). */
function deliverCausally(entries: Uint8Array[], rand: () => number): WorkspaceState {
  const pending = entries.map((bytes) => {
    const d = decodeEntry(bytes);
    if (!d.ok) throw new Error(d.reason);
    return d.value;
  });
  const delivered = new Set<string>();
  let state = replayOrThrow(base.log);
  for (const id of state.known.keys()) delivered.add(id);
  let left = pending.filter((e) => !delivered.has(e.id));
  while (left.length > 0) {
    const ready = left.filter((e) => e.body.parents.every((p) => delivered.has(p)));
    const pick = ready[Math.floor(rand() * ready.length)]!;
    const r = appendEntry(state, pick.bytes, NOW);
    if (!r.ok) throw new Error(`replica refused ${pick.body.kind}: ${r.reason}`);
    state = r.value;
    delivered.add(pick.id);
    left = left.filter((e) => e.id !== pick.id);
  }
  return state;
}

function replayOrThrow(entries: Uint8Array[]): WorkspaceState {
  const r = replayLog(entries, NOW);
  if (!r.ok) throw new Error(r.reason);
  return r.value;
}

/**
 * Key invariants on the merged state: every device with a lockbox opens a consistent chain; unless
 * the state asks for a rotation, every active device reads the current epoch and no inactive one does.
 */
function checkKeys(state: WorkspaceState): void {
  const all = [...Object.values(people), ...newcomers, ...spareDevices.map((x) => x.d)];
  const rotationDue = needsRotation(state);
  for (const d of all) {
    if (latestSlotEpoch(state, d.deviceId) === undefined) continue;
    const keys = openEpochKeys(state, d.deviceId, d.boxKey);
    if (!keys.ok) throw new Error(`device of ${d.userId} cannot open its keys: ${keys.reason}`);
    if (!rotationDue) expect(keys.value.has(state.epoch)).toBe(isActive(state, d.deviceId));
  }
}

describe('convergence', () => {
  it(`every delivery order of the same entries gives the same membership state, and keys stay consistent (${RUNS} seeded runs, seed ${SEED})`, () => {
    let concurrentRemovals = 0;
    const kinds = new Map<string, number>();
    fc.assert(
      fc.property(
        fc.array(fc.array(op, { minLength: 1, maxLength: 3 }), { minLength: 2, maxLength: 3 }),
        fc.array(op, { maxLength: 2 }),
        fc.integer(),
        (branchOps, afterMerge, orderSeed) => {
          const rand = rng(orderSeed);
          // The first two branches fork from the shared team; a third forks part-way along the first.
          const branches: { entries: Uint8Array[]; state: WorkspaceState }[] = [];
          for (const [i, ops] of branchOps.entries()) {
            let start = base.state;
            if (i === 2) for (const e of branches[0]!.entries.slice(0, 1 + Math.floor(rand() * 2))) start = applyAllOrThrow(start, e);
            branches.push(branch(ops, start));
          }
          let entries = [...base.log, ...branches.flatMap((b) => b.entries)];
          // someone who has seen every branch continues on the merged state
          const merged = replayOrThrow(entries);
          entries = [...entries, ...branch(afterMerge, merged).entries];
          if (branches.filter((b) => b.entries.length > 0).length > 1) concurrentRemovals++;

          const replayed = replayOrThrow(entries);
          for (const e of replayed.known.values()) kinds.set(e.body.kind, (kinds.get(e.body.kind) ?? 0) + 1);
          for (const r of replayed.dropped.values()) kinds.set(`dropped:${r}`, (kinds.get(`dropped:${r}`) ?? 0) + 1);
          const reference = summary(replayed);
          checkKeys(replayed);
          for (let i = 0; i < 2; i++) expect(summary(replayOrThrow(shuffle(entries, rand)))).toEqual(reference);
          expect(summary(deliverCausally(entries, rand))).toEqual(reference);
        },
      ),
      { numRuns: RUNS, seed: SEED, verbose: true },
    );
    console.log(`convergence: seed ${SEED}, ${RUNS} runs, ${concurrentRemovals} with concurrent branches;`, JSON.stringify(Object.fromEntries([...kinds].sort())));
    expect(concurrentRemovals).toBeGreaterThan(RUNS / 4);
  }, SLOW_TEST_MS);
});
