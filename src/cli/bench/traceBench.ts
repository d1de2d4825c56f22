// Cold start of a long document (issue 13): one record whose notes went through a 259,778-edit
// editing trace (synthetic, same shape as Kleppmann's automerge-perf trace: editingTrace.ts), stored
// in a profile as a device that received it holds it. Timed: opening the profile's session and the
// record's document (decrypt the stored chunks, load them, ready to read; the vault is unlocked
// already), against Automerge's own load() of the same document's save() bytes, median of 3 each;
// and, beside it, the same up to the record view `record show` prints (RecordStore.get).
// Opt-in (`cloister bench --only trace`): building the document takes most of a minute.
import * as A from '@automerge/automerge';
import { openRecordSession } from '../../docs/openSession.ts';
import type { RecordDoc } from '../../docs/records/recordTypes.ts';
import { syntheticTrace, TRACE_EDITS } from './editingTrace.ts';
import { median, round, timeMs } from './measure.ts';
import type { BenchSuite, Figures } from './suite.ts';
import { setUp, type Setup } from './syncBench.ts';

const RUNS = 3;
/** Another device's actor: the trace was typed elsewhere and received here. */
const TYPIST = 'a1b2c3d4e5f60718293a4b5c6d7e8f90';

/**
 * The record `id` on device A after the trace's edits on its notes, each its own change, made on
 * Automerge's low-level backend (A.change re-renders the whole text on every change: minutes, not
 * seconds, at this length) and taken into A's copy in one step, as one applied batch is.
 */
async function typeTrace(s: Setup, id: string, edits: number): Promise<A.Doc<RecordDoc>> {
  const handle = (await s.a.session.session.open<RecordDoc>(id))!;
  const base = handle.doc();
  const notes = A.getObjectId(base, 'notes')!;
  const backend = A.getBackend(A.clone(base, { actor: TYPIST }));
  const start = Math.floor(Date.now() / 1000);
  syntheticTrace(edits).forEach((e, i) => {
    if ('insert' in e) backend.splice(notes, e.pos, 0, e.insert);
    else backend.splice(notes, e.pos, 1);
    backend.commit(null, start + Math.floor(i / 5)); // about five keystrokes a second
  });
  const typed = backend.save();
  handle.update(d => A.load<RecordDoc>(typed, { actor: A.getActorId(d) }));
  return handle.doc();
}

/** `edits` is for tests; the figure names say 260k whatever it is. */
export async function traceBench(log: (m: string) => void = () => undefined, o: { edits?: number } = {}): Promise<Figures> {
  const edits = o.edits ?? TRACE_EDITS;
  const s = await setUp();
  try {
    const id = await s.a.session.records.create({ title: 'a paper, typed' });
    const tBuild = performance.now();
    const doc = await typeTrace(s, id, edits);
    const want = doc.notes.length;
    const bytes = A.save(doc);
    const changes = A.stats(doc).numChanges;
    log(`  built ${changes} changes (${want} characters, save() ${bytes.length} bytes) in ${(performance.now() - tBuild).toFixed(0)} ms`);
    await s.a.close(); // flushed to A's profile on disk

    const ours: number[] = [];
    const shown: number[] = [];
    const anchor: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const t0 = performance.now();
      const opened = await openRecordSession({ home: s.homeA, vault: s.vaultA });
      if (!opened.ok) throw new Error(`open A: ${opened.reason}`);
      try {
        const notes = (await opened.value.session.open<RecordDoc>(id))?.doc().notes.length;
        ours.push(performance.now() - t0);
        if (notes !== want) throw new Error(`cold start read ${notes} characters, want ${want}`);
        // What `record show` gives on top: the record view, with who changed it (attribution).
        await opened.value.records.get(id);
        shown.push(performance.now() - t0);
      } finally {
        await opened.value.close();
      }
      anchor.push(await timeMs(() => {
        const notes = A.load<RecordDoc>(bytes).notes.length;
        if (notes !== want) throw new Error(`load() read ${notes} characters, want ${want}`);
      }));
      log(`  run ${r + 1}: cloister ${ours[r]!.toFixed(0)} ms (${shown[r]!.toFixed(0)} ms with the record view), automerge load() ${anchor[r]!.toFixed(0)} ms`);
    }
    const oursMs = median(ours);
    const anchorMs = median(anchor);
    return {
      /** Open the profile's session and the record's document, read its notes: decrypt, load, ready to read (vault already unlocked). */
      cold_start_260k_trace_ms: round(oursMs),
      /** A.load() of the same document's save() bytes, and its notes read. */
      automerge_load_260k_ms: round(anchorMs),
      cold_start_260k_over_automerge_load_ratio: round(oursMs / anchorMs, 2),
      /** The same, then the record view as `record show` reads it (RecordStore.get: fields, notes, who changed it). */
      cold_start_260k_record_view_ms: round(median(shown)),
      cold_start_260k_record_view_over_automerge_load_ratio: round(median(shown) / anchorMs, 2),
      cold_start_260k_trace_changes: changes,
      cold_start_260k_trace_bytes: bytes.length,
      cold_start_260k_trace_note: 'synthetic trace (seeded) with the shape of the automerge-perf trace: 259,778 single-character edits, about 30% deletions; the real trace is not on the npm registry',
      cold_start_260k_runs_ms: ours.map(x => round(x)),
      automerge_load_260k_runs_ms: anchor.map(x => round(x)),
    };
  } finally {
    await s.close();
  }
}

export const traceSuite: BenchSuite = {
  name: 'trace',
  description: 'cold start of one record with a 259,778-edit trace (synthetic) vs Automerge load() of the same document (opt-in)',
  optIn: true,
  run: ctx => traceBench(ctx.log),
};
