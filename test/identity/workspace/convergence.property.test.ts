// The convergence property: every delivery order of the same membership entries gives the same
// state on every replica. Random concurrent branches of removals, role changes, policy changes,
// rotations, invitations and device revocations fork from a shared team; replicas replay them in
// random permutations, or receive them one by one in random causal orders through appendEntry.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { revokeDevice } from '../../../src/identity/workspace/devices.ts';
import { createInvitation, revokeInvitation } from '../../../src/identity/workspace/invitations.ts';
import { appendEntry, replayLog } from '../../../src/identity/workspace/log.ts';
import { removeMember, rotateKey, setPolicy, setRole } from '../../../src/identity/workspace/members.ts';
import { decodeEntry } from '../../../src/identity/workspace/entry.ts';
import type { WorkspaceState } from '../../../src/identity/workspace/state.ts';
import { DAY, NOW, keysOf } from './fixtures.ts';
import { people, prefix, summary, type Person } from './scenario.ts';

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
  | { k: 'revokeDevice'; by: Person };

const person = fc.constantFrom(...names);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ k: fc.constant('remove' as const), by: person, who: person }) },
  { weight: 2, arbitrary: fc.record({ k: fc.constant('role' as const), by: person, who: person, role: fc.constantFrom('admin' as const, 'writer' as const, 'reader' as const) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('policy' as const), by: person, ms: fc.integer({ min: 0, max: 10 * DAY }) }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('rotate' as const), by: person }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('invite' as const), by: person }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('revokeInvite' as const), by: person }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('revokeDevice' as const), by: person }) },
);

/** Build one branch: each op by its author against the branch's own view; invalid ops are skipped. */
function branch(ops: Op[], start: WorkspaceState): { entries: Uint8Array[]; state: WorkspaceState } {
  let state = start;
  const entries: Uint8Array[] = [];
  for (const o of ops) {
    const by = people[o.by];
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

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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

describe('convergence', () => {
  it(`every delivery order of the same entries gives the same membership state (${RUNS} seeded runs, seed ${SEED})`, () => {
    let concurrentRemovals = 0;
    fc.assert(
      fc.property(
        fc.array(fc.array(op, { minLength: 1, maxLength: 3 }), { minLength: 2, maxLength: 3 }),
        fc.array(op, { maxLength: 2 }),
        fc.integer(),
        (branchOps, afterMerge, orderSeed) => {
          const rand = rng(orderSeed);
          const branches = branchOps.map((ops) => branch(ops, base.state));
          let entries = [...base.log, ...branches.flatMap((b) => b.entries)];
          // someone who has seen every branch continues on the merged state
          const merged = replayOrThrow(entries);
          entries = [...entries, ...branch(afterMerge, merged).entries];
          if (branches.filter((b) => b.entries.length > 0).length > 1) concurrentRemovals++;

          const reference = summary(replayOrThrow(entries));
          for (let i = 0; i < 2; i++) expect(summary(replayOrThrow(shuffle(entries, rand)))).toEqual(reference);
          expect(summary(deliverCausally(entries, rand))).toEqual(reference);
        },
      ),
      { numRuns: RUNS, seed: SEED, verbose: true },
    );
    console.log(`convergence: seed ${SEED}, ${RUNS} runs, ${concurrentRemovals} with concurrent branches`);
    expect(concurrentRemovals).toBeGreaterThan(RUNS / 4);
  }, 60_000);
});
