// `cloister sim`: the seeded multi-replica simulation (src/cli/sim/runSim.ts). Prints one JSON report
// with --json, a short summary otherwise; exits non-zero when the replicas did not converge.
// The simulator itself loads inside the action, so `cloister --help` stays fast.
import type { Command } from 'commander';
import { FAULTS, PLANNED_FAULTS, SimUsageError } from '../sim/faults.ts';
import { SIM_LIMITS } from '../sim/limits.ts';
import type { SimOptions, SimReport } from '../sim/runSim.ts';
import { EXIT, fail, note, optionsOf, printJson } from '../context.ts';

const integer = (name: string) => (v: string): number => {
  if (!/^\d+$/.test(v)) throw new SimUsageError(`--${name} must be a non-negative integer`);
  return Number(v);
};

function summary(r: SimReport): string {
  const rej = (m: Record<string, number>) => Object.entries(m).map(([k, v]) => `${k} ${v}`).join(', ') || 'none';
  return [
    `${r.converged ? 'converged' : 'NOT converged'}: ${r.replicas} replicas, ${r.ops} ops, seed ${r.seed}, faults ${r.faults.join(',') || 'none'}`,
    `edits: ${r.edits.present}/${r.edits.made} present everywhere${r.edits.byRemovedMember ? ` (+${r.edits.byRemovedMember} by removed members, ${r.edits.byRemovedMemberPresent} kept)` : ''}`,
    `rejected by the relay: ${rej(r.rejected.relay)}; by replicas: ${rej(r.rejected.replicas)}`,
    `heads: ${[...new Set(r.heads.filter(h => !h.removed).map(h => h.digest))].join(' ')}`,
    `records: ${r.materialized.records} (${r.materialized.deleted} deleted), content ${r.contentHash ?? 'differs between replicas'}; conflicts: ${r.materialized.conflicts.paths} at the end, ${r.materialized.conflictsSeen} seen, ${r.materialized.resolved} resolved`,
    ...(r.counterexample ? [`counterexample: ${JSON.stringify(r.counterexample)}`] : []),
    `time: setup ${r.timings.setupMs} ms, ops ${r.timings.opsMs} ms, final sync ${r.timings.finalSyncMs} ms, total ${r.timings.totalMs} ms`,
    ...r.problems.map(p => `problem: ${p}`),
    `trace: ${r.trace}`,
  ].join('\n');
}

export function register(program: Command): void {
  program
    .command('sim')
    .description('seeded, replayable simulation of many replicas through the real envelope, crypto and relay code')
    .requiredOption('--replicas <n>', `replicas (users), 1..${SIM_LIMITS.maxReplicas}`)
    .requiredOption('--ops <n>', `operations, 0..${SIM_LIMITS.maxOps}`)
    .requiredOption('--seed <n>', 'seed: the same seed gives the same trace')
    .option('--faults <list>', `comma list of ${FAULTS.join(', ')}${PLANNED_FAULTS.length ? ` (not yet: ${PLANNED_FAULTS.join(', ')})` : ''}`)
    .option('--trace <file>', 'write the JSON-lines trace here (default: in the run\'s temp directory)')
    .option('--keep', 'keep the profiles and relay database of the run')
    .action(async (o: { replicas: string; ops: string; seed: string; faults?: string; trace?: string; keep?: boolean }, cmd: Command) => {
      const opts = optionsOf(cmd);
      const { runSim, validateSimOptions } = await import('../sim/runSim.ts');
      let so: SimOptions;
      try {
        so = { replicas: integer('replicas')(o.replicas), ops: integer('ops')(o.ops), seed: integer('seed')(o.seed), faults: o.faults, trace: o.trace, keep: !!o.keep };
        validateSimOptions(so);
      } catch (e) {
        fail((e as Error).message, EXIT.usage);
      }
      let report: SimReport;
      try {
        report = await runSim({ ...so, log: opts.json ? undefined : note });
      } catch (e) {
        fail(`sim failed: ${(e as Error).message}`, e instanceof SimUsageError ? EXIT.usage : EXIT.failure);
      }
      if (opts.json) printJson(report);
      else process.stdout.write(`${summary(report)}\n`);
      if (!report.converged) process.exitCode = EXIT.failure;
    });
}
