// The simulated users' op mix and the run's plan (docs/SIM.md → What one run does). A plan is the list
// of steps a seed draws before anything runs: which replica acts, which action, the value drawn for
// it, and the faults scheduled at that step. Steps name records by how recent they are, not by id, so
// a step keeps its meaning when the shrinker removes others, and a trace's steps replay as they were.
// Registers are the point: half the field edits set `dose`, half the values come from a small
// vocabulary, and most edits go to a few recent records, so replicas often assign the same field
// concurrently (conflicts), sometimes to the same value.
import type { Rng } from './rng.ts';
import type { Fault } from './faults.ts';

export const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet'] as const;
export const FIELDS = ['dose', 'room', 'host', 'owner', 'port'] as const;
const VOCABULARY: Record<string, readonly string[]> = {
  dose: ['2mg', '5mg', '10mg'],
  room: ['4', '5', '6'],
  host: ['10.0.0.2', '192.168.1.9'],
  owner: ['alice', 'bob'],
  port: ['22', '443'],
};
export const ACTIONS = ['create', 'set_field', 'set_title', 'splice_notes', 'delete', 'restore', 'resolve', 'sync'] as const;
export type Action = (typeof ACTIONS)[number];
/** Today's op mix (relative weights); `--weights` changes it. */
export const DEFAULT_WEIGHTS: Readonly<Record<Action, number>> = { create: 5, set_field: 30, set_title: 10, splice_notes: 10, delete: 3, restore: 4, resolve: 6, sync: 32 };

/** What the seed drew for one op, whatever the action (so the stream doesn't depend on it). */
export interface Draw {
  /** Edits go to a recent record (the `back`-th before the newest) when hot, else to `anyAt` of all. */
  hot: boolean;
  back: number;
  /** A fraction in [0, 1): which of all records (delete, cold edits). */
  anyAt: number;
  field: string;
  /** The field value to set: half the time from the field's small vocabulary, else a fresh `WORD I`. */
  value: string;
  /** The title to set: `WORD server` (a small vocabulary) or a fresh `WORD I`. */
  title: string;
  word: string;
  /** A fraction in [0, 1): where in the notes, or which of the records/values shown. */
  pos: number;
  del: number;
}

/** A draw resolved against the records created so far (indexes into creation order). */
export interface Choice extends Draw {
  target: number;
  any: number;
}

export function drawChoice(rng: Rng, i: number): Draw {
  const hot = rng.next() < 0.7;
  const back = rng.int(1, 2);
  const anyAt = rng.next();
  const word = rng.pick(WORDS);
  const dose = rng.next() < 0.5;
  const other = rng.pick(FIELDS);
  const field = dose ? 'dose' : other;
  const common = rng.next() < 0.5;
  const vocab = rng.pick(VOCABULARY[field]!);
  return {
    hot,
    back,
    anyAt,
    field,
    value: common ? vocab : `${word} ${i}`,
    title: common ? `${word} server` : `${word} ${i}`,
    word,
    pos: rng.next(),
    del: rng.int(0, 3),
  };
}

/** Mostly the second or third newest record (the newest is often not everywhere yet). */
export function resolveChoice(d: Draw, created: number): Choice {
  const any = Math.min(created - 1, Math.floor(d.anyAt * created));
  return { ...d, target: d.hot ? Math.max(0, created - 1 - d.back) : Math.max(0, any), any: Math.max(0, any) };
}

export function pickAction(rng: Rng, weights: Readonly<Record<Action, number>> = DEFAULT_WEIGHTS): Action {
  const total = ACTIONS.reduce((s, a) => s + weights[a], 0);
  let x = rng.next() * total;
  for (const a of ACTIONS) if ((x -= weights[a]) < 0) return a;
  return 'sync';
}

/** One step of a plan: an op by a replica, after the faults scheduled at it. */
export interface Step {
  replica: number;
  /** When nothing exists yet the replica creates a record instead. */
  action: Action;
  draw: Draw;
  /** The replica can't reach the relay for this many ops. */
  partition?: { replica: number; ops: number };
  /** The replica's link is cut after this many more client frames. */
  drop?: { replica: number; afterFrames: number };
  /** The relay's clock jumps past every outstanding lease (expired-lease). */
  leaseJump?: boolean;
  /** The admin removes this replica; offline, not knowing yet, it makes these edits (refused at push). */
  removal?: { replica: number; edits: Draw[] };
  /** The admin removes Mallory (malicious). */
  removeMallory?: boolean;
  /** Mallory forges an envelope against this replica's device (malicious). */
  forge?: { victim: number };
  /** A captured envelope from this replica's link is pushed again and handed back to its author. */
  replay?: { link: number; pick: number };
}

/** Fault rates per op (or per frame, for the wire faults); `--rates` changes them. */
export interface FaultRates {
  partition: number;
  drop: number;
  replay: number;
  forge: number;
  /** Wire faults: per client→relay frame, per connection, per relay→client frame. */
  duplicate: number;
  cut: number;
  reorder: number;
}
export const DEFAULT_RATES: Readonly<FaultRates> = { partition: 0.03, drop: 0.06, replay: 0.04, forge: 0.06, duplicate: 0.1, cut: 0.1, reorder: 0.15 };

export interface PlanOptions {
  replicas: number;
  ops: number;
  faults: readonly Fault[];
  weights?: Readonly<Record<Action, number>>;
  rates?: Readonly<FaultRates>;
}

/** The seed's plan: every step drawn up front, from one stream, in op order. */
export function drawPlan(rng: Rng, o: PlanOptions): Step[] {
  const has = (f: Fault) => o.faults.includes(f);
  const rates = o.rates ?? DEFAULT_RATES;
  const removalAt = has('removal') && o.replicas >= 3 ? Math.floor(o.ops / 2) : -1;
  const malloryRemovalAt = has('malicious') ? Math.floor((o.ops * 3) / 4) : -1;
  const steps: Step[] = [];
  for (let i = 0; i < o.ops; i++) {
    const s: Partial<Step> = {};
    if (has('partition') && rng.chance(rates.partition)) s.partition = { replica: rng.int(0, o.replicas - 1), ops: rng.int(5, 40) };
    if (has('drop') && rng.chance(rates.drop)) s.drop = { replica: rng.int(0, o.replicas - 1), afterFrames: rng.int(1, 30) };
    if (has('expired-lease') && (i === Math.floor(o.ops / 3) || i === Math.floor((o.ops * 2) / 3))) s.leaseJump = true;
    if (i === removalAt) {
      const replica = rng.int(1, o.replicas - 1);
      const n = rng.int(1, 3);
      s.removal = { replica, edits: Array.from({ length: n }, () => drawChoice(rng, i)) };
    }
    if (i === malloryRemovalAt) s.removeMallory = true;
    if (has('malicious') && rng.chance(rates.forge)) s.forge = { victim: rng.int(0, o.replicas - 1) };
    if (has('replay') && rng.chance(rates.replay)) s.replay = { link: rng.int(0, o.replicas - 1), pick: rng.next() };
    const replica = rng.int(0, o.replicas - 1);
    const action = pickAction(rng, o.weights);
    steps.push({ ...s, replica, action, draw: drawChoice(rng, i) });
  }
  return steps;
}
