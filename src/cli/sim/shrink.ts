// Shrinking a failing run (docs/SIM.md → Replay and shrink): fast-check shrinks the plan. The failing
// plan is the example of an arbitrary of plans made of its own steps (`fc.array(fc.constantFrom(...))`),
// so fast-check shrinks it without context: it drops runs of steps first, halving, then single steps,
// re-running the whole simulation for each candidate, and keeps the smallest plan that still fails.
// Steps are not rewritten: each is a step the seed drew, so the minimal plan reads as what happened.
import fc from 'fast-check';
import type { Step } from './ops.ts';
import type { SimOptions, SimReport } from './runSim.ts';

export interface ShrinkResult {
  /** The smallest failing plan found, and its run's report. */
  plan: Step[];
  report: SimReport;
  /** Simulations run while shrinking (the first re-runs the failing plan). */
  runs: number;
  /** True when the time limit cut shrinking short (the plan is the smallest found by then). */
  interrupted: boolean;
}

/**
 * Shrink `plan`, which fails under `o` (a run that does not converge), to a smaller plan that still
 * fails. `fails` decides what counts as the same failure (default: not converged). Runs are sequential.
 */
export async function shrinkPlan(
  o: SimOptions,
  plan: readonly Step[],
  opts: { fails?: (r: SimReport) => boolean; timeLimitMs?: number; log?: (m: string) => void } = {},
): Promise<ShrinkResult> {
  const fails = opts.fails ?? ((r: SimReport) => !r.converged);
  let runs = 0;
  let best: { plan: Step[]; report: SimReport } | undefined;
  if (plan.length === 0) throw new Error('an empty plan has nothing to shrink');
  const property = fc.asyncProperty(fc.array(fc.constantFrom(...plan), { maxLength: plan.length }), async candidate => {
    runs++;
    const report = await runSimOnce({ ...o, plan: candidate, ops: candidate.length, trace: undefined, log: undefined });
    const failed = fails(report);
    if (failed && (!best || candidate.length <= best.plan.length)) {
      best = { plan: candidate, report };
      opts.log?.(`shrink: run ${runs}: still fails with ${candidate.length} steps`);
    }
    return !failed;
  });
  const out = await fc.check(property, {
    examples: [[[...plan]]],
    numRuns: 1,
    seed: o.seed,
    ...(opts.timeLimitMs ? { interruptAfterTimeLimit: opts.timeLimitMs } : {}),
  });
  if (!best) throw new Error('the failing plan passed when run again: nothing to shrink (is the failure seed-exact?)');
  return { plan: best.plan, report: best.report, runs, interrupted: out.interrupted };
}

/** runSim, loaded lazily (runSim imports this file's types only). */
async function runSimOnce(o: SimOptions): Promise<SimReport> {
  const { runSim } = await import('./runSim.ts');
  return runSim(o);
}

/** A plan as a person reads it: one line per step, records by creation order. */
export function describePlan(plan: readonly Step[], replicaNames: (i: number) => string = i => `r${i}`): string[] {
  const lines: string[] = [];
  let creates = 0;
  for (const [i, s] of plan.entries()) {
    // as the run does it: with no record yet, the replica creates one whatever the step says
    const action = creates === 0 ? 'create' : s.action;
    if (action === 'create') creates++;
    const who = replicaNames(s.replica);
    const faults: string[] = [];
    if (s.partition) faults.push(`${replicaNames(s.partition.replica)} cut off from the relay for ${s.partition.ops} ops`);
    if (s.drop) faults.push(`${replicaNames(s.drop.replica)}'s connection cut after ${s.drop.afterFrames} frames`);
    if (s.leaseJump) faults.push(`the relay's clock jumps past every lease`);
    if (s.removal) faults.push(`admin removes ${replicaNames(s.removal.replica)}, who then sets ${s.removal.edits.map(d => `${d.field}=${JSON.stringify(d.value)}`).join(', ') || 'nothing'} offline`);
    if (s.removeMallory) faults.push('admin removes mallory');
    if (s.forge) faults.push(`mallory forges an envelope as ${replicaNames(s.forge.victim)}`);
    if (s.replay) faults.push(`an envelope captured on ${replicaNames(s.replay.link)}'s link is replayed`);
    const d = s.draw;
    const target = d.hot ? `the record ${d.back} before the newest` : `record at ${Math.round(d.anyAt * 100)}% of those created`;
    const what: Record<string, string> = {
      create: `${who} creates a record (title ${JSON.stringify(d.title)}, ${d.field} = ${JSON.stringify(d.value)})`,
      set_field: `${who} sets ${d.field} = ${JSON.stringify(d.value)} on ${target}`,
      set_title: `${who} sets the title ${JSON.stringify(d.title)} on ${target}`,
      splice_notes: `${who} types ${JSON.stringify(` ${d.word}`)} into the notes of ${target}`,
      delete: `${who} deletes the record at ${Math.round(d.anyAt * 100)}% of those created`,
      restore: `${who} restores a record from the trash`,
      resolve: `${who} resolves a conflicted record`,
      sync: `${who} syncs`,
    };
    lines.push(`${i + 1}. ${faults.length ? `${faults.join('; ')}; then ` : ''}${what[action]}`);
  }
  return lines;
}
