// The long-document figures of issue 13 are produced end to end on small sizes: one long record
// synced and edited live (long-doc), a cold start of a traced record (trace), and Automerge 3.5 against
// 2.2.9 on one live edit. Not timing tests: the real figures come from `cloister bench --only …`.
import * as A3 from '@automerge/automerge';
import * as A2 from 'automerge-v2/next';
import { describe, expect, it } from 'vitest';
import { incrementalApplyMs, keystrokes } from '../../src/cli/bench/automergeVersionBench.ts';
import { syntheticTrace, TRACE_EDITS } from '../../src/cli/bench/editingTrace.ts';
import { SUITES } from '../../src/cli/bench/index.ts';
import { longDocBench } from '../../src/cli/bench/longDocBench.ts';
import { traceBench } from '../../src/cli/bench/traceBench.ts';
import { integrationTimeouts } from '../timeouts.ts';

integrationTimeouts();

const positive = (x: unknown) => expect(x).toBeGreaterThan(0);

describe('long-document bench figures', () => {
  it('long-doc and trace are registered as opt-in suites', () => {
    expect(SUITES.find(s => s.name === 'long-doc')?.optIn).toBe(true);
    expect(SUITES.find(s => s.name === 'trace')?.optIn).toBe(true);
  });

  it('long-doc syncs a long record A → relay → B, then times live edits and the apply path, each beside its automerge-repo or Automerge anchor', async () => {
    const f = await longDocBench(() => undefined, { keystrokes: 400, edits: 2 });
    for (const k of ['long_doc_50k_sync_ms', 'automerge_repo_long_doc_50k_sync_ms', 'long_doc_50k_sync_over_automerge_repo_ratio', 'automerge_repo_long_doc_50k_sync_empty_b_ms', 'live_edit_long_doc_ms', 'automerge_repo_live_edit_long_doc_ms', 'live_edit_long_doc_over_automerge_repo_ratio', 'live_edit_apply_long_doc_ms', 'automerge_apply_live_edit_long_doc_ms', 'live_edit_apply_over_automerge_ratio'])
      positive(f[k]);
    expect(f.live_edit_long_doc_runs_ms).toHaveLength(2);
    expect(f.automerge_repo_live_edit_long_doc_runs_ms).toHaveLength(2);
  });

  it('trace cold-starts a traced record from the profile on disk and compares it with load() of the same document', async () => {
    const f = await traceBench(() => undefined, { edits: 1500 });
    expect(f.cold_start_260k_trace_changes).toBe(1501); // the record's creation, then one change per edit
    positive(f.cold_start_260k_trace_ms);
    positive(f.automerge_load_260k_ms);
    positive(f.cold_start_260k_over_automerge_load_ratio);
    expect(f.cold_start_260k_record_view_ms).toBeGreaterThanOrEqual(f.cold_start_260k_trace_ms as number);
    expect(f.cold_start_260k_trace_note).toMatch(/synthetic/);
  });

  it('the synthetic trace has the automerge-perf shape: the same edits for a seed, about 30% deletions, every position in range', () => {
    expect(syntheticTrace(5000)).toEqual(syntheticTrace(5000));
    expect(syntheticTrace(5000, 1)).not.toEqual(syntheticTrace(5000, 2));
    const trace = syntheticTrace(20_000);
    let text = '';
    for (const e of trace) {
      expect(e.pos).toBeLessThanOrEqual('insert' in e ? text.length : text.length - 1);
      text = 'insert' in e ? text.slice(0, e.pos) + e.insert + text.slice(e.pos) : text.slice(0, e.pos) + text.slice(e.pos + 1);
    }
    const deletions = trace.filter(e => 'delete' in e).length / trace.length;
    expect(deletions).toBeGreaterThan(0.25);
    expect(deletions).toBeLessThan(0.35);
    expect(text.length).toBe(trace.length - 2 * trace.filter(e => 'delete' in e).length);
    expect(TRACE_EDITS).toBe(259_778);
  });

  it('one live edit on a long history is timed with both Automerge 3.5 and 2.2.9', () => {
    for (const lib of [A3, A2 as unknown as typeof A3]) {
      const all = keystrokes(lib, 320);
      expect(all).toHaveLength(321);
      positive(incrementalApplyMs(lib, all, 300, 20));
    }
  });
});
