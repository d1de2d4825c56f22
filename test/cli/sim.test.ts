// `cloister sim`: the same seed replays the same trace; replicas converge under partitions, duplicated
// frames and cut connections; a malicious member's forgeries are refused (by the relay or by every
// replica), counted by reason, and change nothing; and what users see is checked: lists agree with
// records, no value nobody typed, the same conflicts everywhere (caught when broken).
import * as A from '@automerge/automerge';
import { readFileSync, rmSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { checkAcross, checkReplica, contentHash, type MaterializedRecord, type ReplicaViews } from '../../src/cli/sim/compareViews.ts';
import { runSim, type SimReport } from '../../src/cli/sim/runSim.ts';
import { TypedValues } from '../../src/cli/sim/typedValues.ts';
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
    .filter(l => l.t === 'op' || l.t === 'fault' || l.t === 'start' || l.t === 'step')
    .map(({ result: _r, message: _m, ms: _ms, pushed: _p, pulledBytes: _b, outbox: _o, ...rest }) => rest);
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
    const r = keep(await runSim({ replicas: 3, ops: 100, seed: 15, faults: ['partition', 'duplicate', 'drop'] }));
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
    // replays of acknowledged envelopes happened, and changed nothing
    expect(r.replays!.pushed).toBeGreaterThan(0);
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

describe('cloister sim checks what users see', () => {
  it('a normal seeded run converges with conflicts shown, identical on every replica, and every shown value typed by someone', async () => {
    const r = keep(await runSim({ replicas: 3, ops: 100, seed: 4 }));
    expect(r.problems).toEqual([]);
    expect(r.converged).toBe(true);
    expect(r.counterexample).toBeUndefined();
    const m = r.materialized;
    // concurrent assignments of one field happened, and are still shown as conflicts at the end
    expect(m.conflictsSeen).toBeGreaterThan(0);
    expect(m.conflicts.paths).toBeGreaterThan(0);
    expect(m.conflicts.values).toBeGreaterThanOrEqual(m.conflicts.paths);
    expect(m.violations).toEqual({});
    expect(m.typedValues).toBeGreaterThan(10);
    expect(m.valuesChecked).toBeGreaterThan(m.records * 3);
    expect(m.midRunChecks).toBeGreaterThan(10);
    // one content hash (conflicts included) on every replica, and it is the report's
    expect(r.contentHash).toMatch(/^[0-9a-f]{32}$/);
    expect(m.perReplica.map(p => p.contentHash)).toEqual([r.contentHash, r.contentHash, r.contentHash]);
    expect(m.perReplica.every(p => p.listed + p.trash === p.records)).toBe(true);
    console.log(`seed 4: ${m.conflicts.paths} paths in conflict at the end (${m.conflicts.values} losing values), ${m.conflictsSeen} conflicts seen during the run, ${m.resolved} resolved, ${r.records.deleted} deleted / ${r.records.restored} restored, ${r.timings.totalMs} ms`);
  });

  it('two people retype a dose that was stored as text: the merged "105mg" nobody typed is caught, with the counterexample', async () => {
    let target = '';
    const r = keep(
      await runSim({
        replicas: 3,
        ops: 30,
        seed: 1,
        // What the record model did before registers: the field is collaborative text, and two
        // concurrent retypes merge character by character. Written through the real sessions and synced.
        beforeFinalSync: async ctx => {
          for (let round = 0; round < 2; round++) for (const k of [0, 1, 2]) await ctx.sync(k);
          const [, bob, carol] = ctx.replicas;
          const onCarol = new Set((await carol!.records.list()).map(s => s.id));
          target = (await bob!.records.list()).find(s => onCarol.has(s.id))!.id;
          ctx.typed(target, 'fields.dose', '2mg');
          await bob!.session.change<{ fields: Record<string, unknown> }>(target, d => {
            d.fields.dose = '2mg';
          });
          await ctx.sync(1);
          await ctx.sync(2);
          ctx.typed(target, 'fields.dose', '5mg');
          ctx.typed(target, 'fields.dose', '10mg');
          await bob!.session.change<{ fields: Record<string, unknown> }>(target, d => A.updateText(d, ['fields', 'dose'], '5mg'));
          await carol!.session.change<{ fields: Record<string, unknown> }>(target, d => A.updateText(d, ['fields', 'dose'], '10mg'));
        },
      }),
    );
    // the heads agree (every replica merged the same changes): only the materialized check sees it
    expect(new Set(r.heads.map(h => h.digest)).size).toBe(1);
    expect(r.edits.missing).toBe(0);
    expect(r.converged).toBe(false);
    expect(r.materialized.violations.untyped_value).toBe(3); // once per replica
    expect(r.counterexample).toMatchObject({ check: 'untyped_value', replica: 'r0', recordId: target, path: 'fields.dose', value: expect.stringMatching(/^(105|510)mg$/) });
    expect(r.problems.join('\n')).toMatch(/untyped_value: 3 \(first: r0, record \d+, fields\.dose = "(105|510)mg"/);
    const end = JSON.parse(readFileSync(r.trace, 'utf8').trim().split('\n').at(-1)!) as { t: string; converged: boolean; counterexample: unknown };
    expect(end).toMatchObject({ t: 'end', converged: false, counterexample: { check: 'untyped_value', path: 'fields.dose' } });
  });
});

describe('the view checks, on snapshots that break them', () => {
  const rec = (id: string, o: Partial<MaterializedRecord> = {}): MaterializedRecord => ({ id, title: 'web server', fields: { dose: '5mg' }, notes: '', tags: [], deleted: false, conflicts: {}, ...o });
  /** A replica whose list is what its records say, unless `tamper` changes it. */
  const replica = (name: string, records: MaterializedRecord[], tamper: (v: ReplicaViews) => void = () => undefined): ReplicaViews => {
    const summary = (r: MaterializedRecord) => ({ id: r.id, title: r.title, deleted: r.deleted, ...(Object.keys(r.conflicts).length ? { conflicted: true } : {}) });
    const v: ReplicaViews = {
      replica: name,
      removed: false,
      listed: records.filter(r => !r.deleted).map(summary),
      listedAll: records.map(summary),
      trash: records.filter(r => r.deleted).map(summary),
      indexed: records.map(r => r.id),
      records: new Map(records.map(r => [r.id, r])),
    };
    tamper(v);
    return v;
  };
  const typed = new TypedValues();
  for (const [path, value] of [['title', 'web server'], ['title', 'db server'], ['fields.dose', '5mg'], ['fields.dose', '10mg']] as const) {
    typed.add('a', path, value);
    typed.add('b', path, value);
  }

  it('agreeing replicas pass, with one content hash', () => {
    const a = replica('r0', [rec('a', { conflicts: { 'fields.dose': ['10mg'] } }), rec('b', { deleted: true })]);
    const b = replica('r1', [rec('b', { deleted: true }), rec('a', { conflicts: { 'fields.dose': ['10mg'] } })]);
    expect([...checkReplica(a, typed, { complete: true }), ...checkReplica(b, typed, { complete: true }), ...checkAcross([a, b])]).toEqual([]);
    expect(contentHash(a.records)).toBe(contentHash(b.records));
  });

  it('the list shows "web db server" while the record says "db server": caught as list_title', () => {
    const v = replica('r1', [rec('a', { title: 'db server' })], x => (x.listedAll[0]!.title = 'web db server'));
    expect(checkReplica(v, typed, { complete: true })[0]).toMatchObject({ check: 'list_title', replica: 'r1', recordId: 'a', path: 'title', value: 'web db server', expected: 'db server' });
  });

  it('a deleted record comes back in the list: caught as deleted_listed', () => {
    const v = replica('r2', [rec('a'), rec('b', { deleted: true })], x => x.listed.push({ id: 'b', title: 'web server', deleted: false }));
    expect(checkReplica(v, typed, { complete: true }).map(c => c.check)).toContain('deleted_listed');
  });

  it('a record held after the final sync but missing from the list is caught; mid-run, before its index entry, it is not', () => {
    const v = replica('r0', [rec('a'), rec('b')], x => {
      x.indexed = ['a'];
      x.listed = x.listed.filter(s => s.id !== 'b');
      x.listedAll = x.listedAll.filter(s => s.id !== 'b');
    });
    expect(checkReplica(v, typed, { complete: false })).toEqual([]);
    expect(checkReplica(v, typed, { complete: true })[0]).toMatchObject({ check: 'list_ids', recordId: 'b' });
  });

  it('a conflict value nobody typed is caught, under its path', () => {
    const v = replica('r0', [rec('a', { conflicts: { 'fields.dose': ['105mg'] } })]);
    expect(checkReplica(v, typed, { complete: true })).toEqual([expect.objectContaining({ check: 'untyped_value', path: 'fields.dose', value: '105mg' })]);
  });

  it('replicas showing different conflicts are caught, and their content hashes differ', () => {
    const a = replica('r0', [rec('a', { conflicts: { 'fields.dose': ['10mg'] } })]);
    const b = replica('r1', [rec('a')]);
    expect(checkAcross([a, b])[0]).toMatchObject({ check: 'conflicts_differ', replica: 'r1', path: 'fields.dose', value: [], expected: ['10mg'] });
    expect(checkReplica(b, typed, { complete: true })).toEqual([]);
    expect(contentHash(a.records)).not.toBe(contentHash(b.records));
  });
});
