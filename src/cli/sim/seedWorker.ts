// One worker thread of `cloister sim --runs K --jobs N`: runs the seeds it is handed, one at a time
// (each with its own seeded random stream; see seededRandom.ts), and posts back each run's outcome.
import { parentPort } from 'node:worker_threads';
import { runSim, type SimOptions } from './runSim.ts';
import { seedOutcome } from './runSeeds.ts';

parentPort?.on('message', async (m: { seed: number; options: Omit<SimOptions, 'seed' | 'log'> } | 'stop') => {
  if (m === 'stop') return process.exit(0);
  try {
    parentPort!.postMessage({ ok: true, outcome: seedOutcome(await runSim({ ...m.options, seed: m.seed })) });
  } catch (e) {
    parentPort!.postMessage({ ok: false, seed: m.seed, error: (e as Error).message.slice(0, 500) });
  }
});
