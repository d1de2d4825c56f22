// The `cloister sim --html FILE` page: the report's summary and plots over time of each replica's lag,
// its outbox depth and the refusals by reason, drawn by uPlot (MIT, inlined with its license notice).
// One self-contained file: no network (a Content-Security-Policy allows only the page's own two scripts
// by hash). Everything from the report or the trace is untrusted text (values typed by simulated users):
// it reaches the page HTML-escaped, or as JSON in a data block with `<` escaped, and the page's script
// puts it into the DOM as text only.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { summarizeTrace, type TraceSummary } from './summary.ts';
import { counts, num, obj, removedReplicas, replicaName, str, type TraceLine } from './traceLines.ts';

interface ChartLibrary {
  js: string;
  css: string;
  license: string;
  version: string;
}

let library: ChartLibrary | undefined;

/** uPlot's browser build, stylesheet and license, read once from the installed package. */
function chartLibrary(): ChartLibrary {
  if (library) return library;
  const require = createRequire(import.meta.url);
  const dir = dirname(require.resolve('uplot/package.json'));
  const read = (p: string) => readFileSync(join(dir, p), 'utf8');
  const js = read('dist/uPlot.iife.min.js');
  const css = read('dist/uPlot.min.css');
  // inlined verbatim: a closing tag inside would end the element early (our own dependency, so a throw)
  if (/<\/script|<!--/i.test(js) || /<\/style/i.test(css)) throw new Error('uplot build contains a closing tag; it cannot be inlined');
  library = { js, css, license: read('LICENSE'), version: str((JSON.parse(read('package.json')) as Record<string, unknown>).version) ?? '' };
  return library;
}

/** Text for HTML element content and attribute values. */
export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** JSON safe inside a <script> element: no `<`, `>`, `&` or line separators appear literally. */
export function jsonForScript(v: unknown): string {
  return JSON.stringify(v).replace(/[<>&\u2028\u2029]/g, c => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

const fmt = (n: number | null | undefined) => (n === null || n === undefined ? '–' : n.toLocaleString('en-US'));
const cell = (v: string) => `<td>${escapeHtml(v)}</td>`;
const numCell = (n: number | null | undefined) => `<td class="n">${escapeHtml(fmt(n))}</td>`;
const table = (head: string[], rows: string[], empty: string) =>
  rows.length === 0
    ? `<p class="muted">${escapeHtml(empty)}</p>`
    : `<table><thead><tr>${head.map(h => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows.map(r => `<tr>${r}</tr>`).join('')}</tbody></table>`;

export interface ChartData {
  /** Op indexes that have samples, ascending; `ms` the latest sample time at each (null when absent). */
  x: number[];
  ms: (number | null)[];
  replicas: string[];
  removed: string[];
  lag: (number | null)[][];
  outbox: (number | null)[][];
  reasons: string[];
  /** Refusals by reason, cumulative, summed over replicas (each replica's last count carried forward). */
  refused: (number | null)[][];
  /** Vertical marks: heals and faults, at op index and ms. */
  marks: { i: number; ms: number | null; label: string; heal: boolean }[];
}

/** The plotted series, from the trace's `sample` lines (one per replica after every op). */
export function chartData(trace: readonly TraceLine[]): ChartData {
  const samples = trace.filter(l => l.t === 'sample' && num(l.i) !== undefined && replicaName(l.replica) !== undefined);
  const x = [...new Set(samples.map(l => num(l.i)!))].sort((a, b) => a - b);
  const replicas = [...new Set(samples.map(l => replicaName(l.replica)!))].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  const rk = new Map(replicas.map((r, k) => [r, k]));
  const ms: (number | null)[] = x.map(() => null);
  const lag = replicas.map(() => x.map((): number | null => null));
  const outbox = replicas.map(() => x.map((): number | null => null));
  const lastRefused = new Map<string, Record<string, number>>();
  const refusedAt: Record<string, number>[] = x.map(() => ({}));
  const byI = new Map<number, TraceLine[]>();
  for (const l of samples) byI.set(num(l.i)!, [...(byI.get(num(l.i)!) ?? []), l]);
  const reasons = new Set<string>();
  for (const [k, i] of x.entries()) {
    for (const l of byI.get(i) ?? []) {
      const r = replicaName(l.replica)!;
      const m = num(l.ms);
      if (m !== undefined) ms[k] = Math.max(ms[k] ?? m, m);
      lag[rk.get(r)!]![k] = num(l.lag) ?? null;
      outbox[rk.get(r)!]![k] = num(l.outbox) ?? null;
      if (obj(l.refused)) lastRefused.set(r, counts(l.refused));
    }
    for (const m of lastRefused.values())
      for (const [reason, n] of Object.entries(m)) {
        reasons.add(reason);
        refusedAt[k]![reason] = (refusedAt[k]![reason] ?? 0) + n;
      }
  }
  const reasonList = [...reasons].sort();
  const marks: ChartData['marks'] = [];
  for (const l of trace) {
    const i = num(l.i);
    if (i === undefined || (l.t !== 'heal' && l.t !== 'fault')) continue;
    marks.push({ i, ms: num(l.ms) ?? null, label: l.t === 'heal' ? 'heal' : (str(l.fault) ?? 'fault'), heal: l.t === 'heal' });
  }
  return {
    x,
    ms,
    replicas,
    removed: [...removedReplicas(trace)].filter(r => rk.has(r)),
    lag,
    outbox,
    reasons: reasonList,
    refused: reasonList.map(reason => refusedAt.map(m => m[reason] ?? 0)),
    marks,
  };
}

function summarySection(report: Record<string, unknown>, s: TraceSummary): string {
  const converged = report.converged === true;
  const faults = Array.isArray(report.faults) ? report.faults.filter((f): f is string => typeof f === 'string') : [];
  const timings = obj(report.timings);
  const run: [string, string][] = [
    ['converged', report.converged === undefined ? 'unknown' : converged ? 'yes' : 'no'],
    ['seed', num(report.seed) !== undefined ? String(report.seed) : '–'],
    ['replicas', num(report.replicas) !== undefined ? String(report.replicas) : '–'],
    ['ops', num(report.ops) !== undefined ? String(report.ops) : '–'],
    ['faults', faults.length ? faults.join(', ') : 'none'],
    ['contentHash', report.contentHash === null ? 'null (the replicas differ)' : (str(report.contentHash) ?? '–')],
    ['total time', num(timings?.totalMs) !== undefined ? `${fmt(num(timings?.totalMs))} ms` : '–'],
  ];
  const removed = Array.isArray(report.removed) ? report.removed.filter((r): r is string => typeof r === 'string') : [];
  if (removed.length) run.push(['removed', removed.join(', ')]);
  const problems = Array.isArray(report.problems) ? report.problems.map(p => (typeof p === 'string' ? p : JSON.stringify(p))) : [];

  // refusals: the report's counters when it has them, the trace's sums otherwise
  const rejected = obj(report.rejected);
  const relay = rejected ? counts(rejected.relay) : s.refusalsByReason.relay;
  const replicas = rejected ? counts(rejected.replicas) : s.refusalsByReason.replicas;
  const reasons = [...new Set([...Object.keys(relay), ...Object.keys(replicas)])].sort();
  const refusalRows = reasons.map(r => cell(r) + numCell(relay[r] ?? 0) + numCell(replicas[r] ?? 0) + numCell((relay[r] ?? 0) + (replicas[r] ?? 0)));
  const r = s.refusalsByReason;
  const addsUp = [
    r.addsUp
      ? 'The replicas’ own counters (samples) add up to the sync results in the trace.'
      : `The replicas’ counters (samples) and the sync results in the trace differ: ${r.mismatches.map(m => `${m.reason} ${m.samples} vs ${m.syncs}`).join('; ')}.`,
    r.matchesReport === undefined
      ? ''
      : r.matchesReport
        ? 'The report’s counts equal the trace’s.'
        : `The report’s counts differ from the trace’s: ${(r.reportMismatches ?? []).map(m => `${m.side} ${m.reason} ${m.report} vs ${m.trace}`).join('; ')}.`,
  ].join(' ');

  const b = s.bytesByKind;
  const bytesRows = [
    cell('pushed (all pushes)') + numCell(b.pushed) + numCell(b.pushedEnvelopes),
    cell('re-pushed (an envelope id pushed before)') + numCell(b.rePushed) + numCell(b.rePushedEnvelopes),
    ...Object.entries(b.pushedByAction)
      .sort(([a], [c]) => a.localeCompare(c))
      .map(([k, n]) => cell(`pushed, made by ${k}`) + numCell(n) + cell('')),
    cell('pulled') + numCell(b.pulled) + cell(''),
  ];
  const healRows = s.convergenceAfterHeal.map(h => numCell(h.i) + numCell(h.ms) + cell(h.reached ? 'yes' : 'not within the ops') + numCell(h.atI) + numCell(h.ops) + numCell(h.msAfter));
  const lagRows = Object.entries(s.lagByReplica)
    .sort(([a], [c]) => a.localeCompare(c, 'en', { numeric: true }))
    .map(([name, l]) => {
      const o = s.outboxByReplica[name];
      return cell(name + (l.removed ? ' (removed)' : '')) + numCell(l.final) + numCell(l.max) + numCell(l.maxAtI) + numCell(o?.final) + numCell(o?.max);
    });

  return `<section>
<h2>Run <span class="badge ${converged ? 'ok' : 'bad'}">${converged ? 'converged' : 'did not converge'}</span></h2>
<table class="kv"><tbody>${run.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th>${cell(v)}</tr>`).join('')}</tbody></table>
${problems.length ? `<h3>Problems</h3><ul>${problems.map(p => `<li>${escapeHtml(p)}</li>`).join('')}</ul>` : ''}
${report.counterexample !== undefined ? `<h3>Counterexample</h3><pre>${escapeHtml(JSON.stringify(report.counterexample, null, 2))}</pre>` : ''}
</section>
<section><h2>Refusals by reason</h2>
${table(['reason', 'relay', 'replicas', 'total'], refusalRows, 'No envelope was refused.')}
<p class="muted">${escapeHtml(addsUp)}</p></section>
<section><h2>Bytes on the wire</h2>
${table(['kind', 'bytes', 'envelopes'], bytesRows, '')}</section>
<section><h2>Convergence after each heal</h2>
${table(['heal at op', 'at ms', 'caught up', 'at op', 'ops after', 'ms after'], healRows, 'No partition was healed during the ops.')}</section>
<section><h2>Lag and outbox per replica</h2>
<p class="muted">Lag: envelopes the relay accepted from others that the replica has not applied. Outbox: envelopes waiting to be pushed.</p>
${table(['replica', 'lag at end', 'max lag', 'max at op', 'outbox at end', 'max outbox'], lagRows, 'The trace has no samples.')}</section>`;
}

/** The page's own script: reads the data block and draws the three charts with uPlot. */
const APP_SCRIPT = String.raw`(function () {
  'use strict';
  var data = JSON.parse(document.getElementById('cloister-sim-data').textContent);
  var palette = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
  var hasMs = data.x.length > 0 && data.ms.every(function (m, k) { return m !== null && (k === 0 || m >= data.ms[k - 1]); });
  var charts = [];
  var xMode = 'op';
  function marksPlugin() {
    return { hooks: { draw: [function (u) {
      var ctx = u.ctx, top = u.bbox.top, h = u.bbox.height;
      ctx.save();
      data.marks.forEach(function (m) {
        var v = xMode === 'ms' ? m.ms : m.i;
        if (v === null) return;
        var px = u.valToPos(v, 'x', true);
        if (px < u.bbox.left || px > u.bbox.left + u.bbox.width) return;
        ctx.strokeStyle = m.heal ? 'rgba(0,140,0,0.6)' : 'rgba(200,0,0,0.35)';
        ctx.setLineDash(m.heal ? [] : [4, 4]);
        ctx.beginPath(); ctx.moveTo(px, top); ctx.lineTo(px, top + h); ctx.stroke();
      });
      ctx.restore();
    }] } };
  }
  function draw() {
    charts.forEach(function (c) { c.destroy(); });
    charts = [];
    var xs = xMode === 'ms' ? data.ms : data.x;
    var xLabel = xMode === 'ms' ? 'ms since start' : 'op index';
    [['chart-lag', 'Lag per replica (envelopes not yet applied)', data.replicas, data.lag],
     ['chart-outbox', 'Outbox depth per replica', data.replicas, data.outbox],
     ['chart-refused', 'Refusals by reason (cumulative, all replicas)', data.reasons, data.refused]].forEach(function (spec) {
      var el = document.getElementById(spec[0]);
      el.textContent = '';
      if (data.x.length === 0 || spec[2].length === 0) { el.textContent = 'Nothing to plot.'; return; }
      var series = [{ label: xLabel }].concat(spec[2].map(function (name, k) {
        var removed = data.removed.indexOf(name) >= 0;
        return { label: removed ? name + ' (removed)' : name, stroke: palette[k % palette.length], width: 1.5, spanGaps: true, dash: removed ? [6, 4] : undefined, paths: uPlot.paths.stepped({ align: 1 }) };
      }));
      charts.push(new uPlot({
        title: spec[1],
        width: Math.max(480, Math.min(1100, el.clientWidth || 900)),
        height: 260,
        scales: { x: { time: false } },
        axes: [{ label: xLabel }, { incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 1e6, 1e7, 1e8, 1e9] }],
        series: series,
        plugins: [marksPlugin()]
      }, [xs].concat(spec[3]), el));
    });
  }
  var sel = document.getElementById('x-axis');
  if (!hasMs) sel.querySelector('option[value="ms"]').disabled = true;
  sel.addEventListener('change', function () { xMode = sel.value; draw(); });
  draw();
})();`;

const PAGE_STYLE = `body{font:14px/1.45 system-ui,sans-serif;margin:1.5rem auto;max-width:1140px;padding:0 1rem;color:#222}
h1{font-size:1.4rem}h2{font-size:1.15rem;margin-top:1.6rem}table{border-collapse:collapse;margin:.4rem 0}
th,td{border-bottom:1px solid #ddd;padding:.2rem .6rem;text-align:left;vertical-align:top}td.n{text-align:right;font-variant-numeric:tabular-nums}
table.kv th{font-weight:600}.muted{color:#666}.badge{font-size:.8rem;padding:.1rem .5rem;border-radius:.6rem;color:#fff}
.badge.ok{background:#2a7d2a}.badge.bad{background:#b22}pre{background:#f6f6f6;padding:.6rem;overflow:auto;max-height:30rem;white-space:pre-wrap;word-break:break-all}
.chart{margin:.8rem 0;min-height:40px}footer{margin-top:2rem;border-top:1px solid #ddd;font-size:.8rem}`;

const sha256 = (s: string) => `'sha256-${createHash('sha256').update(s, 'utf8').digest('base64')}'`;

/** The whole page. `report` is the sim's JSON report (any shape is tolerated); `trace` its parsed trace lines. */
export function renderHtmlReport(report: unknown, trace: readonly Record<string, unknown>[]): string {
  const lib = chartLibrary();
  const rep = obj(report) ?? {};
  const summary = summarizeTrace(trace, rep.rejected);
  const data = chartData(trace);
  const csp = `default-src 'none'; script-src ${sha256(lib.js)} ${sha256(APP_SCRIPT)}; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'`;
  const seed = num(rep.seed);
  const title = `cloister sim report${seed !== undefined ? ` — seed ${seed}` : ''}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${escapeHtml(csp)}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${lib.css}</style>
<style>${PAGE_STYLE}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
${summarySection(rep, summary)}
<section><h2>Over time</h2>
<p class="muted">One sample per replica after every op. Green lines: heals; dashed red lines: faults.
<label>x axis <select id="x-axis"><option value="op">op index</option><option value="ms">ms since start</option></select></label></p>
<div id="chart-lag" class="chart"></div>
<div id="chart-outbox" class="chart"></div>
<div id="chart-refused" class="chart"></div>
</section>
<section><h2>Full report</h2><details><summary>JSON</summary><pre>${escapeHtml(JSON.stringify(report, null, 2) ?? 'null')}</pre></details></section>
<footer>
<p>Charts drawn by uPlot ${escapeHtml(lib.version)} (https://github.com/leeoniya/uPlot), included in this file under the MIT License:</p>
<pre>${escapeHtml(lib.license)}</pre>
</footer>
<script type="application/json" id="cloister-sim-data">${jsonForScript(data)}</script>
<script>${lib.js}</script>
<script>${APP_SCRIPT}</script>
</body>
</html>
`;
}
