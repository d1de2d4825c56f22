// The simulator's two speed targets (issue 14), in memory mode on this machine: 10 replicas × 10,000
// ops in one run, and 100 seeds of 4 × 300 on two worker threads; each next to its target. Opt-in
// (`cloister bench --only sim`): at today's speed both take many minutes. CLOISTER_BENCH_SIM_OPS and
// CLOISTER_BENCH_SIM_SEEDS scale them down (the figures say which sizes ran).
import type { BenchSuite, Figures } from './suite.ts';

const TARGET_MS = 120_000;

function size(name: string, fallback: number): number {
  const v = Number(process.env[name]);
  return Number.isInteger(v) && v > 0 ? v : fallback;
}

export const simSuite: BenchSuite = {
  name: 'sim',
  description: 'cloister sim in memory mode: 10 replicas × 10,000 ops, and 100 seeds of 4 × 300 with --jobs 2',
  optIn: true,
  async run(ctx): Promise<Figures> {
    const { runSim } = await import('../sim/runSim.ts');
    const { runSeeds } = await import('../sim/runSeeds.ts');
    const ops = size('CLOISTER_BENCH_SIM_OPS', 10_000);
    const seeds = size('CLOISTER_BENCH_SIM_SEEDS', 100);
    ctx.log(`bench sim: 10 replicas × ${ops} ops (memory mode)`);
    const big = await runSim({ replicas: 10, ops, seed: 1, memory: true });
    ctx.log(`bench sim: ${seeds} seeds of 4 × 300 on 2 worker threads`);
    const many = await runSeeds({ replicas: 4, ops: 300, memory: true }, 1, seeds, 2);
    return {
      sim_10_replicas_ops: ops,
      sim_10_replicas_ms: big.timings.totalMs,
      sim_10_replicas_converged: big.converged,
      sim_10_replicas_ms_per_op: Math.round((big.timings.opsMs / Math.max(1, ops)) * 100) / 100,
      sim_10_replicas_sync_ms: big.timings.syncMs,
      sim_10_replicas_checks_ms: big.timings.checksMs,
      sim_10x10000_target_ms: TARGET_MS,
      sim_seeds_4x300: seeds,
      sim_seeds_4x300_jobs2_ms: many.wallMs,
      sim_seeds_4x300_converged: many.converged,
      sim_100_seeds_target_ms: TARGET_MS,
    };
  },
};
