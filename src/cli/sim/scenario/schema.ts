// The scenario format (docs/SCENARIOS.md): a JSON object naming replicas and scripted steps, read as
// untrusted input. Every problem is one line naming the step (or the field) and a stable reason code.
import { z } from 'zod';
import { RELAY_DEFENCES } from '../../../../relay/defences.ts';

/** Defences a run can switch off: the relay's (relay/defences.ts) and the client's lease clock. */
export const DEFENCES = [...RELAY_DEFENCES, 'client.leaseClock'] as const;
export type Defence = (typeof DEFENCES)[number];

export type ScenarioErrorCode =
  | 'unreadable'
  | 'not_json'
  | 'bad_scenario'
  | 'bad_replicas'
  | 'relays_unsupported'
  | 'unknown_step'
  | 'bad_step'
  | 'unknown_replica'
  | 'unknown_record'
  | 'duplicate_record'
  | 'bad_partition'
  | 'unknown_defence'
  | 'too_many_steps';

/** A scenario file or object that can't be run: `step 4: unknown_replica (by "D" is not a replica)`. */
export class ScenarioError extends Error {
  constructor(
    readonly code: ScenarioErrorCode,
    readonly step: number | undefined,
    detail: string,
  ) {
    super(`${step === undefined ? 'scenario' : `step ${step}`}: ${code} (${detail})`);
    this.name = 'ScenarioError';
  }
}

export const LIMITS = { replicas: 8, steps: 500, text: 2000 } as const;

const name = z.string().regex(/^[A-Za-z][A-Za-z0-9_-]{0,15}$/, 'a name of 1-16 letters, digits, _ or -');
const text = z.string().max(LIMITS.text);
const alias = z.string().min(1).max(64);
const who = name;
const fieldKey = z
  .string()
  .regex(/^[A-Za-z0-9_ -]{1,64}$/, 'a field name of 1-64 letters, digits, spaces, _ or -')
  .refine(k => !['__proto__', 'constructor', 'prototype'].includes(k), 'a reserved name');
const path = z.string().regex(/^(title|notes|fields\.[A-Za-z0-9_ -]{1,64})$/, "'title', 'notes' or 'fields.KEY'");
const nonNeg = z.number().int().min(0).max(1_000_000);
/** An op may name the refusal it must meet ('ok' by default): e.g. offline_lease_expired, not_a_member. */
const expect = z.string().regex(/^[a-z_]{1,40}$/).optional();

const ops = {
  create: z.strictObject({ op: z.literal('create'), by: who, record: alias, title: text, fields: z.record(fieldKey, text).optional(), notes: text.optional(), expect }),
  set_field: z.strictObject({ op: z.literal('set_field'), by: who, record: alias, field: fieldKey, value: text, expect }),
  set_title: z.strictObject({ op: z.literal('set_title'), by: who, record: alias, title: text, expect }),
  splice_notes: z.strictObject({ op: z.literal('splice_notes'), by: who, record: alias, at: nonNeg, delete: nonNeg.default(0), insert: text.default(''), expect }),
  delete: z.strictObject({ op: z.literal('delete'), by: who, record: alias, expect }),
  restore: z.strictObject({ op: z.literal('restore'), by: who, record: alias, expect }),
  resolve: z.strictObject({ op: z.literal('resolve'), by: who, record: alias, path: path, value: text, expect }),
};

const faults = {
  duplicate: z.strictObject({ fault: z.literal('duplicate'), on: who, rate: z.number().min(0).max(1) }),
  reorder: z.strictObject({ fault: z.literal('reorder'), on: who, rate: z.number().min(0).max(1) }),
  drop: z.strictObject({ fault: z.literal('drop'), on: who, afterFrames: z.number().int().min(1).max(10_000) }),
  replay: z.strictObject({
    fault: z.literal('replay'),
    /** Whose acknowledged envelope (the newest its proxy captured). */
    of: who,
    /** Over whose authenticated connection it is pushed again (default: its own device's). */
    via: who.optional(),
    /** Replicas it is then handed to as if the relay delivered it again (must change nothing). */
    deliverTo: z.array(who).max(LIMITS.replicas).default([]),
    expect: expect,
  }),
  forge: z.strictObject({
    fault: z.literal('forge'),
    by: who,
    kind: z.enum(['bad_signature', 'wrong_device']),
    /** wrong_device: the device named in the envelope (default: the admin's). */
    as: who.optional(),
    expect: expect,
  }),
  'expired-lease': z.strictObject({ fault: z.literal('expired-lease'), advanceMs: z.number().int().min(1).max(10 * 365 * 86_400_000).optional() }),
  'clock-skew': z.strictObject({ fault: z.literal('clock-skew'), on: who, offsetMs: z.number().int().min(-10 * 365 * 86_400_000).max(10 * 365 * 86_400_000) }),
};

const recordPath = { record: alias, path, on: z.array(who).max(LIMITS.replicas).optional() };
const asserts = {
  converged: z.strictObject({ converged: z.literal(true) }),
  views: z.strictObject({ views: z.literal(true) }),
  noUntypedValues: z.strictObject({ noUntypedValues: z.literal(true) }),
  shown: z.strictObject({
    shown: z
      .strictObject({ ...recordPath, equals: text.optional(), oneOf: z.array(text).min(1).max(50).optional(), not: text.optional(), contains: z.array(text).min(1).max(50).optional(), lacks: z.array(text).min(1).max(50).optional() })
      .refine(x => x.equals !== undefined || x.oneOf || x.not !== undefined || x.contains || x.lacks, 'one of equals, oneOf, not, contains, lacks'),
  }),
  conflict: z.strictObject({ conflict: z.strictObject({ ...recordPath, values: z.array(text).max(50) }) }),
  deleted: z.strictObject({ deleted: z.strictObject({ record: alias, is: z.boolean(), on: z.array(who).max(LIMITS.replicas).optional() }) }),
  refused: z.strictObject({
    refused: z
      .strictObject({ at: z.enum(['relay', 'replicas', 'log']), reason: z.string().regex(/^[a-z_]{1,40}$/), min: nonNeg.optional(), max: nonNeg.optional(), count: nonNeg.optional() })
      .refine(x => x.min !== undefined || x.max !== undefined || x.count !== undefined, 'one of min, max, count'),
  }),
  quarantined: z.strictObject({ quarantined: z.strictObject({ on: who, own: nonNeg }) }),
  noForgedDocs: z.strictObject({ noForgedDocs: z.literal(true) }),
  members: z.strictObject({
    members: z
      .strictObject({ admins: z.array(who).max(LIMITS.replicas).optional(), removed: z.array(who).max(LIMITS.replicas).optional(), on: z.array(who).max(LIMITS.replicas).optional() })
      .refine(x => x.admins || x.removed, 'one of admins, removed'),
  }),
};

const steps = {
  partition: z.strictObject({ partition: z.array(z.array(name).min(1).max(LIMITS.replicas + 1)).min(1).max(LIMITS.replicas + 1) }),
  heal: z.strictObject({ heal: z.literal(true) }),
  sync: z.strictObject({ sync: z.union([z.literal('all'), z.array(who).min(1).max(50)]) }),
  remove: z.strictObject({ remove: who, by: who }),
  role: z.strictObject({ role: who, to: z.enum(['admin', 'writer', 'reader']), by: who }),
  resubmit: z.strictObject({ resubmit: who }),
  advance: z.strictObject({ advance: z.number().int().min(1).max(10 * 365 * 86_400_000) }),
};

const header = z.strictObject({
  name: z.string().min(1).max(100),
  description: z.string().max(4000).default(''),
  replicas: z.array(name).min(1).max(LIMITS.replicas),
  relays: z.literal(1).default(1),
  /** Fixes keys, actor ids (so which of two concurrent values shows) and ids, as `cloister sim --seed` does. */
  seed: z.number().int().min(0).max(2 ** 32 - 1).default(0),
  policy: z.strictObject({ maxOfflineMs: z.number().int().min(60_000).max(365 * 86_400_000), leasePolicy: z.enum(['reject', 'hold']) }).optional(),
  /** The defences this scenario is about: with any of them off it must fail (test/cli/simScenarios.test.ts). */
  keyDefences: z.array(z.enum(DEFENCES)).max(DEFENCES.length).default([]),
  steps: z.array(z.unknown()).min(1),
});

export type OpStep = z.infer<(typeof ops)[keyof typeof ops]>;
export type FaultStep = z.infer<(typeof faults)[keyof typeof faults]>;
export type AssertStep = { assert: z.infer<(typeof asserts)[keyof typeof asserts]> };
export type PlainStep = z.infer<(typeof steps)[keyof typeof steps]>;
export type Step = OpStep | FaultStep | AssertStep | PlainStep;

export interface Scenario {
  name: string;
  description: string;
  replicas: string[];
  relays: 1;
  seed: number;
  policy?: { maxOfflineMs: number; leasePolicy: 'reject' | 'hold' };
  keyDefences: Defence[];
  steps: Step[];
}

const issueOf = (e: z.ZodError): string => {
  const i = e.issues[0]!;
  return `${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`.replace(/\s+/g, ' ').slice(0, 200);
};

/** A `__proto__` key (JSON.parse makes it an own property) that validation would silently drop. */
function reservedKeyPath(v: unknown, at: string, depth = 0): string | undefined {
  if (!v || typeof v !== 'object' || depth > 8) return undefined;
  for (const k of Object.keys(v)) {
    if (k === '__proto__') return `${at}${k}`;
    const found = reservedKeyPath((v as Record<string, unknown>)[k], `${at}${k}.`, depth + 1);
    if (found) return found;
  }
  return undefined;
}

function parseStep(raw: unknown, i: number): Step {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ScenarioError('bad_step', i, 'a step is an object');
  const reserved = reservedKeyPath(raw, '');
  if (reserved) throw new ScenarioError('bad_step', i, `${reserved}: a reserved name`);
  const o = raw as Record<string, unknown>;
  let schema: z.ZodType | undefined;
  let kind: string;
  if ('op' in o) {
    kind = `op ${String(o.op)}`;
    schema = typeof o.op === 'string' && Object.hasOwn(ops, o.op) ? ops[o.op as keyof typeof ops] : undefined;
    if (!schema) throw new ScenarioError('unknown_step', i, `unknown op ${JSON.stringify(o.op)} (known: ${Object.keys(ops).join(', ')})`);
  } else if ('fault' in o) {
    kind = `fault ${String(o.fault)}`;
    schema = typeof o.fault === 'string' && Object.hasOwn(faults, o.fault) ? faults[o.fault as keyof typeof faults] : undefined;
    if (!schema) throw new ScenarioError('unknown_step', i, `unknown fault ${JSON.stringify(o.fault)} (known: ${Object.keys(faults).join(', ')})`);
  } else if ('assert' in o) {
    const a = o.assert;
    const keys = a && typeof a === 'object' && !Array.isArray(a) ? Object.keys(a) : [];
    if (Object.keys(o).length !== 1 || keys.length !== 1 || !Object.hasOwn(asserts, keys[0]!))
      throw new ScenarioError('unknown_step', i, `an assert holds exactly one of ${Object.keys(asserts).join(', ')}`);
    kind = `assert ${keys[0]}`;
    const r = asserts[keys[0] as keyof typeof asserts].safeParse(a);
    if (!r.success) throw new ScenarioError('bad_step', i, `${kind}: ${issueOf(r.error)}`);
    return { assert: r.data } as AssertStep;
  } else {
    const k = Object.keys(steps).find(s => s in o);
    if (!k) throw new ScenarioError('unknown_step', i, `a step has one of op, fault, assert, ${Object.keys(steps).join(', ')}`);
    kind = k;
    schema = steps[k as keyof typeof steps];
  }
  const r = schema.safeParse(raw);
  if (!r.success) throw new ScenarioError('bad_step', i, `${kind}: ${issueOf(r.error)}`);
  return r.data as Step;
}

/** Names a step refers to, so unknown replicas and records are caught before anything runs. */
function checkNames(s: Scenario): void {
  const replicas = new Set(s.replicas);
  const records = new Set<string>();
  const replica = (i: number, n: string | undefined, what: string) => {
    if (n !== undefined && !replicas.has(n)) throw new ScenarioError('unknown_replica', i, `${what} ${JSON.stringify(n)} is not a replica`);
  };
  const record = (i: number, r: string) => {
    if (!records.has(r)) throw new ScenarioError('unknown_record', i, `record ${JSON.stringify(r)} is not created by an earlier step`);
  };
  s.steps.forEach((st, i) => {
    if ('op' in st) {
      replica(i, st.by, 'by');
      if (st.op === 'create') {
        if (records.has(st.record)) throw new ScenarioError('duplicate_record', i, `record ${JSON.stringify(st.record)} is created twice`);
        records.add(st.record);
      } else record(i, st.record);
    } else if ('fault' in st) {
      if ('on' in st) replica(i, st.on, 'on');
      if (st.fault === 'replay') {
        replica(i, st.of, 'of');
        replica(i, st.via, 'via');
        for (const d of st.deliverTo) replica(i, d, 'deliverTo');
      }
      if (st.fault === 'forge') {
        replica(i, st.by, 'by');
        replica(i, st.as, 'as');
      }
    } else if ('assert' in st) {
      const a = st.assert as Record<string, { record?: string; on?: string[] } | undefined>;
      const body = Object.values(a)[0];
      if (body && typeof body === 'object') {
        if (typeof body.record === 'string') record(i, body.record);
        for (const n of body.on ?? []) replica(i, n, 'on');
        for (const k of ['admins', 'removed'] as const) for (const n of (body as Record<string, string[] | undefined>)[k] ?? []) replica(i, n, k);
        if ('on' in body && typeof body.on === 'string') replica(i, body.on, 'on');
      }
    } else if ('partition' in st) {
      const seen = new Set<string>();
      for (const g of st.partition)
        for (const n of g) {
          if (n !== 'relay') replica(i, n, 'partition member');
          if (seen.has(n)) throw new ScenarioError('bad_partition', i, `${n} is in two groups`);
          seen.add(n);
        }
      const missing = s.replicas.filter(n => !seen.has(n));
      if (missing.length) throw new ScenarioError('bad_partition', i, `every replica is in one group; missing ${missing.join(', ')}`);
    } else if ('sync' in st) {
      if (st.sync !== 'all') for (const n of st.sync) replica(i, n, 'sync');
    } else if ('remove' in st) {
      replica(i, st.remove, 'remove');
      replica(i, st.by, 'by');
      if (st.by === st.remove) throw new ScenarioError('bad_step', i, `${st.by} cannot remove itself`);
    } else if ('role' in st) {
      replica(i, st.role, 'role');
      replica(i, st.by, 'by');
    } else if ('resubmit' in st) replica(i, st.resubmit, 'resubmit');
  });
}

/** Validate an untrusted scenario object; throws a ScenarioError (one line) when it can't be run. */
export function parseScenario(raw: unknown): Scenario {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ScenarioError('bad_scenario', undefined, 'a scenario is a JSON object');
  if ('relays' in raw && (raw as { relays: unknown }).relays !== 1)
    throw new ScenarioError('relays_unsupported', undefined, 'one relay per run (docs/SCENARIOS.md → Partitions)');
  const h = header.safeParse(raw);
  if (!h.success) {
    const first = h.error.issues[0]!;
    throw new ScenarioError(first.path[0] === 'replicas' ? 'bad_replicas' : 'bad_scenario', undefined, issueOf(h.error));
  }
  if (new Set(h.data.replicas).size !== h.data.replicas.length) throw new ScenarioError('bad_replicas', undefined, 'replica names repeat');
  if (h.data.replicas.includes('relay')) throw new ScenarioError('bad_replicas', undefined, "'relay' names the relay in partitions");
  if (h.data.steps.length > LIMITS.steps) throw new ScenarioError('too_many_steps', undefined, `at most ${LIMITS.steps} steps`);
  const s: Scenario = { ...h.data, steps: h.data.steps.map(parseStep) } as Scenario;
  checkNames(s);
  return s;
}

/** Validate defence names given on the command line or to the API. */
export function parseDefences(names: readonly string[] | undefined): Defence[] {
  const out: Defence[] = [];
  for (const n of names ?? []) {
    if (!(DEFENCES as readonly string[]).includes(n)) throw new ScenarioError('unknown_defence', undefined, `unknown defence ${JSON.stringify(n)} (known: ${DEFENCES.join(', ')})`);
    if (!out.includes(n as Defence)) out.push(n as Defence);
  }
  return out;
}

/** The same check as a result, for callers that prefer one to a throw. */
export function validateScenario(raw: unknown): { ok: true; value: Scenario } | { ok: false; reason: ScenarioErrorCode; step?: number; message: string } {
  try {
    return { ok: true, value: parseScenario(raw) };
  } catch (e) {
    if (!(e instanceof ScenarioError)) throw e;
    return { ok: false, reason: e.code, ...(e.step !== undefined ? { step: e.step } : {}), message: e.message };
  }
}
