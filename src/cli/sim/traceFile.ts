// Reading a run back from its trace (`cloister sim --replay TRACE`): the `start` line gives the seed,
// replica count, faults, mode and tuning; the `step` lines give the plan. A trace is untrusted input:
// every line is parsed and checked, and a bad one is a one-line error naming the line and a reason code.
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { FAULTS } from './faults.ts';
import { ACTIONS, type FaultRates, type Step } from './ops.ts';
import { SIM_LIMITS } from './limits.ts';

export class TraceError extends Error {
  constructor(
    readonly code: 'trace_unreadable' | 'trace_not_json' | 'trace_no_start' | 'trace_bad_start' | 'trace_bad_step' | 'trace_step_order' | 'trace_too_long',
    message: string,
  ) {
    super(`${message} [${code}]`);
    this.name = 'TraceError';
  }
}

const fraction = z.number().min(0).lt(1);
const replica = z.number().int().min(0).max(SIM_LIMITS.maxReplicas - 1);
const text = z.string().max(1000);
const draw = z.strictObject({
  hot: z.boolean(),
  back: z.number().int().min(1).max(2),
  anyAt: fraction,
  field: z.string().regex(/^[a-z][a-z0-9_]{0,31}$/),
  value: text,
  title: text,
  word: z.string().max(32),
  pos: fraction,
  del: z.number().int().min(0).max(3),
});
const step = z.strictObject({
  t: z.literal('step'),
  i: z.number().int().min(0),
  ms: z.number().optional(),
  replica,
  action: z.enum(ACTIONS),
  draw,
  partition: z.strictObject({ replica, ops: z.number().int().min(0).max(1_000_000) }).optional(),
  drop: z.strictObject({ replica, afterFrames: z.number().int().min(1).max(1_000_000) }).optional(),
  leaseJump: z.boolean().optional(),
  removal: z.strictObject({ replica: replica.min(1), edits: z.array(draw).max(3) }).optional(),
  removeMallory: z.boolean().optional(),
  forge: z.strictObject({ victim: replica }).optional(),
  replay: z.strictObject({ link: replica, pick: fraction }).optional(),
});
const rate = z.number().min(0).max(1);
const start = z.object({
  t: z.literal('start'),
  seed: z.number().int().min(0).max(2 ** 32 - 1),
  replicas: z.number().int().min(1).max(SIM_LIMITS.maxReplicas),
  faults: z.array(z.enum(FAULTS)),
  memory: z.boolean().optional(),
  removal: z.enum(['push', 'causal']).optional(),
  rates: z.object({ partition: rate, drop: rate, replay: rate, forge: rate, duplicate: rate, cut: rate, reorder: rate }).partial().optional(),
  weights: z.record(z.enum(ACTIONS), z.number().min(0).max(1e6)).optional(),
});

export interface TracedRun {
  seed: number;
  replicas: number;
  faults: (typeof FAULTS)[number][];
  memory: boolean;
  removal: 'push' | 'causal';
  rates?: Partial<FaultRates>;
  weights?: Partial<Record<(typeof ACTIONS)[number], number>>;
  plan: Step[];
}

/** The run a trace file describes, ready for runSim({ ...run, ops: run.plan.length }). */
export function readTrace(path: string): TracedRun {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new TraceError('trace_unreadable', `cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let run: TracedRun | undefined;
  for (const [n, raw] of text.split('\n').entries()) {
    if (!raw.trim()) continue;
    let line: unknown;
    try {
      line = JSON.parse(raw);
    } catch {
      throw new TraceError('trace_not_json', `line ${n + 1} of ${path} is not JSON`);
    }
    const kind = (line as { t?: unknown } | null)?.t;
    if (kind === 'start') {
      const s = start.safeParse(line);
      if (!s.success) throw new TraceError('trace_bad_start', `line ${n + 1}: ${s.error.issues[0]?.path.join('.') || 'start'}: ${s.error.issues[0]?.message}`);
      run = { seed: s.data.seed, replicas: s.data.replicas, faults: s.data.faults, memory: !!s.data.memory, removal: s.data.removal ?? 'push', ...(s.data.rates ? { rates: s.data.rates } : {}), ...(s.data.weights ? { weights: s.data.weights } : {}), plan: [] };
    } else if (kind === 'step') {
      if (!run) throw new TraceError('trace_no_start', `line ${n + 1}: a step before the start line`);
      const s = step.safeParse(line);
      if (!s.success) throw new TraceError('trace_bad_step', `line ${n + 1}: ${s.error.issues[0]?.path.join('.') || 'step'}: ${s.error.issues[0]?.message}`);
      if (s.data.i !== run.plan.length) throw new TraceError('trace_step_order', `line ${n + 1}: step ${s.data.i} where step ${run.plan.length} was due`);
      if (run.plan.length >= SIM_LIMITS.maxOps) throw new TraceError('trace_too_long', `more than ${SIM_LIMITS.maxOps} steps`);
      const { t: _t, i: _i, ms: _ms, ...rest } = s.data;
      run.plan.push(rest as Step);
      const named = [rest.replica, rest.partition?.replica, rest.drop?.replica, rest.removal?.replica, rest.forge?.victim, rest.replay?.link];
      if (named.some(r => r !== undefined && r >= run!.replicas)) throw new TraceError('trace_bad_step', `line ${n + 1}: names a replica beyond the ${run.replicas} of the run`);
    }
  }
  if (!run) throw new TraceError('trace_no_start', `${path} has no start line`);
  return run;
}
