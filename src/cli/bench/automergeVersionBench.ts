// Automerge 3.5 against 2.2.9, side by side (DESIGN → Pitfalls: "measure both and pick with
// evidence"). Two figures per version: one batched applyChanges of 10k keystrokes, and one small
// incremental applyChanges on a document with a long history, where 3.x is known to slow down
// (upstream automerge/automerge#1042).
import * as A3 from '@automerge/automerge';
import * as A2 from 'automerge-v2/next';
import { median, round } from './measure.ts';
import type { BenchSuite } from './suite.ts';

type Lib = typeof A3;
type TextDoc = { text: string };

/**
 * n keystroke changes on a text, returned as raw change bytes. Made on the low-level backend: each
 * A.change also re-renders the whole text, which makes 50,000 of them take minutes, not seconds.
 */
export function keystrokes(lib: Lib, n: number): Uint8Array[] {
  const doc = lib.from<TextDoc>({ text: '' });
  const text = lib.getObjectId(doc, 'text')!;
  const backend = lib.getBackend(lib.clone(doc));
  for (let i = 0; i < n; i++) {
    backend.splice(text, i, 0, 'x');
    backend.commit(null, 0);
  }
  return backend.getChanges([]);
}

/** Median milliseconds of one single-change applyChanges on a document holding the first `history` changes. */
export function incrementalApplyMs(lib: Lib, all: Uint8Array[], history: number, incremental: number): number {
  let [doc] = lib.applyChanges(lib.init<TextDoc>(), all.slice(0, history));
  const times: number[] = [];
  for (const c of all.slice(history, history + incremental)) {
    const s = performance.now();
    [doc] = lib.applyChanges(doc, [c]);
    times.push(performance.now() - s);
  }
  return median(times);
}

function measure(lib: Lib, histories: readonly number[], incremental: number) {
  const all = keystrokes(lib, Math.max(10_000, ...histories) + incremental);
  const t0 = performance.now();
  lib.applyChanges(lib.init<TextDoc>(), all.slice(0, 10_000));
  const batchMs = performance.now() - t0;
  // A long history, then single-change incremental applies on top of it.
  return { batchMs, incrementalMs: histories.map(h => incrementalApplyMs(lib, all, h, incremental)) };
}

export const automergeVersionSuite: BenchSuite = {
  name: 'automerge',
  description: 'Automerge 3.5 vs 2.2.9: batched and incremental applyChanges',
  async run() {
    const HISTORY = 30_000;
    const LONG = 50_000; // the long record of long_doc_50k_sync_ms and live_edit_long_doc_ms
    const v3 = measure(A3, [HISTORY, LONG], 20);
    const v2 = measure(A2 as unknown as Lib, [HISTORY, LONG], 20);
    return {
      automerge3_version: '3.5',
      automerge2_version: '2.2.9',
      automerge3_apply_10k_one_call_ms: round(v3.batchMs),
      automerge2_apply_10k_one_call_ms: round(v2.batchMs),
      automerge_history_changes: HISTORY,
      automerge3_incremental_apply_ms: round(v3.incrementalMs[0]!, 3),
      automerge2_incremental_apply_ms: round(v2.incrementalMs[0]!, 3),
      automerge3_over_2_incremental_ratio: round(v3.incrementalMs[0]! / v2.incrementalMs[0]!, 1),
      /** One live edit (a one-change applyChanges) on a 50,000-change document, median of 20. */
      automerge3_apply_one_on_50k_ms: round(v3.incrementalMs[1]!, 3),
      automerge2_apply_one_on_50k_ms: round(v2.incrementalMs[1]!, 3),
      automerge3_over_2_apply_one_on_50k_ratio: round(v3.incrementalMs[1]! / v2.incrementalMs[1]!, 1),
    };
  },
};
