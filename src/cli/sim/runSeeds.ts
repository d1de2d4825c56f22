// Many seeds of one configuration (`cloister sim --seed S --runs K --jobs N`): seeds S … S+K-1, spread
// over N worker threads (each thread runs its seeds one after another). Every run is as seed-exact as a
// single one; the summary lists the seeds that did not converge so each can be run (and shrunk) alone.
import { Worker } from 'node:worker_threads';
import type { SimOptions, SimReport } from './runSim.ts';

export interface SeedOutcome {
  seed: number;
  converged: boolean;
  contentHash: string | null;
  problems: string[];
  trace: string;
  totalMs: number;
}

export interface SeedsReport {
  runs: number;
  jobs: number;
  converged: number;
  /** Seeds that did not converge (or failed to run), with their problems. */
  failed: { seed: number; problems: string[]; trace?: string }[];
  results: { seed: number; converged: boolean; contentHash: string | null }[];
  wallMs: number;
}

export const seedOutcome = (r: SimReport): SeedOutcome => ({ seed: r.seed, converged: r.converged, contentHash: r.contentHash, problems: r.problems, trace: r.trace, totalMs: r.timings.totalMs });

type Reply = { ok: true; outcome: SeedOutcome } | { ok: false; seed: number; error: string };

/**
 * The worker's module: the compiled one next to this file; or, when this file runs as TypeScript (tests,
 * CLOISTER_DEV), the source, loaded after registering tsx's loader inside the worker.
 */
function startWorker(): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./seedWorker.js', import.meta.url));
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./seedWorker.ts', import.meta.url).href;
  return new Worker(`import(${JSON.stringify(tsx)}).then(api => { api.register(); return import(${JSON.stringify(entry)}); });`, { eval: true });
}

export async function runSeeds(options: Omit<SimOptions, 'seed' | 'log'>, firstSeed: number, runs: number, jobs: number, log: (m: string) => void = () => undefined): Promise<SeedsReport> {
  const t0 = performance.now();
  const seeds = Array.from({ length: runs }, (_, k) => (firstSeed + k) >>> 0);
  const outcomes = new Map<number, SeedOutcome | { seed: number; error: string }>();
  const record = (x: SeedOutcome | { seed: number; error: string }) => {
    outcomes.set(x.seed, x);
    log(`sim: ${outcomes.size}/${runs} seeds (${'error' in x ? `seed ${x.seed} failed to run` : `seed ${x.seed} ${x.converged ? 'converged' : 'NOT converged'}`})`);
  };
  if (jobs <= 1) {
    const { runSim } = await import('./runSim.ts');
    for (const seed of seeds) {
      try {
        record(seedOutcome(await runSim({ ...options, seed })));
      } catch (e) {
        record({ seed, error: (e as Error).message });
      }
    }
  } else {
    const queue = [...seeds];
    await Promise.all(
      Array.from({ length: Math.min(jobs, runs) }, async () => {
        const w = startWorker();
        try {
          for (;;) {
            const seed = queue.shift();
            if (seed === undefined) break;
            const reply = await new Promise<Reply>((resolve, reject) => {
              const onError = (e: Error) => reject(e);
              w.once('error', onError);
              w.once('message', (m: Reply) => {
                w.off('error', onError);
                resolve(m);
              });
              w.postMessage({ seed, options });
            });
            record(reply.ok ? reply.outcome : { seed: reply.seed, error: reply.error });
          }
        } finally {
          await w.terminate();
        }
      }),
    );
  }
  const all = seeds.map(s => outcomes.get(s)!);
  return {
    runs,
    jobs,
    converged: all.filter(x => !('error' in x) && x.converged).length,
    failed: all.filter(x => 'error' in x || !x.converged).map(x => ('error' in x ? { seed: x.seed, problems: [`failed to run: ${x.error}`] } : { seed: x.seed, problems: x.problems, trace: x.trace })),
    results: all.map(x => ('error' in x ? { seed: x.seed, converged: false, contentHash: null } : { seed: x.seed, converged: x.converged, contentHash: x.contentHash })),
    wallMs: Math.round(performance.now() - t0),
  };
}
