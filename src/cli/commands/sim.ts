// `cloister sim`: the seeded multi-replica simulation (src/cli/sim/, docs/SIM.md). One run, many seeds
// (--runs, --jobs), a replay of a trace (--replay), or a scripted scenario (--scenario). Prints one JSON
// report with --json (seed-exact but for `timings`, `trace` and `dir`), a short summary otherwise;
// exits 1 when the replicas did not converge or a scenario assertion failed, 2 on a usage error.
// The simulator itself loads inside the action, so `cloister --help` stays fast.
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { FAULTS, PLANNED_FAULTS, SimUsageError } from '../sim/faults.ts';
import { SIM_LIMITS } from '../sim/limits.ts';
import type { SimOptions, SimReport } from '../sim/runSim.ts';
import type { Action, FaultRates } from '../sim/ops.ts';
import { EXIT, fail, note, optionsOf, printJson } from '../context.ts';

const integer = (name: string) => (v: string): number => {
  if (!/^\d+$/.test(v)) throw new SimUsageError(`--${name} must be a non-negative integer`);
  return Number(v);
};

/** `a=1,b=0.5` → { a: 1, b: 0.5 }, names from `known`, values in [lo, hi]. */
function pairs<K extends string>(flag: string, spec: string, known: readonly K[], lo: number, hi: number): Partial<Record<K, number>> {
  const out: Partial<Record<K, number>> = {};
  for (const part of spec.split(',').map(s => s.trim()).filter(Boolean)) {
    const m = /^([a-z_-]+)=([0-9]*\.?[0-9]+)$/.exec(part);
    if (!m) throw new SimUsageError(`--${flag}: expected NAME=NUMBER, got ${JSON.stringify(part)}`);
    if (!(known as readonly string[]).includes(m[1]!)) throw new SimUsageError(`--${flag}: unknown name ${m[1]} (known: ${known.join(', ')})`);
    const v = Number(m[2]);
    if (!(v >= lo && v <= hi)) throw new SimUsageError(`--${flag}: ${m[1]} must be from ${lo} to ${hi}`);
    out[m[1] as K] = v;
  }
  return out;
}

function removalOf(v: string): 'push' | 'causal' {
  if (v !== 'push' && v !== 'causal') throw new SimUsageError('--removal must be push or causal');
  return v;
}

function summary(r: SimReport): string {
  const rej = (m: Record<string, number>) => Object.entries(m).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  const heals = r.timeline.convergenceAfterHeal.map(h => (h.reached ? `${h.ops} ops` : 'never')).join(', ');
  return [
    `${r.converged ? 'converged' : 'NOT converged'}: ${r.replicas} replicas, ${r.ops} ops, seed ${r.seed}, faults ${r.faults.join(',') || 'none'}, removal judged ${r.semantics.removal === 'push' ? 'at push' : 'by causal order'}`,
    `edits: ${r.edits.present}/${r.edits.made} present everywhere${r.edits.byRemovedMember ? ` (+${r.edits.byRemovedMember} by removed members, ${r.edits.byRemovedMemberPresent} kept)` : ''}`,
    `rejected by the relay: ${rej(r.rejected.relay)}; by replicas: ${rej(r.rejected.replicas)}${r.timeline.refusals.addsUp ? '' : ' (counters do not add up)'}`,
    `heads: ${[...new Set(r.heads.filter(h => !h.removed).map(h => h.digest))].join(' ')}`,
    `records: ${r.materialized.records} (${r.materialized.deleted} deleted), content ${r.contentHash ?? 'differs between replicas'}; conflicts: ${r.materialized.conflicts.paths} at the end, ${r.materialized.conflictsSeen} seen, ${r.materialized.resolved} resolved`,
    `wire: ${r.timeline.bytes.toRelay} bytes to the relay, ${r.timeline.bytes.toClient} back; caught up after heals in: ${heals || 'no heal'}`,
    ...(r.counterexample ? [`counterexample: ${JSON.stringify(r.counterexample)}`] : []),
    ...r.problems.map(p => `problem: ${p}`),
  ].join('\n');
}

interface SimFlags {
  replicas?: string;
  ops?: string;
  seed?: string;
  faults?: string;
  trace?: string;
  keep?: boolean;
  memory?: boolean;
  runs?: string;
  jobs?: string;
  replay?: string;
  scenario?: string;
  defenceOff?: string;
  shrink?: boolean;
  shrinkSeconds?: string;
  html?: string;
  elle?: string;
  weights?: string;
  rates?: string;
  pushWindow?: string;
  pullLimit?: string;
  applyBatch?: string;
  removal?: string;
}

export function register(program: Command): void {
  program
    .command('sim')
    .description('seeded, replayable simulation of many replicas through the real envelope, crypto and relay code')
    .option('--replicas <n>', `replicas (users), 1..${SIM_LIMITS.maxReplicas}`)
    .option('--ops <n>', `operations, 0..${SIM_LIMITS.maxOps}`)
    .option('--seed <n>', 'seed: the same seed gives the same run, byte for byte')
    .option('--faults <list>', `comma list of ${FAULTS.join(', ')}${PLANNED_FAULTS.length ? ` (not yet: ${PLANNED_FAULTS.join(', ')})` : ''}`)
    .option('--memory', 'profiles in RAM, the relay in memory and reached in-process (faster; the same checks)')
    .option('--runs <k>', 'run seeds SEED … SEED+K-1 and report which did not converge')
    .option('--jobs <n>', 'with --runs: worker threads running seeds in parallel (default 1)')
    .option('--replay <trace>', "run a trace's plan again (its seed, replicas, faults and steps)")
    .option('--shrink', 'when the run fails, shrink it to a minimal failing plan (fast-check) and print it')
    .option('--shrink-seconds <n>', 'time limit for --shrink (default 600)')
    .option('--scenario <file>', 'run a scripted scenario (docs/SCENARIOS.md) and check its assertions')
    .option('--defence-off <list>', 'with --scenario: defences switched off for this run (docs/SCENARIOS.md → Defences)')
    .option('--html <file>', 'write a self-contained HTML report with plots of lag, queue depth and refusals')
    .option('--elle <file>', 'write the history for Elle-style checkers (EDN; docs/SIM-HISTORY.md)')
    .option('--removal <semantics>', "how a removed member's envelopes are judged: push (the product's) or causal (docs/SIM.md → Semantics)")
    .option('--weights <list>', 'op mix, e.g. set_field=30,sync=32 (the others keep their defaults)')
    .option('--rates <list>', 'fault rates in [0,1], e.g. partition=0.03,drop=0.06,duplicate=0.1')
    .option('--push-window <n>', 'envelopes pushed without waiting for acks (default 256)')
    .option('--pull-limit <n>', 'envelopes asked for per pull (default 1000)')
    .option('--apply-batch <n>', 'envelopes per apply (default 10000)')
    .option('--trace <file>', 'write the JSON-lines trace here (default: in the run\'s temp directory)')
    .option('--keep', 'keep the profiles and relay database of the run')
    .action(async (o: SimFlags, cmd: Command) => {
      const opts = optionsOf(cmd);
      const log = opts.json ? () => undefined : note;
      if (o.scenario) return runScenarioCommand(o, opts.json);
      let so: SimOptions;
      try {
        so = await simOptionsOf(o);
      } catch (e) {
        fail((e as Error).message, EXIT.usage);
      }
      if (o.runs !== undefined) return runSeedsCommand(so, o, opts.json);
      const { runSim } = await import('../sim/runSim.ts');
      let report: SimReport;
      try {
        report = await runSim({ ...so, log });
      } catch (e) {
        fail(`sim failed: ${(e as Error).message}`, e instanceof SimUsageError ? EXIT.usage : EXIT.failure);
      }
      note(`trace: ${report.trace}; wall clock: setup ${report.timings.setupMs} ms, ops ${report.timings.opsMs} ms, final sync ${report.timings.finalSyncMs} ms, total ${report.timings.totalMs} ms`);
      await writeReports(o, report);
      let shrunk: Record<string, unknown> | undefined;
      if (!report.converged && o.shrink) shrunk = await shrinkCommand(so, report, o.shrinkSeconds === undefined ? 600 : integer('shrink-seconds')(o.shrinkSeconds));
      if (opts.json) printJson({ ...report, ...(shrunk ? { shrunk } : {}) });
      else process.stdout.write(`${summary(report)}\n${shrunk ? `minimal failing plan (${(shrunk.steps as string[]).length} steps, replay with --replay ${String(shrunk.trace)}):\n${(shrunk.steps as string[]).join('\n')}\n` : ''}`);
      if (!report.converged) process.exitCode = EXIT.failure;
    });
}

/** The flags as SimOptions (a replay takes its run from the trace; flags may only add reports). */
async function simOptionsOf(o: SimFlags): Promise<SimOptions> {
  const n = (flag: string, v: string | undefined) => (v === undefined ? undefined : integer(flag)(v));
  const sync = {
    ...(o.pushWindow !== undefined ? { pushWindow: Math.max(1, n('push-window', o.pushWindow)!) } : {}),
    ...(o.pullLimit !== undefined ? { pullLimit: Math.max(1, n('pull-limit', o.pullLimit)!) } : {}),
    ...(o.applyBatch !== undefined ? { applyBatch: Math.max(1, n('apply-batch', o.applyBatch)!) } : {}),
  };
  const { ACTIONS } = await import('../sim/ops.ts');
  const { validateSimOptions } = await import('../sim/runSim.ts');
  const RATE_NAMES = ['partition', 'drop', 'replay', 'forge', 'duplicate', 'cut', 'reorder'] as const;
  const tuning = {
    ...(o.weights ? { weights: pairs('weights', o.weights, ACTIONS, 0, 1e6) as Record<Action, number> } : {}),
    ...(o.rates ? { rates: pairs('rates', o.rates, RATE_NAMES, 0, 1) as Partial<FaultRates> } : {}),
    ...(Object.keys(sync).length ? { sync } : {}),
    ...(o.removal !== undefined ? { removal: removalOf(o.removal) } : {}),
  };
  if (o.replay) {
    if (o.replicas || o.ops || o.seed || o.faults) throw new SimUsageError('--replay takes the replicas, ops, seed and faults from the trace');
    const { readTrace } = await import('../sim/traceFile.ts');
    const t = readTrace(o.replay);
    const so: SimOptions = { replicas: t.replicas, ops: t.plan.length, seed: t.seed, faults: t.faults, plan: t.plan, memory: t.memory || !!o.memory, removal: t.removal, ...(t.rates ? { rates: t.rates } : {}), ...(t.weights ? { weights: { ...(await import('../sim/ops.ts')).DEFAULT_WEIGHTS, ...t.weights } } : {}), trace: o.trace, keep: !!o.keep, ...tuning };
    validateSimOptions(so);
    return so;
  }
  for (const f of ['replicas', 'ops', 'seed'] as const) if (o[f] === undefined) throw new SimUsageError(`--${f} is required (or --replay TRACE, or --scenario FILE)`);
  const so: SimOptions = {
    replicas: integer('replicas')(o.replicas!),
    ops: integer('ops')(o.ops!),
    seed: integer('seed')(o.seed!),
    faults: o.faults,
    trace: o.trace,
    keep: !!o.keep,
    memory: !!o.memory,
    ...tuning,
  };
  if (so.weights) so.weights = { ...(await import('../sim/ops.ts')).DEFAULT_WEIGHTS, ...so.weights };
  validateSimOptions(so);
  return so;
}

async function writeReports(o: SimFlags, report: SimReport): Promise<void> {
  if (!o.html && !o.elle) return;
  const { readFileSync } = await import('node:fs');
  const lines = readFileSync(report.trace, 'utf8').split('\n').filter(Boolean).map(l => JSON.parse(l) as Record<string, unknown>);
  try {
    if (o.html) {
      const { renderHtmlReport } = await import('../sim/report/html.ts');
      writeFileSync(o.html, renderHtmlReport(report, lines));
      note(`html report: ${o.html}`);
    }
    if (o.elle) {
      const { toElleHistory } = await import('../sim/report/elle.ts');
      writeFileSync(o.elle, toElleHistory(lines));
      note(`elle history: ${o.elle}`);
    }
  } catch (e) {
    fail(`cannot write the report: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

async function shrinkCommand(so: SimOptions, report: SimReport, seconds: number): Promise<Record<string, unknown>> {
  const { readTrace } = await import('../sim/traceFile.ts');
  const { shrinkPlan, describePlan } = await import('../sim/shrink.ts');
  const { join, dirname } = await import('node:path');
  const plan = readTrace(report.trace).plan;
  note(`shrink: ${plan.length} steps fail; shrinking (at most ${seconds} s)`);
  const s = await shrinkPlan({ ...so, trace: undefined }, plan, { timeLimitMs: seconds * 1000, log: note });
  const trace = join(dirname(report.trace), 'minimal-trace.jsonl');
  const { copyFileSync } = await import('node:fs');
  copyFileSync(s.report.trace, trace);
  return { steps: describePlan(s.plan), ops: s.plan.length, runs: s.runs, interrupted: s.interrupted, problems: s.report.problems, trace };
}

async function runSeedsCommand(so: SimOptions, o: SimFlags, json: boolean): Promise<void> {
  let runs: number;
  let jobs: number;
  try {
    runs = integer('runs')(o.runs!);
    jobs = o.jobs === undefined ? 1 : integer('jobs')(o.jobs);
    if (runs < 1 || runs > 100_000) throw new SimUsageError('--runs must be from 1 to 100000');
    if (jobs < 1 || jobs > 64) throw new SimUsageError('--jobs must be from 1 to 64');
    if (so.plan) throw new SimUsageError('--runs does not go with --replay');
    if (o.trace || o.html || o.elle || o.shrink) throw new SimUsageError('--runs writes one trace per seed in its temp directory: --trace, --html, --elle and --shrink take one run');
  } catch (e) {
    fail((e as Error).message, EXIT.usage);
  }
  const { runSeeds } = await import('../sim/runSeeds.ts');
  const { seed, log: _l, trace: _t, ...rest } = so;
  const r = await runSeeds(rest, seed, runs, jobs, json ? undefined : note);
  if (json) printJson(r);
  else {
    process.stdout.write(`${r.converged}/${r.runs} seeds converged (seeds ${seed}…${seed + runs - 1}, ${jobs} jobs, ${r.wallMs} ms)\n`);
    for (const f of r.failed) process.stdout.write(`seed ${f.seed}: ${f.problems.join('; ')}${f.trace ? ` (trace ${f.trace})` : ''}\n`);
  }
  if (r.failed.length) process.exitCode = EXIT.failure;
}

async function runScenarioCommand(o: SimFlags, json: boolean): Promise<void> {
  if (o.replicas || o.ops || o.seed || o.faults || o.replay || o.runs) fail('--scenario takes its replicas and steps from the file', EXIT.usage);
  const { runScenarioFile, formatScenarioSummary, ScenarioError } = await import('../sim/scenario/index.ts');
  const defencesOff = o.defenceOff ? o.defenceOff.split(',').map(s => s.trim()).filter(Boolean) : [];
  try {
    const r = await runScenarioFile(o.scenario!, { log: json ? undefined : note, defencesOff, keep: !!o.keep });
    if (json) printJson(r);
    else process.stdout.write(`${formatScenarioSummary(r)}\n`);
    if (!r.passed) process.exitCode = EXIT.failure;
  } catch (e) {
    if (e instanceof ScenarioError) fail(e.message, EXIT.usage);
    fail(`scenario failed to run: ${(e as Error).message}`);
  }
}
