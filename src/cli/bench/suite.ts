// What a benchmark suite is: a name for --only and a function returning named figures.
export type Figures = Record<string, unknown>;

export interface BenchContext {
  /** Progress for people, on stderr; never part of the JSON. */
  log(message: string): void;
}

export interface BenchSuite {
  /** Short name used by `--only`, e.g. "crypto". */
  name: string;
  description: string;
  /** Run only when named in --only (e.g. the relay load test: minutes, child processes, PostgreSQL). */
  optIn?: boolean;
  run(ctx: BenchContext): Promise<Figures>;
}

