// `cloister sim`: the same seed replays the same trace; replicas converge under partitions, duplicated
// frames and cut connections; and a malicious member's forgeries are refused (by the relay or by every
// replica), counted by reason, and change nothing.
import { readFileSync, rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { runSim, type SimReport } from '../../src/cli/sim/runSim.ts';
import { cloister } from './run.ts';
import { integrationTimeouts } from '../timeouts.ts';

integrationTimeouts();

const dirs: string[] = [];
afterAll(() => dirs.forEach(d => rmSync(d, { recursive: true, force: true })));
const keep = (r: SimReport) => (dirs.push(r.dir), r);

/** Trace lines without what the network decided (results, error text): only the seed's choices. */
function choices(path: string): unknown[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map(l => JSON.parse(l) as Record<string, unknown>)
    .filter(l => l.t === 'op' || l.t === 'fault' || l.t === 'start')
    .map(({ result: _r, message: _m, ...rest }) => rest);
}

describe('cloister sim', () => {
  it('the same seed gives the same trace', async () => {
    const a = keep(await runSim({ replicas: 3, ops: 40, seed: 7, faults: 'partition,duplicate,drop' }));
    const b = keep(await runSim({ replicas: 3, ops: 40, seed: 7, faults: 'partition,duplicate,drop' }));
    const c = keep(await runSim({ replicas: 3, ops: 40, seed: 8, faults: 'partition,duplicate,drop' }));
    expect(a.trace).not.toBe(b.trace);
    expect(choices(a.trace).length).toBeGreaterThan(40);
    expect(choices(b.trace)).toEqual(choices(a.trace));
    expect(choices(c.trace)).not.toEqual(choices(a.trace));
    expect(a.converged && b.converged && c.converged).toBe(true);
  });

  it('three replicas converge under partition, duplicate and drop faults', async () => {
    const r = keep(await runSim({ replicas: 3, ops: 100, seed: 11, faults: ['partition', 'duplicate', 'drop'] }));
    expect(r.problems).toEqual([]);
    expect(r.converged).toBe(true);
    expect(r.edits.made).toBeGreaterThan(20);
    expect(r.edits.present).toBe(r.edits.made);
    expect(new Set(r.heads.map(h => h.digest)).size).toBe(1);
    expect(r.syncs.skippedPartitioned).toBeGreaterThan(0);
    expect(r.wire.duplicated).toBeGreaterThan(0);
    expect(r.wire.cut).toBeGreaterThan(0);

    // and once through the command line, with --json: one object on stdout, exit 0
    const cli = cloister(['sim', '--replicas', '3', '--ops', '30', '--seed', '5', '--faults', 'partition,duplicate,drop', '--json']);
    expect(cli.code, cli.stderr).toBe(0);
    const report = JSON.parse(cli.stdout) as SimReport;
    dirs.push(report.dir);
    expect(report).toMatchObject({ converged: true, seed: 5, replicas: 3, ops: 30, faults: ['partition', 'duplicate', 'drop'] });
    expect(Object.keys(report)).toEqual(expect.arrayContaining(['rejected', 'timings', 'trace', 'heads', 'edits']));
    expect(report.rejected).toEqual({ relay: expect.any(Object), replicas: expect.any(Object) });
    expect(report.timings.totalMs).toBeGreaterThan(0);
    expect(readFileSync(report.trace, 'utf8')).toContain('"t":"op"');

    const bad = cloister(['sim', '--replicas', '3', '--ops', '5', '--seed', '1', '--faults', 'partition,teleport']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim()).toMatch(/^cloister: unknown fault teleport/);
    expect(cloister(['sim', '--replicas', '17', '--ops', '5', '--seed', '1']).stderr.trim()).toBe('cloister: --replicas must be an integer from 1 to 16');
  });

  it('malicious envelopes are rejected and counted by reason, and change nothing', async () => {
    const r = keep(await runSim({ replicas: 3, ops: 150, seed: 2, faults: 'malicious,replay' }));
    expect(r.problems).toEqual([]);
    expect(r.converged).toBe(true);
    const f = r.forgeries!;
    expect(f.pushed).toBeGreaterThan(3);
    expect(f.unexpected).toEqual([]);
    expect(f.forgedDocsPresent).toBe(0);
    // every forgery the relay can judge was refused with its reason and counted
    for (const kind of ['bad_signature', 'wrong_device', 'seq_replay'] as const) expect(r.rejected.relay[kind] ?? 0).toBe(f.byKind[kind] ?? 0);
    expect(r.rejected.relay.not_a_member ?? 0).toBe(f.byKind.removed_member ?? 0);
    // what only the replicas can see (a change written under another device's actor) was refused by them
    if (f.byKind.actor_mismatch) expect(r.rejected.replicas.actor_mismatch).toBeGreaterThanOrEqual(f.byKind.actor_mismatch);
    expect(Object.keys(f.byKind).length).toBeGreaterThanOrEqual(3);
    // replays of acknowledged envelopes changed nothing
    expect(r.replays!.accepted).toBe(0);
    expect(r.replays!.redeliveredChanged).toBe(0);
    expect(r.replays!.duplicate + r.replays!.seq_replay).toBe(r.replays!.pushed);
    expect(r.edits.present).toBe(r.edits.made);
  });

  it('expired leases are refused then resubmitted, skewed clocks extend nothing, a removed member is refused, reordered frames are harmless', async () => {
    const r = keep(await runSim({ replicas: 4, ops: 120, seed: 3, faults: 'expired-lease,clock-skew,removal,reorder' }));
    expect(r.problems).toEqual([]);
    expect(r.converged).toBe(true);
    expect(r.leases!.jumps).toBe(2);
    expect(r.rejected.relay.lease_expired).toBeGreaterThan(0);
    expect(r.leases!.resubmitted).toBeGreaterThan(0); // re-sealed under a fresh lease, then acked: present below
    expect(Object.values(r.clockSkewMs!)).toContain(-365 * 24 * 3600_000);
    expect(r.removed).toHaveLength(1);
    expect(r.rejected.relay.not_a_member).toBeGreaterThan(0);
    expect(r.heads.filter(h => !h.removed).map(h => h.digest)).toEqual(Array(3).fill(r.heads.find(h => !h.removed)!.digest));
    expect(r.wire.reordered).toBeGreaterThan(0);
    expect(r.edits.present).toBe(r.edits.made);
  });
});
