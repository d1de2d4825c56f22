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

/** n keystroke changes on a text, returned as raw change bytes. */
function keystrokes(lib: Lib, n: number): Uint8Array[] {
  let doc = lib.from<TextDoc>({ text: '' });
  for (let i = 0; i < n; i++) doc = lib.change(doc, (d) => lib.splice(d, ['text'], i, 0, 'x'));
  return lib.getAllChanges(doc);
}

function measure(lib: Lib, history: number, incremental: number) {
  const tenK = keystrokes(lib, 10_000);
  const t0 = performance.now();
  lib.applyChanges(lib.init<TextDoc>(), tenK);
  const batchMs = performance.now() - t0;

  // A long history, then single-change incremental applies on top of it.
  const all = keystrokes(lib, history + incremental);
  let [doc] = lib.applyChanges(lib.init<TextDoc>(), all.slice(0, history));
  const times: number[] = [];
  for (const c of all.slice(history)) {
    const s = performance.now();
    [doc] = lib.applyChanges(doc, [c]);
    times.push(performance.now() - s);
  }
  return { batchMs, incrementalMs: median(times) };
}

export const automergeVersionSuite: BenchSuite = {
  name: 'automerge',
  description: 'Automerge 3.5 vs 2.2.9: batched and incremental applyChanges',
  async run() {
    const HISTORY = 30_000;
    const v3 = measure(A3, HISTORY, 20);
    const v2 = measure(A2 as unknown as Lib, HISTORY, 20);
    return {
      automerge3_version: '3.5',
      automerge2_version: '2.2.9',
      automerge3_apply_10k_one_call_ms: round(v3.batchMs),
      automerge2_apply_10k_one_call_ms: round(v2.batchMs),
      automerge_history_changes: HISTORY,
      automerge3_incremental_apply_ms: round(v3.incrementalMs, 3),
      automerge2_incremental_apply_ms: round(v2.incrementalMs, 3),
      automerge3_over_2_incremental_ratio: round(v3.incrementalMs / v2.incrementalMs, 1),
    };
  },
};
