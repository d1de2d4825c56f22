// A short human summary of a scenario report (what `cloister sim --scenario` prints without --json).
import type { ScenarioReport } from './runScenario.ts';

const counts = (m: Record<string, number>) =>
  Object.entries(m)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${k} ${v}`)
    .join(', ') || 'none';

export function formatScenarioSummary(r: ScenarioReport): string {
  const ok = r.assertions.filter(a => a.ok).length;
  const lines = [
    `scenario ${r.name}: ${r.passed ? 'PASSED' : 'FAILED'} (${ok}/${r.assertions.length} assertions held, ${(r.timings.totalMs / 1000).toFixed(1)} s)${r.defencesOff.length ? ` with defences off: ${r.defencesOff.join(', ')}` : ''}`,
  ];
  for (const a of r.assertions.filter(x => !x.ok)) lines.push(`  step ${a.step} FAILED: ${a.what}: ${a.detail}`);
  lines.push(`  refused by the relay: ${counts(r.rejected.relay)}; by replicas: ${counts(r.rejected.replicas)}${Object.keys(r.rejected.log).length ? `; membership changes: ${counts(r.rejected.log)}` : ''}`);
  lines.push(`  content hash ${r.contentHash ?? '(members differ)'}${r.removed.length ? `; removed: ${r.removed.join(', ')}` : ''}`);
  return lines.join('\n');
}
