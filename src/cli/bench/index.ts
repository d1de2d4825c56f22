// The benchmark runner behind `cloister bench`: runs every registered suite (or --only some) and
// merges their named figures into one flat JSON object. A suite is one file here exporting a
// BenchSuite; add it to SUITES below. Figure names must be unique across suites.
import { cpus } from 'node:os';
import { chainSuite } from './chainBench.ts';
import { cryptoBench } from './cryptoBench.ts';
import { docsSuite } from './docsBench.ts';
import { automergeVersionSuite } from './automergeVersionBench.ts';
import { recordsSuite } from './recordsBench.ts';
import { relayLoadSuite } from './relayLoadBench.ts';
import { syncSuite } from './syncBench.ts';
import type { BenchContext, BenchSuite, Figures } from './suite.ts';

export type { BenchContext, BenchSuite, Figures };

/** Every suite, in the order they run. Others add theirs here (docsBench, syncBench, …). */
export const SUITES: BenchSuite[] = [cryptoBench, docsSuite, automergeVersionSuite, recordsSuite, syncSuite, chainSuite, relayLoadSuite];

export async function runBench(only: string[] | undefined, ctx: BenchContext): Promise<Figures> {
  const unknown = (only ?? []).filter((n) => !SUITES.some((s) => s.name === n));
  if (unknown.length > 0) throw new RangeError(`unknown bench suite ${unknown.join(', ')} (have: ${SUITES.map((s) => s.name).join(', ')})`);
  const chosen = only && only.length > 0 ? SUITES.filter((s) => only.includes(s.name)) : SUITES.filter((s) => !s.optIn);
  const out: Figures = {
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    cpu_count: cpus().length,
    cpu_model: cpus()[0]?.model ?? 'unknown',
    suites: chosen.map((s) => s.name),
  };
  const suiteMs: Record<string, number> = {};
  for (const suite of chosen) {
    ctx.log(`bench: ${suite.name} — ${suite.description}`);
    const t0 = performance.now();
    const figures = await suite.run(ctx);
    suiteMs[suite.name] = Math.round(performance.now() - t0);
    for (const [k, v] of Object.entries(figures)) {
      if (k in out) throw new Error(`bench figure ${k} reported twice (suite ${suite.name})`);
      out[k] = v;
    }
  }
  out.suite_ms = suiteMs;
  return out;
}
