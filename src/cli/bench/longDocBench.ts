// Long documents (issue 13): one record with 50,000 keystroke changes typed offline on device A,
// sent A → loopback relay → B (long_doc_50k_sync_ms, the same pipeline as sync_10k_ms in syncBench.ts),
// then live edits on that record: one keystroke on A until B has it (live_edit_long_doc_ms), and B's
// own apply path for one envelope carrying it (live_edit_apply_long_doc_ms). Each sits beside its
// plaintext anchor: automerge-repo over WebSocket with NodeFS storage on every peer for the first two,
// and Automerge's applyChanges of the same change on B's document for the third.
// Opt-in (`cloister bench --only long-doc`): typing 50,000 sealed keystrokes takes most of a minute.
import * as A from '@automerge/automerge';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecordDoc } from '../../docs/records/recordTypes.ts';
import { automergeRepoSyncRun } from './automergeRepoSyncAnchor.ts';
import { median, round, timeMs } from './measure.ts';
import type { BenchSuite, Figures } from './suite.ts';
import { headsOf, setUp, syncRun, type Setup } from './syncBench.ts';

const KEYSTROKES = 50_000;
const EDITS = 5;

/** One keystroke at the end of the record's notes on A, sealed at once (no flush window). */
async function typeOne(s: Setup, id: string): Promise<void> {
  const session = s.a.session.session;
  const typed = session.change<RecordDoc>(id, d => A.splice(d, ['notes'], d.notes.length, 0, 'z'));
  await session.flushDoc(id);
  await typed;
}

/** Keystroke on A → A's sync pass → B's sync passes until B has A's heads. */
async function liveEditMs(s: Setup, id: string): Promise<number> {
  const t0 = performance.now();
  await typeOne(s, id);
  const want = headsOf((await s.a.session.session.open<RecordDoc>(id))!.doc());
  await s.a.engine.syncOnce();
  for (let pass = 0; ; pass++) {
    await s.b.engine.syncOnce();
    if (headsOf((await s.b.session.session.open<RecordDoc>(id))!.doc()) === want) break;
    if (pass > 10) throw new Error('device B did not receive the live edit');
  }
  return performance.now() - t0;
}

/**
 * B's apply path for the envelope of one keystroke (open, check, apply, store) against Automerge's
 * applyChanges of the same change on a copy of B's document. The envelope goes straight from A's
 * outbox to B (the relay is not part of this figure).
 */
async function applyPathMs(s: Setup, id: string): Promise<{ cloisterMs: number; automergeMs: number }> {
  const handleA = (await s.a.session.session.open<RecordDoc>(id))!;
  const handleB = (await s.b.session.session.open<RecordDoc>(id))!;
  const beforeA = handleA.doc();
  await typeOne(s, id);
  const change = A.getChanges(beforeA, handleA.doc());
  const pending = await s.a.session.session.outbox.pending(id);
  const envelope = pending.reduce((x, y) => (y.seq > x.seq ? y : x)).bytes;
  const copy = A.clone(handleB.doc());
  const automergeMs = await timeMs(() => A.applyChanges(copy, change));
  const cloisterMs = await timeMs(async () => {
    const report = await s.b.session.session.applyRemote([envelope]);
    if (report.applied.length !== 1) throw new Error(`device B applied ${report.applied.length} envelopes, want 1`);
  });
  return { cloisterMs, automergeMs };
}

/**
 * A new device joins after the long record exists, until its record has every keystroke: starting from
 * the relay's newest snapshot of it (docs/SNAPSHOTS.md) while the covered envelopes are still stored
 * (each is then checked, not applied), replaying every envelope (snapshots off), and from the snapshot
 * after the relay pruned what it covers (the operator's retention passed); beside Automerge's load()
 * of the same document.
 */
async function coldJoinMs(s: Setup, id: string): Promise<{ snapshotMs: number; replayMs: number; prunedMs: number; loadMs: number; loaded: number }> {
  const want = headsOf((await s.a.session.session.open<RecordDoc>(id))!.doc());
  const wantLength = (await s.a.session.records.get(id))?.notes.length;
  const joinOnce = async (name: string, loadSnapshots: boolean) => {
    const n = await s.joinNew(name, { loadSnapshots });
    const t0 = performance.now();
    let loaded = 0;
    for (let pass = 0; ; pass++) {
      loaded += (await n.engine.syncOnce()).snapshots.loaded;
      const h = await n.session.session.open<RecordDoc>(id);
      if (h && headsOf(h.doc()) === want) break;
      if (pass > 20) throw new Error(`device ${name} did not converge`);
    }
    const ms = performance.now() - t0;
    const notes = (await n.session.records.get(id))?.notes.length;
    if (notes !== wantLength) throw new Error(`device ${name} has ${notes} characters`);
    return { ms, loaded };
  };
  const bytes = A.save((await s.a.session.session.open<RecordDoc>(id))!.doc());
  const loadMs = await timeMs(() => A.load(bytes));
  const snap = await joinOnce('carol', true);
  const replay = await joinOnce('dave', false);
  for (const due of await s.relayStore.snapshotsDueForPruning(Date.now() + 1, 1000)) await s.relayStore.pruneCoveredEnvelopes(due, Date.now());
  const pruned = await joinOnce('erin', true);
  return { snapshotMs: snap.ms, replayMs: replay.ms, prunedMs: pruned.ms, loadMs, loaded: snap.loaded + pruned.loaded };
}

/** `keystrokes`/`edits` are for tests; the figure names say 50k whatever they are. */
export async function longDocBench(log: (m: string) => void = () => undefined, o: { keystrokes?: number; edits?: number } = {}): Promise<Figures> {
  const keystrokes = o.keystrokes ?? KEYSTROKES;
  const edits = o.edits ?? EDITS;
  log(`  ${keystrokes} keystrokes on one record: cloister (relay on SQLite, temp files), then automerge-repo (WebSocket + NodeFS)`);
  const s = await setUp({ joiners: 3 });
  const ours = { live: [] as number[], apply: [] as number[], automergeApply: [] as number[] };
  let run: Awaited<ReturnType<typeof syncRun>>;
  let cold: Awaited<ReturnType<typeof coldJoinMs>>;
  try {
    run = await syncRun(s, keystrokes);
    log(`  cloister: ${run.ms.toFixed(0)} ms (${run.envelopes} envelopes; typing and sealing took ${run.sealMs.toFixed(0)} ms)`);
    for (let e = 0; e < edits; e++) ours.live.push(await liveEditMs(s, run.id));
    for (let e = 0; e < edits; e++) {
      const r = await applyPathMs(s, run.id);
      ours.apply.push(r.cloisterMs);
      ours.automergeApply.push(r.automergeMs);
    }
    await s.a.engine.syncOnce(); // the apply-path keystrokes reach the relay too
    cold = await coldJoinMs(s, run.id);
    log(`  cold join: from a snapshot ${cold.snapshotMs.toFixed(0)} ms, after pruning ${cold.prunedMs.toFixed(0)} ms (${cold.loaded} adopted in all), replaying envelopes ${cold.replayMs.toFixed(0)} ms, A.load ${cold.loadMs.toFixed(0)} ms`);
  } finally {
    await s.close();
  }
  const dir = mkdtempSync(join(tmpdir(), 'cloister-longdoc-am-'));
  let anchor: Awaited<ReturnType<typeof automergeRepoSyncRun>>;
  let anchorEmptyB: Awaited<ReturnType<typeof automergeRepoSyncRun>>;
  try {
    // B holds the record before the typing, as Cloister's B does: the keystrokes reach it as changes.
    anchor = await automergeRepoSyncRun(keystrokes, { storageDir: join(dir, 'held'), liveEdits: edits, bHoldsBase: true });
    // For reference: B holds nothing, so the sync protocol sends it the whole document to load.
    anchorEmptyB = await automergeRepoSyncRun(keystrokes, { storageDir: join(dir, 'empty') });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const live = median(ours.live);
  const anchorLive = median(anchor.liveEditMs);
  const apply = median(ours.apply);
  const automergeApply = median(ours.automergeApply);
  log(`  sync: cloister ${run.ms.toFixed(0)} ms, automerge-repo ${anchor.syncMs.toFixed(0)} ms (B holding nothing: ${anchorEmptyB.syncMs.toFixed(0)} ms)`);
  log(`  live edit: cloister ${live.toFixed(0)} ms, automerge-repo ${anchorLive.toFixed(0)} ms; apply path ${apply.toFixed(1)} ms, applyChanges ${automergeApply.toFixed(1)} ms`);
  return {
    /**
     * A's sync start → B converged, one record with 50,000 keystroke changes, encrypted, via the relay.
     * B holds the record from before the typing on both sides (the anchor's B imports that version).
     */
    long_doc_50k_sync_ms: round(run.ms),
    automerge_repo_long_doc_50k_sync_ms: round(anchor.syncMs),
    long_doc_50k_sync_over_automerge_repo_ratio: round(run.ms / anchor.syncMs, 2),
    /** The anchor with B holding nothing: Automerge's sync protocol then sends the whole document, loaded at once. */
    automerge_repo_long_doc_50k_sync_empty_b_ms: round(anchorEmptyB.syncMs),
    long_doc_50k_sync_over_automerge_repo_empty_b_ratio: round(run.ms / anchorEmptyB.syncMs, 2),
    long_doc_50k_envelopes: run.envelopes,
    /** Before the timed part: typing the 50,000 keystrokes offline on A until every envelope is in the outbox. */
    long_doc_50k_type_and_seal_ms: round(run.sealMs),
    /** One keystroke on A (sealed at once) → A's sync pass → B has it; median of `edits`. */
    live_edit_long_doc_ms: round(live),
    automerge_repo_live_edit_long_doc_ms: round(anchorLive),
    live_edit_long_doc_over_automerge_repo_ratio: round(live / anchorLive, 2),
    live_edit_long_doc_runs_ms: ours.live.map(x => round(x)),
    automerge_repo_live_edit_long_doc_runs_ms: anchor.liveEditMs.map(x => round(x)),
    /** B's applyRemote of the one-keystroke envelope, against applyChanges of the same change (Automerge 3.5). */
    live_edit_apply_long_doc_ms: round(apply, 2),
    automerge_apply_live_edit_long_doc_ms: round(automergeApply, 2),
    live_edit_apply_over_automerge_ratio: round(apply / automergeApply, 2),
    /** A new device joins after the long record exists, until it has every keystroke: from the newest snapshot, then replaying every envelope. */
    cold_join_long_doc_snapshot_ms: round(cold.snapshotMs),
    cold_join_long_doc_replay_ms: round(cold.replayMs),
    cold_join_long_doc_snapshot_over_replay_ratio: round(cold.snapshotMs / cold.replayMs, 2),
    /** The same join from the snapshot once the relay pruned the envelopes it covers. */
    cold_join_long_doc_pruned_ms: round(cold.prunedMs),
    cold_join_long_doc_pruned_over_replay_ratio: round(cold.prunedMs / cold.replayMs, 2),
    automerge_load_long_doc_ms: round(cold.loadMs, 1),
    cold_join_long_doc_snapshot_over_load_ratio: round(cold.snapshotMs / cold.loadMs, 2),
  };
}

export const longDocSuite: BenchSuite = {
  name: 'long-doc',
  description: 'one record with 50k keystrokes A → relay → B, then live edits on it, vs automerge-repo with NodeFS (opt-in)',
  optIn: true,
  run: ctx => longDocBench(ctx.log),
};
