// The benchmark runner behind `cloister bench`: runs every registered suite (or --only some) and
// merges their named figures into one flat JSON object. A suite is one file here exporting a
// BenchSuite; add it to SUITES below with lazy(), which names it for --only and loads its file only
// when it runs (so `cloister` starts without loading every suite). Figure names must be unique
// across suites.
import { cpus } from 'node:os';
import type { BenchContext, BenchSuite, Figures } from './suite.ts';

export type { BenchContext, BenchSuite, Figures };

/** A registered suite: the suite itself, or a stand-in naming it whose `load` brings the real one. */
export type RegisteredSuite = BenchSuite & { load?: () => Promise<BenchSuite> };

/** A stand-in for the suite `name` (the same name as the suite file's own), loaded when it runs. */
function lazy(name: string, load: () => Promise<BenchSuite>, o: { optIn?: boolean } = {}): RegisteredSuite {
  return {
    name,
    description: `(${name}: loaded when run)`,
    ...(o.optIn ? { optIn: true } : {}),
    load,
    run: async (ctx) => (await load()).run(ctx),
  };
}

/** Every suite, in the order they run. Others add theirs here (docsBench, syncBench, …). */
export const SUITES: RegisteredSuite[] = [
  lazy('crypto', async () => (await import('./cryptoBench.ts')).cryptoBench),
  lazy('docs', async () => (await import('./docsBench.ts')).docsSuite),
  lazy('automerge', async () => (await import('./automergeVersionBench.ts')).automergeVersionSuite),
  lazy('records', async () => (await import('./recordsBench.ts')).recordsSuite),
  lazy('sync', async () => (await import('./syncBench.ts')).syncSuite),
  lazy('chain', async () => (await import('./chainBench.ts')).chainSuite),
  lazy('relay-load', async () => (await import('./relayLoadBench.ts')).relayLoadSuite, { optIn: true }),
  lazy('cli', async () => (await import('./cliBench.ts')).cliSuite, { optIn: true }),
  lazy('sync-scale', async () => (await import('./syncScaleBench.ts')).syncScaleSuite, { optIn: true }),
  lazy('sim', async () => (await import('./simBench.ts')).simSuite, { optIn: true }),
  lazy('long-doc', async () => (await import('./longDocBench.ts')).longDocSuite, { optIn: true }),
  lazy('trace', async () => (await import('./traceBench.ts')).traceSuite, { optIn: true }),
];

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
  for (const entry of chosen) {
    const suite = entry.load ? await entry.load() : entry;
    if (suite.name !== entry.name || !!suite.optIn !== !!entry.optIn) throw new Error(`bench suite ${entry.name} is registered as ${entry.name}${entry.optIn ? ' (opt-in)' : ''} but its file says ${suite.name}${suite.optIn ? ' (opt-in)' : ''}`);
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
