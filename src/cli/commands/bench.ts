// `cloister bench`: run the benchmark suites (src/cli/bench) and print their figures.
import { Option, type Command } from 'commander';
import { runBench, SUITES } from '../bench/index.ts';
import { EXIT, fail, note, optionsOf, printJson } from '../context.ts';

export function register(program: Command): void {
  program
    .command('bench')
    .description('run the benchmark suites and print named figures (--json: one JSON object)')
    .addOption(new Option('--only <suites...>', 'run only these suites').choices(SUITES.map((s) => s.name)))
    .action(async (o: { only?: string[] }, cmd: Command) => {
      const opts = optionsOf(cmd);
      let figures: Record<string, unknown>;
      try {
        figures = await runBench(o.only, { log: note });
      } catch (e) {
        fail(`bench failed: ${(e as Error).message}`, e instanceof RangeError ? EXIT.usage : EXIT.failure);
      }
      if (opts.json) printJson(figures);
      else for (const [k, v] of Object.entries(figures)) process.stdout.write(`${k}: ${typeof v === 'object' ? JSON.stringify(v) : String(v)}\n`);
      // A bench is one-shot: it ends once its figures are out. The automerge-repo anchors' WebSocket
      // clients can go on reconnecting to their closed server after shutdown(), which kept the
      // process alive after printing (seen with --only sync-scale).
      process.stdout.write('', () => process.exit());
    });
}
