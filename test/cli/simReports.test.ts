// The simulator's reports: the self-contained HTML page (uPlot inlined, no script a simulated user can
// inject), the Elle rw-register history export (well-formed, writes and reads mapped as
// docs/SIM-HISTORY.md says, non-unique values tagged), and the trace summary (bytes, convergence after
// heal, lag, refusals that add up). Mostly over a small hand-written trace; once over a real run.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { checkElleHistory } from '../../src/cli/sim/report/checkElleHistory.ts';
import { readEdn, writeEdn, ednString } from '../../src/cli/sim/report/edn.ts';
import { exportElleHistory, toElleHistory } from '../../src/cli/sim/report/elle.ts';
import { chartData, renderHtmlReport } from '../../src/cli/sim/report/html.ts';
import { summarizeTrace } from '../../src/cli/sim/report/summary.ts';
import { runSim } from '../../src/cli/sim/runSim.ts';
import { describeInChromium, launchChromium } from '../browser/chromium.ts';
import { SLOW_TEST_MS } from '../timeouts.ts';

const HOSTILE = '</script><script>alert(1)</script><!--';
const R = (reason: string) => `${reason}`;

/** Three replicas; r2 partitioned from op 2 to the heal at op 7; a hostile title at op 9. */
const TRACE: Record<string, unknown>[] = [
  { t: 'start', seed: 1, replicas: 3, ops: 13, faults: ['partition'] },
  { t: 'op', i: 0, ms: 10, replica: 0, action: 'create', record: 0, title: 'alpha I', fields: { dose: '5mg' }, result: 'ok' },
  ...samples(0, 12, [0, 0, 0], [2, 0, 0]),
  { t: 'op', i: 1, ms: 20, replica: 0, action: 'sync', result: { acked: 2, applied: 0, rejected: {}, quarantinedRemote: {} }, pushed: [{ id: 'e1', bytes: 300 }, { id: 'e2', bytes: 200 }], pulledBytes: 0, outbox: 0 },
  ...samples(1, 22, [0, 2, 2], [0, 0, 0]),
  { t: 'fault', i: 2, ms: 25, fault: 'partition', replica: 2, ops: 5 },
  { t: 'op', i: 2, ms: 30, replica: 1, action: 'sync', result: { acked: 0, applied: 2, rejected: {}, quarantinedRemote: {} }, pushed: [], pulledBytes: 500, outbox: 0 },
  ...samples(2, 32, [0, 0, 2], [0, 0, 0]),
  { t: 'read', i: 3, ms: 40, replica: 1, record: 0, path: 'fields.dose', values: ['5mg'] },
  { t: 'op', i: 3, ms: 41, replica: 1, action: 'set_field', record: 0, field: 'dose', value: '5mg', result: 'ok' },
  ...samples(3, 42, [0, 0, 2], [0, 1, 0]),
  { t: 'read', i: 4, ms: 50, replica: 2, record: 0, path: 'fields.dose', values: ['5mg'] },
  { t: 'op', i: 4, ms: 51, replica: 2, action: 'set_field', record: 0, field: 'dose', value: '10mg', result: 'ok' },
  ...samples(4, 52, [0, 0, 2], [0, 1, 1]),
  { t: 'op', i: 5, ms: 60, replica: 2, action: 'sync', result: 'partitioned' },
  ...samples(5, 61, [0, 0, 2], [0, 1, 1]),
  { t: 'op', i: 6, ms: 70, replica: 1, action: 'sync', result: { acked: 0, applied: 0, rejected: { lease_expired: 1 }, quarantinedRemote: {} }, pushed: [{ id: 'e3', bytes: 150 }], pulledBytes: 0, outbox: 1 },
  ...samples(6, 72, [0, 0, 2], [0, 1, 1], { r1: { lease_expired: 1 } }),
  { t: 'heal', i: 7, ms: 75 },
  { t: 'op', i: 7, ms: 80, replica: 2, action: 'sync', result: { acked: 1, applied: 3, rejected: {}, quarantinedRemote: { actor_mismatch: 1 } }, pushed: [{ id: 'e4', bytes: 160 }, { id: 'e3', bytes: 150 }], pulledBytes: 810, outbox: 0 },
  ...samples(7, 83, [1, 1, 0], [0, 1, 0], { r1: { lease_expired: 1 }, r2: { actor_mismatch: 1 } }),
  { t: 'op', i: 8, ms: 90, replica: 0, action: 'sync', result: { acked: 0, applied: 1, rejected: {}, quarantinedRemote: {} }, pushed: [], pulledBytes: 160, outbox: 0 },
  ...samples(8, 92, [0, 0, 0], [0, 0, 0], { r1: { lease_expired: 1 }, r2: { actor_mismatch: 1 } }),
  { t: 'op', i: 9, ms: 100, replica: 0, action: 'set_title', record: 0, value: HOSTILE, result: 'ok' },
  { t: 'read', i: 10, ms: 110, replica: 1, record: 0, path: 'fields.dose', values: ['10mg', '5mg'] },
  { t: 'op', i: 10, ms: 111, replica: 1, action: 'set_field', record: 0, field: 'dose', value: '2mg', result: 'record_deleted' },
  { t: 'op', i: 11, ms: 120, replica: 2, action: 'set_field', record: 0, field: 'dose', value: '7mg', result: 'error', message: 'socket hang up' },
  { t: 'op', i: 12, ms: 130, replica: 2, action: 'set_field', record: 0, field: 'route', value: 'oral', result: 'ok' },
  { t: 'op', i: 12, ms: 131, replica: 2, action: 'splice_notes', record: 0, result: 'ok', future_field: [1, 2] },
  { t: 'mystery', i: 12, anything: { goes: true } },
  ...[0, 1, 2].flatMap(r => [
    { t: 'read', i: 13, ms: 140, replica: r, record: 0, path: 'title', values: [HOSTILE], final: true },
    { t: 'read', i: 13, ms: 140, replica: r, record: 0, path: 'fields.dose', values: ['10mg', '5mg'], final: true },
  ]),
  { t: 'final_round', round: 1, order: ['r2', 'r0', 'r1'] },
  { t: 'end', converged: true, problems: [] },
];

function samples(i: number, ms: number, lag: number[], outbox: number[], refused: Record<string, Record<string, number>> = {}) {
  return lag.map((l, r) => ({ t: 'sample', i, ms, replica: `r${r}`, outbox: outbox[r], lag: l, refused: refused[`r${r}`] ?? {} }));
}

const REPORT = {
  converged: true,
  seed: 1,
  replicas: 3,
  ops: 13,
  faults: ['partition'],
  contentHash: 'abc123',
  rejected: { relay: { [R('lease_expired')]: 1 }, replicas: { actor_mismatch: 1 } },
  problems: [],
  counterexample: { check: 'untyped_value', value: HOSTILE },
  timings: { setupMs: 1, opsMs: 2, finalSyncMs: 3, totalMs: 6 },
};

/** Every `<script` and `</script` in the page, lower-cased: only the page's own three elements. */
const scriptTags = (html: string) => [...html.matchAll(/<\/?script[^>]*>/gi)].map(m => m[0].toLowerCase());

describe('the trace summary', () => {
  const s = summarizeTrace(TRACE, REPORT.rejected);

  it('counts pushed, re-pushed and pulled bytes', () => {
    expect(s.bytesByKind).toMatchObject({ pushed: 960, pushedEnvelopes: 5, rePushed: 150, rePushedEnvelopes: 1, pulled: 1470 });
    expect(s.bytesByKind.pushedByAction).toEqual({ unattributed: 960 });
  });

  it('attributes pushed bytes to the edit that made the envelope when the op line names it', () => {
    const linked = TRACE.map(l => (l.action === 'create' ? { ...l, envelopes: ['e1', { id: 'e2' }] } : l));
    expect(summarizeTrace(linked).bytesByKind.pushedByAction).toEqual({ create: 500, unattributed: 460 });
  });

  it('measures convergence after a heal: the first op after which every remaining replica has lag 0', () => {
    expect(s.convergenceAfterHeal).toEqual([{ i: 7, ms: 75, reached: true, atI: 8, atMs: 92, ops: 1, msAfter: 17 }]);
  });

  it('ignores a removed replica that never catches up', () => {
    const withRemoval = [
      ...TRACE.slice(0, 2),
      { t: 'fault', i: 0, fault: 'removal', replica: 2 },
      ...TRACE.slice(2).map(l => (l.t === 'sample' && l.replica === 'r2' ? { ...l, lag: 9 } : l)),
    ];
    const h = summarizeTrace(withRemoval).convergenceAfterHeal;
    expect(h[0]).toMatchObject({ reached: true, atI: 8, ops: 1 });
    expect(summarizeTrace(withRemoval).lagByReplica.r2).toMatchObject({ final: 9, removed: true });
  });

  it('says when a heal is never followed by zero lag', () => {
    const stuck = TRACE.map(l => (l.t === 'sample' && l.replica === 'r0' && (l.i as number) >= 7 ? { ...l, lag: 1 } : l));
    expect(summarizeTrace(stuck).convergenceAfterHeal[0]).toMatchObject({ reached: false, atI: null, ops: null });
  });

  it('gives each replica its final and largest lag and outbox', () => {
    expect(s.lagByReplica).toEqual({
      r0: { final: 0, max: 1, maxAtI: 7, removed: false },
      r1: { final: 0, max: 2, maxAtI: 1, removed: false },
      r2: { final: 0, max: 2, maxAtI: 1, removed: false },
    });
    expect(s.outboxByReplica.r0).toMatchObject({ final: 0, max: 2, maxAtI: 0 });
  });

  it('sums refusals by reason and checks they add up against the samples and the report', () => {
    expect(s.refusalsByReason).toMatchObject({
      relay: { lease_expired: 1 },
      replicas: { actor_mismatch: 1 },
      total: { lease_expired: 1, actor_mismatch: 1 },
      fromSamples: { lease_expired: 1, actor_mismatch: 1 },
      addsUp: true,
      mismatches: [],
      matchesReport: true,
    });
    const off = summarizeTrace(TRACE, { relay: { lease_expired: 2 }, replicas: {} }).refusalsByReason;
    expect(off.matchesReport).toBe(false);
    expect(off.reportMismatches).toEqual([
      { side: 'relay', reason: 'lease_expired', trace: 1, report: 2 },
      { side: 'replicas', reason: 'actor_mismatch', trace: 1, report: 0 },
    ]);
    const lost = TRACE.filter(l => !(l.t === 'op' && l.i === 6));
    expect(summarizeTrace(lost).refusalsByReason).toMatchObject({ addsUp: false, mismatches: [{ reason: 'lease_expired', syncs: 0, samples: 1 }] });
  });

  it('reads an empty or malformed trace without throwing', () => {
    const junk = [{}, { t: 'op', action: 'sync', result: { rejected: 'x', quarantinedRemote: [1] }, pushed: 'no' }, { t: 'sample', replica: {}, lag: 'x' }, { t: 'heal' }];
    expect(() => summarizeTrace([])).not.toThrow();
    expect(summarizeTrace(junk).convergenceAfterHeal).toEqual([{ i: null, ms: null, reached: false, atI: null, atMs: null, ops: null, msAfter: null }]);
    expect(() => renderHtmlReport(null, junk)).not.toThrow();
    expect(checkElleHistory(toElleHistory(junk))).toMatchObject({ ok: true, ops: 0 });
  });
});

describe('the HTML report', () => {
  const html = renderHtmlReport(REPORT, TRACE);

  it('inlines uPlot, its stylesheet and its MIT license, and loads nothing from the network', () => {
    const uplot = readFileSync(join(import.meta.dirname, '..', '..', 'node_modules', 'uplot', 'dist', 'uPlot.iife.min.js'), 'utf8');
    expect(html).toContain(uplot);
    expect(html).toContain('.uplot');
    expect(html).toContain('Permission is hereby granted, free of charge');
    expect(html).toContain('Leon Sorokin');
    expect(html).not.toMatch(/<(script|link|img|iframe)[^>]+(src|href)=/i);
    expect(html).toMatch(/<meta http-equiv="Content-Security-Policy" content="default-src &#39;none&#39;; script-src &#39;sha256-/);
  });

  it('carries the summary and the plotted series', () => {
    expect(html).toContain('converged');
    expect(html).toContain('abc123');
    expect(html).toContain('lease_expired');
    expect(html).toContain('actor_mismatch');
    expect(html).toMatch(/<td class="n">1,470<\/td>/); // pulled bytes
    const data = JSON.parse(html.match(/<script type="application\/json" id="cloister-sim-data">([^<]*)<\/script>/)![1]!);
    expect(data).toEqual(JSON.parse(JSON.stringify(chartData(TRACE))));
    expect(data.x).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8]);
    expect(data.replicas).toEqual(['r0', 'r1', 'r2']);
    expect(data.lag[2]).toEqual([0, 2, 2, 2, 2, 2, 2, 0, 0]);
    expect(data.reasons).toEqual(['actor_mismatch', 'lease_expired']);
    expect(data.refused).toEqual([
      [0, 0, 0, 0, 0, 0, 0, 1, 1],
      [0, 0, 0, 0, 0, 0, 1, 1, 1],
    ]);
    expect(data.marks).toEqual([
      { i: 2, ms: 25, label: 'partition', heal: false },
      { i: 7, ms: 75, label: 'heal', heal: true },
    ]);
  });

  it('lets no hostile value open a script: in the report, a replica name or a refusal reason', () => {
    const hostileTrace = TRACE.map(l =>
      l.t === 'sample' ? { ...l, replica: l.replica === 'r1' ? HOSTILE : l.replica, refused: { [HOSTILE]: 1 } } : l,
    );
    const page = renderHtmlReport({ ...REPORT, faults: [HOSTILE], contentHash: HOSTILE, problems: [HOSTILE], rejected: { relay: { [HOSTILE]: 1 }, replicas: {} } }, hostileTrace);
    expect(scriptTags(page)).toEqual(['<script type="application/json" id="cloister-sim-data">', '</script>', '<script>', '</script>', '<script>', '</script>']);
    expect(page).not.toContain('<!--');
    expect(page).toContain('&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
    const data = page.match(/id="cloister-sim-data">([^<]*)<\/script>/)![1]!;
    expect(JSON.parse(data).replicas).toContain(HOSTILE); // intact as data, escaped as text
  });

  it('renders from the compiled build too (uPlot resolved as a production dependency)', async () => {
    const built = join(import.meta.dirname, '..', '..', 'build', 'src', 'cli', 'sim', 'report', 'html.js');
    const mod = (await import(pathToFileURL(built).href)) as { renderHtmlReport: typeof renderHtmlReport };
    expect(mod.renderHtmlReport(REPORT, TRACE)).toBe(html);
  });
});

describeInChromium('the HTML report in a browser', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cloister-simreport-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it(
    'draws the three charts, runs no injected script, and shows the hostile value as text',
    async () => {
      const ctx = await launchChromium(join(dir, 'profile'));
      try {
        const page = await ctx.newPage();
        const dialogs: string[] = [];
        const errors: string[] = [];
        page.on('dialog', d => (dialogs.push(d.message()), void d.dismiss()));
        page.on('pageerror', e => errors.push(e.message));
        page.on('console', m => m.type() === 'error' && errors.push(m.text()));
        await page.setContent(renderHtmlReport(REPORT, TRACE), { waitUntil: 'load' });
        await page.waitForFunction(() => document.querySelectorAll('.uplot canvas').length === 3);
        expect(await page.locator('.uplot .u-title').allTextContents()).toEqual([
          'Lag per replica (envelopes not yet applied)',
          'Outbox depth per replica',
          'Refusals by reason (cumulative, all replicas)',
        ]);
        await page.selectOption('#x-axis', 'ms');
        await page.waitForFunction(() => document.querySelector('.uplot .u-legend th')?.textContent?.includes('ms since start'));
        expect(await page.locator('pre', { hasText: 'untyped_value' }).first().textContent()).toContain(HOSTILE);
        expect(dialogs).toEqual([]);
        expect(errors).toEqual([]);
      } finally {
        await ctx.close();
      }
    },
    SLOW_TEST_MS,
  );
});

describe('the Elle history export', () => {
  const exp = exportElleHistory(TRACE);
  const lines = exp.edn.trimEnd().split('\n');
  const completions = lines.filter(l => !l.startsWith('{:type :invoke'));
  /** The 1-based trace line of the op at index i: the tag of a non-unique value it wrote. */
  const lineOf = (i: number) => TRACE.findIndex(l => l.t === 'op' && l.i === i) + 1;

  it('is well-formed: dense indexes, one completion per invoke, no process reused after :info, unique writes', () => {
    const c = checkElleHistory(exp.edn);
    expect(c).toEqual({ ok: true, ops: lines.length, transactions: lines.length / 2, processes: 4, keys: 3 });
    expect(lines.every(l => readEdn(l).ok)).toBe(true);
  });

  it('maps a create to writes of its title and fields, tagging a value typed twice at one key', () => {
    expect(lineOf(0)).toBe(2);
    expect(lines[0]).toBe('{:type :invoke, :f :txn, :value [[:w "0/title" "alpha I"] [:w "0/fields.dose" ["5mg" 2]]], :process 0, :time 10000000, :index 0}');
    expect(lines[1]).toBe(
      '{:type :ok, :f :txn, :value [[:w "0/title" "alpha I"] [:w "0/fields.dose" ["5mg" 2]]], :process 0, :time 10000000, :index 1, :cloister/i 0, :cloister/action "create"}',
    );
  });

  it('joins the read an edit made to its transaction, and leaves out a read of an ambiguous value', () => {
    // r1 read "5mg" (typed at op 0 and op 3: Elle couldn't tell which) then wrote it again
    expect(completions[1]).toBe(
      `{:type :ok, :f :txn, :value [[:w "0/fields.dose" ["5mg" ${lineOf(3)}]]], :process 1, :time 41000000, :index 3, :cloister/i 3, :cloister/action "set_field", :cloister/ambiguous [["0/fields.dose" "5mg"]]}`,
    );
    expect(exp.stats).toMatchObject({ nonUniqueValues: 1, taggedWrites: 2 });
  });

  it('keeps tagged values unique when one op index holds several edits of the same value (a removed member offline)', () => {
    const forced = [0, 1].map(() => ({ t: 'op', i: 5, ms: 60, replica: 2, action: 'set_field', forced: 'removal', record: 0, field: 'dose', value: '2mg', result: 'ok' }));
    const edn = toElleHistory([...TRACE.slice(0, 2), ...forced]);
    expect(edn).toContain('["2mg" 3]');
    expect(edn).toContain('["2mg" 4]');
    expect(checkElleHistory(edn)).toMatchObject({ ok: true, transactions: 3 });
  });

  it('completes a refused edit :fail and an unknown outcome :info, then moves that replica to a fresh process', () => {
    const at = (i: number) => completions.filter(l => l.includes(`:cloister/i ${i},`));
    // the read before the refused edit still happened: it completes :ok on its own, its conflict noted
    expect(at(10)).toEqual([
      expect.stringMatching(/^\{:type :ok, :f :txn, :value \[\[:r "0\/fields.dose" "10mg"\]\], :process 1, .* :cloister\/conflicts \{"0\/fields.dose" \["5mg"\]\}\}$/),
      expect.stringMatching(/^\{:type :fail, :f :txn, :value \[\[:w "0\/fields.dose" "2mg"\]\], :process 1, .* :cloister\/result "record_deleted"\}$/),
    ]);
    expect(at(11)).toEqual([expect.stringMatching(/^\{:type :info, .*:process 2, .*:cloister\/result "error"\}$/)]);
    expect(at(12)).toEqual([expect.stringMatching(/^\{:type :ok, :f :txn, :value \[\[:w "0\/fields.route" "oral"\]\], :process 5, /)]);
  });

  it('exports each final read as the value shown, escaped, with the conflict values beside it', () => {
    const finals = completions.filter(l => l.includes(':cloister/final true'));
    expect(finals).toHaveLength(6);
    expect(finals[0]).toContain(`[[:r "0/title" ${ednString(HOSTILE)}]]`);
    expect(finals[1]).toContain('[[:r "0/fields.dose" "10mg"]]');
    expect(finals[1]).toContain(':cloister/conflicts {"0/fields.dose" ["5mg"]}');
    expect(exp.stats).toMatchObject({ reads: 7, conflictedReads: 4, ambiguousReads: 2, unwrittenReads: 0 });
  });

  it('escapes any string so EDN reads it back unchanged', () => {
    const nasty = 'a"b\\c\nd\te\r\u0000\u2028\ud800 😀 ]} :kw nil';
    const r = readEdn(writeEdn([nasty]));
    expect(r).toEqual({ ok: true, value: [nasty] });
  });

  it('the checker catches what Elle would refuse', () => {
    const good = exp.edn;
    const swap = (from: RegExp, to: string) => checkElleHistory(good.replace(from, to));
    expect(swap(/:index 2}/, ':index 7}')).toMatchObject({ ok: false, reason: 'index_gap', line: 3 });
    expect(swap(/:index 2}/, ':index 1}')).toMatchObject({ ok: false, reason: 'index_not_increasing', line: 3 });
    expect(checkElleHistory(good.split('\n').slice(0, -2).join('\n'))).toMatchObject({ ok: false, reason: 'invoke_without_completion' });
    expect(swap(new RegExp(`\\["5mg" ${lineOf(3)}\\]`, 'g'), '["5mg" 2]')).toMatchObject({ ok: false, reason: 'duplicate_write' });
    expect(swap(/:process 5/g, ':process 2')).toMatchObject({ ok: false, reason: 'process_reused_after_info' });
    expect(swap(/:time 41000000/g, ':time 1')).toMatchObject({ ok: false, reason: 'time_goes_back' });
    expect(checkElleHistory('{:type :ok, :f :txn')).toMatchObject({ ok: false, reason: 'not_edn', line: 1 });
    const op = (type: string, index: number, value = '[[:w "k" 1]]') => `{:type :${type}, :f :txn, :value ${value}, :process 0, :time 0, :index ${index}}`;
    expect(checkElleHistory(op('ok', 0))).toMatchObject({ ok: false, reason: 'completion_without_invoke' });
    expect(checkElleHistory([op('invoke', 0), op('invoke', 1)].join('\n'))).toMatchObject({ ok: false, reason: 'invoke_while_pending', line: 2 });
    expect(checkElleHistory([op('invoke', 0), op('ok', 1, '[[:r "k" 1]]')].join('\n'))).toMatchObject({ ok: false, reason: 'completion_differs' });
    expect(checkElleHistory([op('invoke', 0, '[[:append "k" 1]]')].join('\n'))).toMatchObject({ ok: false, reason: 'mop_not_r_or_w' });
    expect(checkElleHistory([op('invoke', 0), op('ok', 1)].join('\n'))).toMatchObject({ ok: true, transactions: 1 });
  });
});

describe('over a real run', () => {
  const dirs: string[] = [];
  afterAll(() => dirs.forEach(d => rmSync(d, { recursive: true, force: true })));

  it(
    'a 3-replica, 40-op trace renders, summarizes and exports a well-formed history',
    async () => {
      const report = await runSim({ replicas: 3, ops: 40, seed: 1 });
      dirs.push(report.dir);
      const trace = readFileSync(report.trace, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map(l => JSON.parse(l) as Record<string, unknown>);
      const html = renderHtmlReport(report, trace);
      expect(html).toContain('uPlot');
      expect(scriptTags(html)).toHaveLength(6);
      const exp = exportElleHistory(trace);
      expect(checkElleHistory(exp.edn)).toMatchObject({ ok: true });
      // every typed edit is exported (as a transaction with writes) or counted as left out, never lost
      const edits = trace.filter(l => l.t === 'op' && ['create', 'set_field', 'set_title'].includes(l.action as string)).length;
      const exported = exp.ops.filter(o => o.type !== 'invoke' && o.value.some(([f]) => f === 'w')).length;
      expect(edits).toBeGreaterThan(5);
      expect(exported + (exp.stats.skipped.write_without_replica_record_or_value ?? 0)).toBe(edits);
      const s = summarizeTrace(trace, report.rejected);
      expect(Object.keys(s.refusalsByReason)).toEqual(expect.arrayContaining(['relay', 'replicas', 'addsUp', 'matchesReport']));
    },
    SLOW_TEST_MS,
  );
});
