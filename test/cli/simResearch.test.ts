// `cloister sim` as a research tool (issue 14): a seed fixes the outcome byte for byte, a trace replays
// the run it came from, a planted bug is shrunk by fast-check to a handful of steps, many seeds run on
// worker threads, and a hostile trace file is refused with a reason code.
import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runSim, type SimReport } from '../../src/cli/sim/runSim.ts';
import { describePlan, shrinkPlan } from '../../src/cli/sim/shrink.ts';
import { readTrace } from '../../src/cli/sim/traceFile.ts';
import { runSeeds } from '../../src/cli/sim/runSeeds.ts';
import { cloister } from './run.ts';
import { integrationTimeouts } from '../timeouts.ts';

integrationTimeouts();

const dirs: string[] = [];
afterAll(() => dirs.forEach(d => rmSync(d, { recursive: true, force: true })));
const keep = (r: SimReport) => (dirs.push(r.dir), r);
/** Everything a run reports except wall-clock times and temp paths. */
const exact = (r: SimReport) => JSON.stringify({ ...r, timings: undefined, trace: undefined, dir: undefined });

describe('cloister sim: seed-exact runs', () => {
  it('the same seed gives byte-identical reports and final documents, under every fault', async () => {
    const o = { replicas: 3, ops: 120, seed: 21, faults: 'partition,duplicate,drop,replay,malicious,removal,clock-skew', memory: true };
    const a = keep(await runSim(o));
    const b = keep(await runSim(o));
    expect(a.problems).toEqual([]);
    expect(a.contentHash).toMatch(/^[0-9a-f]{32}$/);
    expect(b.contentHash).toBe(a.contentHash);
    // every replica's documents, Automerge.save() byte for byte
    expect(b.heads.map(h => h.documents)).toEqual(a.heads.map(h => h.documents));
    expect(exact(b)).toBe(exact(a));
    // and another seed is another run
    const c = keep(await runSim({ ...o, seed: 22 }));
    expect(c.contentHash).not.toBe(a.contentHash);
  });

  it('a trace replays the run it came from, byte for byte', async () => {
    const trace = join(tmpdir(), `cloister-sim-replay-${process.pid}.jsonl`);
    const a = keep(await runSim({ replicas: 3, ops: 60, seed: 5, faults: 'partition,drop', memory: true, trace }));
    const t = readTrace(trace);
    expect(t).toMatchObject({ seed: 5, replicas: 3, faults: ['partition', 'drop'], memory: true });
    expect(t.plan).toHaveLength(60);
    const b = keep(await runSim({ replicas: t.replicas, ops: t.plan.length, seed: t.seed, faults: t.faults, memory: t.memory, plan: t.plan }));
    expect(exact(b)).toBe(exact(a));
    rmSync(trace, { force: true });
  });

  it('a hostile trace file is refused with a one-line reason code', () => {
    const path = join(tmpdir(), `cloister-sim-hostile-${process.pid}.jsonl`);
    const start = '{"t":"start","seed":1,"replicas":2,"faults":[]}';
    const draw = '{"hot":true,"back":1,"anyAt":0.5,"field":"dose","value":"x","title":"t","word":"alpha","pos":0.1,"del":0}';
    const cases: [string, RegExp][] = [
      ['not json at all', /\[trace_not_json\]$/],
      [`{"t":"step","i":0,"replica":0,"action":"sync","draw":${draw}}`, /\[trace_no_start\]$/],
      [`${start}\n{"t":"step","i":0,"replica":5,"action":"sync","draw":${draw}}`, /\[trace_bad_step\]$/],
      [`${start}\n{"t":"step","i":3,"replica":0,"action":"sync","draw":${draw}}`, /\[trace_step_order\]$/],
      [`${start}\n{"t":"step","i":0,"replica":0,"action":"sync","draw":${draw},"__proto__":{"x":1}}`, /\[trace_bad_step\]$/],
      ['{"t":"start","seed":-1,"replicas":2,"faults":[]}', /\[trace_bad_start\]$/],
    ];
    for (const [text, reason] of cases) {
      writeFileSync(path, text);
      expect(() => readTrace(path)).toThrow(reason);
    }
    const cli = cloister(['sim', '--replay', path]);
    expect(cli.code).toBe(2);
    expect(cli.stderr.trim().split('\n')).toHaveLength(1);
    rmSync(path, { force: true });
  });
});

describe('cloister sim: shrinking', () => {
  it('a planted bug (one dropped change at apply) fails a 300-op run, and fast-check shrinks it to at most 10 steps', async () => {
    const o = { replicas: 2, ops: 300, seed: 7, memory: true, plantedBug: { dropRemote: { replica: 1, nth: 3 } } };
    const failing = keep(await runSim(o));
    expect(failing.converged).toBe(false);
    const plan = readTrace(failing.trace).plan;
    expect(plan).toHaveLength(300);
    const s = await shrinkPlan(o, plan);
    dirs.push(s.report.dir);
    console.log(`shrunk 300 steps to ${s.plan.length} in ${s.runs} runs:\n${describePlan(s.plan).join('\n')}`);
    expect(s.plan.length).toBeLessThanOrEqual(10);
    expect(s.report.converged).toBe(false);
    expect(s.report.problems.join(' ')).toMatch(/missing|differ/);
    // the same plan without the bug converges: the failure is the planted bug's
    const clean = keep(await runSim({ ...o, plantedBug: undefined, plan: s.plan, ops: s.plan.length }));
    expect(clean.converged).toBe(true);
  });
});

describe('cloister sim: semantics switches', () => {
  it('removal judged by causal order keeps the offline edits a removed member made before it knew; judged at push refuses them', async () => {
    const o = { replicas: 3, ops: 120, seed: 4, faults: 'removal', memory: true };
    const push = keep(await runSim({ ...o, removal: 'push' }));
    const causal = keep(await runSim({ ...o, removal: 'causal' }));
    expect(push.semantics).toEqual({ removal: 'push' });
    expect(causal.semantics).toEqual({ removal: 'causal' });
    expect(push.converged && causal.converged).toBe(true);
    expect(push.rejected.relay.not_a_member).toBeGreaterThan(0);
    expect(push.edits.byRemovedMemberPresent).toBeLessThan(push.edits.byRemovedMember);
    expect(causal.rejected.relay.not_a_member ?? 0).toBe(0);
    expect(causal.edits.byRemovedMemberPresent).toBe(causal.edits.byRemovedMember);
    // the same plan either way: only the judgement differs
    expect(causal.edits.byRemovedMember).toBe(push.edits.byRemovedMember);
  });
});

describe('cloister sim: many seeds', () => {
  it('--runs on two worker threads gives each seed the outcome it has alone', async () => {
    const o = { replicas: 2, ops: 40, faults: 'duplicate', memory: true };
    const many = await runSeeds(o, 30, 3, 2);
    expect(many).toMatchObject({ runs: 3, jobs: 2, converged: 3, failed: [] });
    const alone = keep(await runSim({ ...o, seed: 31 }));
    expect(many.results.find(x => x.seed === 31)!.contentHash).toBe(alone.contentHash);
    for (const r of many.results) expect(r.contentHash).toMatch(/^[0-9a-f]{32}$/);
  });

  it('the command line takes --runs, --jobs and tuning flags, and refuses bad ones in one line', () => {
    const ok = cloister(['sim', '--replicas', '2', '--ops', '20', '--seed', '3', '--runs', '2', '--jobs', '2', '--memory', '--weights', 'sync=50', '--rates', 'duplicate=0.5', '--faults', 'duplicate', '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    const r = JSON.parse(ok.stdout) as { runs: number; converged: number; results: { seed: number }[] };
    expect(r).toMatchObject({ runs: 2, converged: 2 });
    expect(r.results.map(x => x.seed)).toEqual([3, 4]);
    for (const [args, msg] of [
      [['--weights', 'teleport=3'], /unknown name teleport/],
      [['--rates', 'drop=2'], /drop must be from 0 to 1/],
      [['--runs', '2', '--trace', '/tmp/x'], /--runs writes one trace per seed/],
    ] as const) {
      const bad = cloister(['sim', '--replicas', '2', '--ops', '5', '--seed', '1', ...args]);
      expect(bad.code).toBe(2);
      expect(bad.stderr.trim()).toMatch(msg);
    }
  });
});
