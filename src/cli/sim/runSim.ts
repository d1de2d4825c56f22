// `cloister sim`: a seeded, replayable simulation of many replicas editing records through the real
// vault, envelope, crypto, sync-engine and relay code (in-process relay on loopback, SQLite in a temp
// directory). The seed fixes every choice (ops, sync order, scheduled faults); network timing may vary,
// but the outcome must not: at the end every remaining replica holds identical heads for every document
// and every edit whose call resolved, and shows the same records, conflicts included, with no value
// nobody typed and a list that agrees with its records. See docs/SIM.md.
import * as A from '@automerge/automerge';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as pathJoin } from 'node:path';
import type { PublicKey } from '../../crypto/keys.ts';
import { decodeEnvelope } from '../../protocol/envelope.ts';
import { envelopeHashOf } from '../../docs/envelope/envelopeHash.ts';
import { RelayClient } from '../../docs/sync/relayClient.ts';
import { listQuarantine, resubmitQuarantined } from '../../docs/sync/resubmit.ts';
import type { SyncSummary } from '../../docs/sync/SyncEngine.ts';
import type { SyncEngineOptions } from '../../docs/sync/syncTypes.ts';
import { editsPresence, headsDigests, headsKey, type EditMark } from './compare.ts';
import { checkAcross, checkReplica, contentHash, countConflicts, snapshotViews, untypedValues, type Counterexample, type ReplicaViews } from './compareViews.ts';
import type { DocSession } from '../../docs/DocSession.ts';
import type { RecordStore } from '../../docs/records/RecordStore.ts';
import { parseFaults, SimUsageError, type Fault } from './faults.ts';
import { Mallory, type ForgeryResult } from './malicious.ts';
import { createStoredWorkspace, invite, joinWorkspace, makeUser, openReplica, removeFromWorkspace, type OpenReplica, type SimUser } from './profiles.ts';
import { DEFAULT_RATES, drawPlan, resolveChoice, type Action, type Choice, type FaultRates, type Step } from './ops.ts';
import { createRng } from './rng.ts';
import { SIM_EPOCH_MS, SIM_MS_PER_OP, SIM_RELAY_LIMITS, withSeededRandom } from './seededRandom.ts';
import { summarizeTrace } from './report/summary.ts';
import { TypedValues, UNKNOWN_RECORD } from './typedValues.ts';
import { inProcessLink, NO_FAULTS, startWireProxy, type WireProxy } from './wireProxy.ts';

import { SIM_LIMITS } from './limits.ts';
import { add, quiet } from './counters.ts';

export { SIM_LIMITS };
/** Under the expired-lease fault the workspace's offline leases last this long (relay clock), policy reject. */
const SIM_MAX_OFFLINE_MS = 10 * 60_000;

/** Memory mode's profiles: RAM-backed where the system has it. */
const SHM = '/dev/shm';

export interface SimOptions {
  replicas: number;
  ops: number;
  seed: number;
  faults?: Fault[] | string;
  /** Trace file (JSON lines); default trace.jsonl in the run's temp directory (kept). */
  trace?: string;
  /** Keep the profiles and relay database after the run (default: only the trace is kept). */
  keep?: boolean;
  /**
   * Memory mode: profiles in RAM (tmpfs, where fsync costs nothing), the relay's SQLite in memory, and
   * the relay reached in-process instead of over loopback. The same code and checks otherwise.
   */
  memory?: boolean;
  /** Run these steps instead of drawing them from the seed (replay, shrinking); `ops` is then their count. */
  plan?: readonly Step[];
  /** The op mix (relative weights) and fault rates; defaults DEFAULT_WEIGHTS and DEFAULT_RATES (ops.ts). */
  weights?: Readonly<Record<Action, number>>;
  rates?: Partial<FaultRates>;
  /**
   * Removal semantics (named in the report): 'push', the product's, judges a removed member's envelopes
   * by the log as the relay holds it when they arrive; 'causal' by the log as their author had it when
   * sealing them (relay RemovalJudgement). Default 'push'.
   */
  removal?: 'push' | 'causal';
  /** Sync engine tuning for every replica (batch sizes, pull limit); the engine's defaults otherwise. */
  sync?: Pick<SyncEngineOptions, 'pushWindow' | 'pullLimit' | 'applyBatch'>;
  /**
   * Test-only: a bug planted in the replicas' apply path, to show the checks and the shrinker find it.
   * `dropRemote`: replica `replica` silently drops the `nth` (1-based) envelope from another device it
   * is handed, as a broken client would.
   */
  plantedBug?: { dropRemote: { replica: number; nth: number } };
  /** Progress lines (stderr in the CLI). */
  log?: (msg: string) => void;
  /**
   * For tests of the checker: runs after the ops, before the final sync, with the real replicas. What it
   * writes goes through the real sessions and sync; values it passes to `typed` count as typed.
   */
  beforeFinalSync?: (ctx: SimHookContext) => Promise<void>;
}

export interface SimHookContext {
  replicas: { name: string; removed: boolean; records: RecordStore; session: DocSession }[];
  /** Record ids by creation index. */
  created: readonly string[];
  /** Log a value as typed by a user at `path` ('title', 'fields.KEY') of a record. */
  typed(recordId: string, path: string, value: string): void;
  /** One successful sync pass of replica `index` (retried if a fault cuts it). */
  sync(index: number): Promise<void>;
}

export interface SimReport {
  converged: boolean;
  seed: number;
  replicas: number;
  ops: number;
  faults: Fault[];
  /** The semantics the run used: how removal is judged ('push', the product's, or 'causal'). */
  semantics: { removal: 'push' | 'causal' };
  /** Envelopes refused, by reason: by the relay (pushes) and by replicas (pulled envelopes they quarantined). */
  rejected: { relay: Record<string, number>; replicas: Record<string, number> };
  /** Edits whose call resolved, and how many of them every remaining replica holds at the end. */
  edits: { made: number; present: number; missing: number; byRemovedMember: number; byRemovedMemberPresent: number; refused: Record<string, number> };
  /** Per replica: a digest of the sorted heads of every document it holds (equal digests = converged). */
  /** `documents`: a digest of every document's Automerge.save() bytes on that replica (seed-exact runs reproduce it). */
  heads: { replica: string; removed: boolean; docs: number; digest: string; documents: string }[];
  records: { created: number; deleted: number; restored: number };
  /** A digest of the materialized records (conflicts included) shared by every remaining replica; null when they differ. */
  contentHash: string | null;
  /** What users see: the per-replica view checks, conflicts, the typed-value log. */
  materialized: MaterializedReport;
  /** The first broken view property (mid-run or at the end); absent when none broke. */
  counterexample?: Counterexample;
  syncs: { ok: number; failed: number; skippedPartitioned: number; finalRounds: number };
  /** From the trace, in ops: bytes on the wire, catching up after each heal, per-replica lag and queue depth, refusals. */
  timeline: SimTimeline;
  wire: { connections: number; forwarded: number; duplicated: number; cut: number; reordered: number };
  /** expired-lease: relay clock jumps, envelopes refused lease_expired, re-sealed under a fresh lease. */
  /** clock-skew: each replica's local clock offset (claimed times, lease clock). */
  clockSkewMs?: Record<string, number>;
  leases?: { jumps: number; resubmitted: number; lease_expired: number };
  /** replay: re-pushed to the relay (duplicate / seq_replay, never accepted), and re-delivered to the author (a no-op). */
  replays?: { pushed: number; duplicate: number; seq_replay: number; not_a_member: number; accepted: number; other: number; redeliveredNoop: number; redeliveredChanged: number };
  forgeries?: { pushed: number; byKind: Record<string, number>; asExpected: number; unexpected: ForgeryResult[]; forgedDocsPresent: number };
  removed: string[];
  /** Anything that broke a property (empty when converged). */
  problems: string[];
  /** Wall clock, ms: setup, the ops (of which sync passes and mid-run view checks), the final rounds, all. */
  timings: { setupMs: number; opsMs: number; syncMs: number; checksMs: number; finalSyncMs: number; totalMs: number };
  trace: string;
  dir: string;
}

export interface SimTimeline {
  /** Envelope bytes pushed (re-pushes included) and pulled, and every frame byte each way through the links. */
  bytes: { pushed: number; pushedEnvelopes: number; rePushed: number; pulled: number; toRelay: number; toClient: number };
  /** For each heal (a partition's end, and the final one): the op after which every remaining replica had lag 0. */
  convergenceAfterHeal: { healAt: number | null; reached: boolean; convergedAt: number | null; ops: number | null }[];
  /** Per replica: envelopes others got accepted that it had not applied yet, and envelopes waiting to be pushed. */
  lag: Record<string, { final: number; max: number; maxAtI: number | null; removed: boolean }>;
  outbox: Record<string, { final: number; max: number; maxAtI: number | null; removed: boolean }>;
  /**
   * Refusals summed over the trace's sync results, and those of pushes the faults made (forgeries,
   * replays); `addsUp`: syncs + faults equal the report's `rejected`, and the per-replica counters agree.
   */
  refusals: { relay: Record<string, number>; replicas: Record<string, number>; byFaults: Record<string, number>; addsUp: boolean };
}

export interface MaterializedReport {
  /** Records held by the first remaining replica: all, live, deleted. */
  records: number;
  live: number;
  deleted: number;
  /** At the end, on the first remaining replica: paths in conflict, losing values shown, records with a conflict. */
  conflicts: { paths: number; values: number; records: number };
  /** Distinct (record, path, losing value) conflicts any replica showed at any check during the run. */
  conflictsSeen: number;
  /** resolve ops that assigned a value to at least one conflicted path. */
  resolved: number;
  /** Distinct (record, path, value) triples the users typed; and shown values checked against them. */
  typedValues: number;
  valuesChecked: number;
  /** Replica views checked during the run (after each sync op, and each edit's read of its record). */
  midRunChecks: number;
  /** Broken view properties by check (see compareViews.ts); empty when none broke. */
  violations: Record<string, number>;
  perReplica: { replica: string; removed: boolean; records: number; listed: number; trash: number; contentHash: string }[];
}

interface Replica {
  name: string;
  user: SimUser;
  proxy: WireProxy;
  o: OpenReplica;
  removed: boolean;
  partitionedUntil: number;
}



export function validateSimOptions(o: SimOptions): Fault[] {
  const int = (name: string, v: number, lo: number, hi: number) => {
    if (!Number.isInteger(v) || v < lo || v > hi) throw new SimUsageError(`--${name} must be an integer from ${lo} to ${hi}`);
  };
  int('replicas', o.replicas, 1, SIM_LIMITS.maxReplicas);
  int('ops', o.ops, 0, SIM_LIMITS.maxOps);
  int('seed', o.seed, 0, 2 ** 32 - 1);
  return Array.isArray(o.faults) ? parseFaults(o.faults.join(',')) : parseFaults(o.faults);
}

/** The planted bug (SimOptions.plantedBug): the nth envelope from another device never reaches the document. */
function plantDropRemote(op: OpenReplica, u: SimUser, nth: number): void {
  const session = op.s.session;
  const apply = session.applyRemote.bind(session);
  const own = u.vault.device.deviceId;
  let seen = 0;
  session.applyRemote = (envelopes, source) =>
    apply(
      envelopes.filter(e => {
        const d = decodeEnvelope(e);
        return !(d.ok && d.value.header.deviceId !== own && ++seen === nth);
      }),
      source,
    );
}

/** A seed-exact run: every random draw and every clock in it follows the seed (docs/SIM.md → Seeds). */
export async function runSim(o: SimOptions): Promise<SimReport> {
  validateSimOptions(o);
  return withSeededRandom(o.seed, () => runSeeded(o));
}

async function runSeeded(o: SimOptions): Promise<SimReport> {
  const faults = validateSimOptions(o);
  const has = (f: Fault) => faults.includes(f);
  const log = o.log ?? (() => undefined);
  const t0 = performance.now();
  const dir = mkdtempSync(pathJoin(o.memory && existsSync(SHM) ? SHM : tmpdir(), `cloister-sim-${o.seed}-`));
  const tracePath = o.trace ?? pathJoin(dir, 'trace.jsonl');
  const trace: string[] = [];
  // every line gets the wall-clock ms since the start (the report itself holds only simulated time)
  const emit = (line: Record<string, unknown>) => trace.push(JSON.stringify({ ...line, ms: Math.round(performance.now() - t0) }));
  const rng = createRng(o.seed);
  const rates: FaultRates = { ...DEFAULT_RATES, ...o.rates };
  // the plan from its own stream: a replayed or shrunk plan leaves every other draw of the seed alone
  const plan: Step[] = o.plan ? [...o.plan] : drawPlan(rng.fork('plan'), { replicas: o.replicas, ops: o.ops, faults, rates, ...(o.weights ? { weights: o.weights } : {}) });
  emit({ t: 'start', seed: o.seed, replicas: o.replicas, ops: plan.length, faults, memory: !!o.memory, removal: o.removal ?? 'push', rates, ...(o.weights ? { weights: o.weights } : {}) });

  const { startRelay } = await import('../../../relay/server.ts');
  const { SqliteStore } = await import('../../../relay/store/SqliteStore.ts');
  const { pino } = await import('pino');
  mkdirSync(pathJoin(dir, 'relay'));
  mkdirSync(pathJoin(dir, 'profiles'));
  // The relay's clock: real time plus what the expired-lease fault has jumped it forward by.
  let relayOffset = 0;
  let simTime = SIM_EPOCH_MS;
  const simNow = () => simTime;
  const relayNow = () => simTime + relayOffset;
  const relay = await startRelay({ store: new SqliteStore(o.memory ? ':memory:' : pathJoin(dir, 'relay', 'relay.sqlite')), port: 0, now: relayNow, logger: pino({ level: 'silent' }), limits: SIM_RELAY_LIMITS, removalJudgement: o.removal ?? 'push' });

  const replicas: Replica[] = [];
  let mallory: Mallory | undefined;
  const problems: string[] = [];
  const rejected = { relay: {} as Record<string, number>, replicas: {} as Record<string, number> };
  const refused: Record<string, number> = {};
  /** Refusals of pushes the faults made themselves (forgeries, replays): in `rejected.relay`, not in any sync result. */
  const faultRefused: Record<string, number> = {};
  const syncs = { ok: 0, failed: 0, skippedPartitioned: 0, finalRounds: 0 };
  const edits: EditMark[] = [];
  const created: string[] = [];
  const recordIndex = new Map<string, number>();
  let deleted = 0;
  let restored = 0;
  let resolved = 0;
  // what users typed, what they were shown, and every broken view property in the order found
  const typed = new TypedValues();
  const violations: Counterexample[] = [];
  let midRunChecks = 0;
  const conflictsSeen = new Set<string>();
  const noteConflicts = (v: { id: string; conflicts: Record<string, string[]> }) => {
    for (const [path, vs] of Object.entries(v.conflicts)) for (const x of vs) conflictsSeen.add(`${v.id}\u0000${path}\u0000${x}`);
  };
  const removedNames: string[] = [];
  const leases = { jumps: 0, resubmitted: 0 };
  const skews: Record<string, number> = {};
  const replays = { pushed: 0, duplicate: 0, seq_replay: 0, not_a_member: 0, accepted: 0, other: 0, redeliveredNoop: 0, redeliveredChanged: 0 };
  const forgeries = { pushed: 0, byKind: {} as Record<string, number>, asExpected: 0, unexpected: [] as ForgeryResult[], forgedDocsPresent: 0 };
  const timings = { setupMs: 0, opsMs: 0, syncMs: 0, checksMs: 0, finalSyncMs: 0, totalMs: 0 };

  /** The op (or final round) the trace's sync lines belong to, and why the sim synced then. */
  let currentI = 0;
  let syncWhy = 'setup';
  /** What passed on a replica's link since its last pass: pushed envelopes, pulled bytes. */
  const lastPulled = new Map<Replica, number>();
  const wireSince = (r: Replica) => {
    const pushed = r.proxy.pushed.splice(0).map(e => ({ id: envelopeHashOf(e), bytes: e.length }));
    const pulledBytes = r.proxy.stats.bytesToClient - (lastPulled.get(r) ?? 0);
    lastPulled.set(r, r.proxy.stats.bytesToClient);
    return { pushed, pulledBytes };
  };
  /** Every sync pass: counted, and one `op` line in the trace (whatever made the sim sync: an op, setup, a removal, the final rounds). */
  const record = (s: SyncSummary, r: Replica) => {
    const q = queueOf(replicas.indexOf(r));
    for (const [k, v] of Object.entries(s.rejected)) {
      add(rejected.relay, k, v);
      add(q.refused, k, v);
    }
    for (const [k, v] of Object.entries(s.quarantinedRemote)) {
      add(rejected.replicas, k, v);
      add(q.refused, k, v);
    }
    q.outbox = s.outbox;
    q.acked += s.acked;
    q.applied += s.applied;
    emit({
      t: 'op', i: currentI, replica: replicas.indexOf(r), action: 'sync', ...(syncWhy === 'op' ? {} : { why: syncWhy }),
      result: { acked: s.acked, applied: s.applied, rejected: s.rejected, quarantinedRemote: s.quarantinedRemote, access: s.access },
      ...wireSince(r), outbox: s.outbox,
    });
  };
  const sync = async (r: Replica): Promise<SyncSummary | string> => {
    try {
      let s = await r.o.engine.syncOnce();
      record(s, r);
      syncs.ok++;
      if (has('expired-lease') && !r.removed && (await listQuarantine(r.o.s.session)).some(q => q.state === 'resubmittable')) {
        // what `cloister quarantine resubmit` does: re-seal under the fresh lease this pass renewed, push again
        const re = await resubmitQuarantined(r.o.s, 'all');
        if (re.ok) leases.resubmitted += re.value.resubmitted.length;
        s = await r.o.engine.syncOnce();
        record(s, r);
        syncs.ok++;
      }
      return s;
    } catch (e) {
      syncs.failed++;
      const message = (e as Error).message.slice(0, 200);
      emit({ t: 'op', i: currentI, replica: replicas.indexOf(r), action: 'sync', ...(syncWhy === 'op' ? {} : { why: syncWhy }), result: `error: ${message}`, ...wireSince(r) });
      return message;
    }
  };
  /** Sync until one pass succeeds (faults may cut a few). */
  const syncHard = async (r: Replica, tries = 20): Promise<SyncSummary> => {
    let last = '';
    for (let i = 0; i < tries; i++) {
      const s = await sync(r);
      if (typeof s !== 'string') return s;
      last = s;
    }
    throw new Error(`${r.name} could not sync: ${last}`);
  };

  const edit = async (ri: number, action: Exclude<Action, 'sync'>, c: Choice, i: number, line: Record<string, unknown>) => {
    const r = replicas[ri]!;
    const store = r.o.s.records;
    const docSession = r.o.s.session;
    const mark = async (docId: string) => {
      const h = await docSession.open<unknown>(docId);
      if (h) edits.push({ replica: ri, docId, heads: A.getHeads(h.doc() as A.Doc<unknown>) });
      queueOf(ri).outbox++; // one more envelope waiting
    };
    let picked: number | string | undefined;
    try {
      if (action === 'create') {
        const input = { title: c.title, fields: { [c.field]: c.value }, notes: `${c.word} notes` };
        let id: string;
        try {
          id = await store.create(input);
        } catch (e) {
          // typed all the same, into a record whose id the call never named
          typed.add(UNKNOWN_RECORD, 'title', input.title);
          typed.add(UNKNOWN_RECORD, `fields.${c.field}`, c.value);
          throw e;
        }
        typed.add(id, 'title', input.title);
        typed.add(id, `fields.${c.field}`, c.value);
        line.title = input.title;
        line.fields = input.fields;
        created.push(id);
        recordIndex.set(id, created.length - 1);
        line.record = created.length - 1;
        await mark(id);
        await mark(store.indexId);
      } else {
        // delete and edits go to the seed's record; restore and resolve, like a user, to a record the
        // replica shows in its trash or marks as conflicted (the seed picks which): that record depends
        // on what has arrived, so it goes in the trace's `result`, not in `record`
        let id: string;
        if (action === 'restore' || action === 'resolve') {
          const shown = action === 'restore' ? await store.list({ onlyDeleted: true }) : (await store.list({ includeDeleted: true })).filter(x => x.conflicted && !x.deleted);
          if (shown.length === 0) throw Object.assign(new Error('nothing to do'), { code: action === 'restore' ? 'trash_empty' : 'no_conflict' });
          id = shown[Math.floor(c.pos * shown.length)]!.id;
          picked = recordIndex.get(id) ?? id;
        } else {
          // a delete goes anywhere (not mostly to the records being edited, which it would lock)
          const target = action === 'delete' ? c.any : c.target;
          id = created[target]!;
          line.record = target;
        }
        const cur = await store.get(id);
        if (!cur) throw Object.assign(new Error('not here yet'), { code: 'record_not_here' });
        // what this user is shown right now must already hold: no value nobody typed
        midRunChecks++;
        noteConflicts(cur);
        for (const [path, value] of untypedValues(cur, typed))
          violations.push({ check: 'untyped_value', replica: r.name, recordId: id, ...(recordIndex.has(id) ? { record: recordIndex.get(id)! } : {}), path, value, i, detail: `shows a value nobody typed at ${path}` });
        if (action === 'set_field' || action === 'set_title') {
          // what the user was shown where they are about to type (for the Elle export: a read, then a write)
          const path = action === 'set_field' ? `fields.${c.field}` : 'title';
          emitRead(line.i as number, ri, id, path, cur);
          line.path = path;
          line.value = action === 'set_field' ? c.value : c.title;
        }
        if (action === 'set_field') {
          typed.add(id, `fields.${c.field}`, c.value);
          await store.update(id, { fields: { [c.field]: c.value } });
        } else if (action === 'set_title') {
          typed.add(id, 'title', c.title);
          await store.update(id, { title: c.title });
        } else if (action === 'splice_notes') {
          const at = Math.floor(c.pos * (cur.notes.length + 1));
          await store.spliceNotes(id, at, Math.min(c.del, cur.notes.length - at), ` ${c.word}`);
        } else if (action === 'delete') {
          if (cur.deleted) throw Object.assign(new Error('already deleted'), { code: 'record_deleted' });
          await store.remove(id);
          deleted++;
        } else if (action === 'restore') {
          await store.restore(id);
          restored++;
        } else {
          // resolve: settle every conflicted path with one of the values shown there (chosen by the seed)
          const paths = Object.keys(cur.conflicts).sort();
          if (paths.length === 0) throw Object.assign(new Error('listed as conflicted, but get() shows no conflict'), { code: 'no_conflict' });
          const shown = (path: string) => [path === 'title' ? cur.title : cur.fields[path.slice('fields.'.length)]!, ...cur.conflicts[path]!];
          const pickOf = (path: string) => {
            const vs = shown(path);
            return vs[Math.floor(c.pos * vs.length)]!;
          };
          const fields: Record<string, string> = {};
          for (const p of paths) if (p.startsWith('fields.')) fields[p.slice('fields.'.length)] = pickOf(p);
          // chosen from what was shown, so not logged as typed: a value already untyped would stay caught
          await store.resolve(id, { ...(paths.includes('title') ? { title: pickOf('title') } : {}), ...(Object.keys(fields).length ? { fields } : {}) });
          resolved++;
        }
        await mark(id);
      }
      line.result = picked === undefined ? 'ok' : { ok: true, record: picked };
    } catch (e) {
      const code = (e as { code?: string }).code ?? 'error';
      if (!(e as { code?: string }).code) line.message = (e as Error).message.slice(0, 200);
      add(refused, code);
      line.result = code;
    }
  };
  /** A `read` trace line: the value a replica shows at a path, and the conflicting values beside it. */
  const emitRead = (i: number | undefined, ri: number, id: string, path: string, rec: { title: string; fields: Record<string, string>; conflicts: Record<string, string[]> }, final = false) => {
    const shown = path === 'title' ? rec.title : rec.fields[path.slice('fields.'.length)];
    emit({ t: 'read', ...(i === undefined ? {} : { i }), replica: ri, record: recordIndex.get(id) ?? id, path, values: shown === undefined ? [] : [shown, ...(rec.conflicts[path] ?? [])], ...(final ? { final: true } : {}) });
  };
  /** Per replica: envelopes waiting to be pushed (as of its last sync, plus its edits since), and counters for lag. */
  const queues = new Map<number, { outbox: number; acked: number; applied: number; refused: Record<string, number> }>();
  const queueOf = (ri: number) => {
    let q = queues.get(ri);
    if (!q) queues.set(ri, (q = { outbox: 0, acked: 0, applied: 0, refused: {} }));
    return q;
  };
  /** `sample` lines, one per replica: queue depth, lag (envelopes others got accepted that it has not applied), refusals so far. */
  const emitSamples = (i: number) => {
    const ackedAll = replicas.reduce((n, _, k) => n + queueOf(k).acked, 0);
    for (const [k, r] of replicas.entries()) {
      const q = queueOf(k);
      emit({ t: 'sample', i, replica: r.name, outbox: q.outbox, lag: Math.max(0, ackedAll - q.acked - q.applied), refused: q.refused, ...(r.removed ? { removed: true } : {}) });
    }
  };
  /** The local view checks on one replica, mid-run (after a sync op). */
  const checkMidRun = async (r: Replica, i: number) => {
    const v = await snapshotViews(r.name, r.removed, r.o.s.records, created);
    midRunChecks++;
    for (const rec of v.records.values()) noteConflicts(rec);
    for (const x of checkReplica(v, typed, { complete: false, recordIndex })) violations.push({ ...x, i });
  };

  try {
    // ---- setup: admin creates the workspace, everyone else joins through the relay
    // one after another: each user's keys are the next draws from the seeded stream
    const users: SimUser[] = [];
    for (let i = 0; i < o.replicas; i++) users.push(await makeUser(pathJoin(dir, 'profiles'), `r${i}`));
    const admin = users[0]!;
    const ws = createStoredWorkspace(admin, 'sim', relay.url, simNow(), has('expired-lease') ? { maxOfflineMs: SIM_MAX_OFFLINE_MS, leasePolicy: 'reject' } : undefined);
    const codes = users.slice(1).map(() => invite(admin, ws, simNow()));
    const malloryUser = has('malicious') ? await makeUser(pathJoin(dir, 'profiles'), 'mallory') : undefined;
    const malloryCode = malloryUser ? invite(admin, ws, simNow()) : undefined;
    for (const [i, u] of users.entries()) {
      const proxy = o.memory ? inProcessLink(relay.url, relay.inProcessSocket, rng.fork(`proxy-${i}`)) : await startWireProxy(relay.url, rng.fork(`proxy-${i}`));
      if (i > 0) await joinWorkspace(u, codes[i - 1]!, relay.url, simNow);
      let clock: () => number = simNow;
      if (has('clock-skew')) {
        // most clocks a little off, one a year behind, one well ahead but inside the lease (30 days by
        // default; 10 minutes under expired-lease, where a clock further ahead would lock editing)
        const DAY = 24 * 3600_000;
        const small = has('expired-lease') ? SIM_MAX_OFFLINE_MS / 5 : 3 * DAY;
        const ahead = has('expired-lease') ? SIM_MAX_OFFLINE_MS / 3 : 10 * DAY;
        const skewMs = i === 1 ? -365 * DAY : i === 2 ? ahead : rng.int(-small, small);
        skews[u.name] = skewMs;
        clock = () => simTime + skewMs;
        emit({ t: 'fault', fault: 'clock-skew', replica: i, skewMs });
      }
      const op = await openReplica(u, proxy.url, { ...o.sync, now: clock, ...(proxy.socket ? { WebSocketImpl: proxy.socket } : {}) });
      const r: Replica = { name: u.name, user: u, proxy, o: op, removed: false, partitionedUntil: -1 };
      if (o.plantedBug?.dropRemote.replica === i) plantDropRemote(op, u, o.plantedBug.dropRemote.nth);
      replicas.push(r);
      await syncHard(r);
    }
    if (malloryUser && malloryCode) {
      await joinWorkspace(malloryUser, malloryCode, relay.url, simNow);
      const mo = await openReplica(malloryUser, relay.url, { now: simNow, ...(o.memory ? { WebSocketImpl: relay.inProcessSocket } : {}) });
      await mo.engine.syncOnce();
      mallory = new Mallory(malloryUser, mo, ws, relay.url, simNow, o.memory ? relay.inProcessSocket : undefined);
    }
    for (const r of replicas) await syncHard(r);
    timings.setupMs = Math.round(performance.now() - t0);
    log(`setup: ${o.replicas} replicas in ${timings.setupMs} ms`);

    // ---- ops
    const tOps = performance.now();
    for (const r of replicas)
      r.proxy.faults = {
        duplicate: has('duplicate') ? rates.duplicate : 0,
        cut: has('drop') ? rates.cut : 0,
        cutMax: 40,
        reorder: has('reorder') ? rates.reorder : 0,
      };
    if (has('removal') && o.replicas < 3) emit({ t: 'fault', fault: 'removal', skipped: 'needs at least 3 replicas' });
    const forgeRng = rng.fork('mallory');

    syncWhy = 'fault';
    for (const [i, step] of plan.entries()) {
      currentI = i;
      simTime += SIM_MS_PER_OP;
      emit({ t: 'step', i, ...step });
      for (const [k, x] of replicas.entries()) if (x.partitionedUntil === i - 1) emit({ t: 'heal', i, replica: k });
      // the faults scheduled at this step first
      const inRange = (ri: number) => Number.isInteger(ri) && ri >= 0 && ri < replicas.length;
      if (step.partition && inRange(step.partition.replica)) {
        const until = i + step.partition.ops;
        replicas[step.partition.replica]!.partitionedUntil = until;
        emit({ t: 'fault', i, fault: 'partition', replica: step.partition.replica, until });
      }
      if (step.drop && inRange(step.drop.replica)) {
        replicas[step.drop.replica]!.proxy.armCut(step.drop.afterFrames);
        emit({ t: 'fault', i, fault: 'drop', replica: step.drop.replica, afterFrames: step.drop.afterFrames });
      }
      if (step.leaseJump) {
        // the relay's clock passes every outstanding lease's notAfter: offline edits sealed under them are refused
        relayOffset += 2 * SIM_MAX_OFFLINE_MS;
        leases.jumps++;
        emit({ t: 'fault', i, fault: 'expired-lease', relayClockJumpMs: 2 * SIM_MAX_OFFLINE_MS });
      }
      if (step.removal && step.removal.replica >= 1 && inRange(step.removal.replica) && !replicas[step.removal.replica]!.removed) {
        const ri = step.removal.replica;
        const victim = replicas[ri]!;
        removeFromWorkspace(admin, ws, victim.user, simNow());
        await syncHard(replicas[0]!);
        victim.removed = true;
        removedNames.push(victim.name);
        emit({ t: 'fault', i, fault: 'removal', replica: ri });
        // offline, not knowing yet, the removed member keeps editing; its next push must be refused
        for (const d of step.removal.edits) {
          if (created.length === 0) break;
          const line: Record<string, unknown> = { t: 'op', i, replica: ri, action: 'set_field', forced: 'removal' };
          await edit(ri, 'set_field', resolveChoice(d, created.length), i, line);
          emit(line);
        }
      }
      if (mallory && step.removeMallory && !mallory.removed) {
        removeFromWorkspace(admin, ws, mallory.user, simNow());
        await syncHard(replicas[0]!);
        mallory.removed = true;
        emit({ t: 'fault', i, fault: 'malicious', action: 'remove_mallory' });
      }
      if (mallory && step.forge && inRange(step.forge.victim)) {
        const victim = replicas[step.forge.victim]!.user.vault.device;
        const f = await mallory.forge(forgeRng, { deviceId: victim.deviceId, devicePub: victim.signingPub as PublicKey });
        forgeries.pushed++;
        add(forgeries.byKind, f.kind);
        if (f.expect.at === 'relay') {
          if (f.relay === f.expect.reason) {
            forgeries.asExpected++;
            add(rejected.relay, f.relay);
            add(faultRefused, f.relay);
          } else forgeries.unexpected.push(f);
        } else if (f.relay !== 'acked') forgeries.unexpected.push(f);
        emit({ t: 'fault', i, fault: 'malicious', kind: f.kind, expect: f.expect, result: f.relay });
      }
      if (step.replay && inRange(step.replay.link)) {
        const pi = step.replay.link;
        const src = replicas[pi]!;
        const pick = step.replay.pick;
        if (src.proxy.captured.length > 0) {
          const env = src.proxy.captured[Math.floor(pick * src.proxy.captured.length)]!;
          const d = decodeEnvelope(env);
          const owner = replicas.find(r => d.ok && r.user.vault.device.deviceId === d.value.header.deviceId) ?? src;
          let result: string;
          try {
            const dev = owner.user.vault.device;
            const c = await RelayClient.connect({ url: relay.url, signingKey: dev.signingKey, devicePub: dev.signingPub as PublicKey, timeoutMs: 10_000, ...(o.memory ? { WebSocket: relay.inProcessSocket } : {}) });
            try {
              const p = await c.push(env);
              result = p.status === 'acked' ? (p.duplicate ? 'duplicate' : 'accepted') : p.status === 'held' ? 'held' : p.reason;
            } finally {
              c.close();
            }
          } catch (e) {
            result = `error: ${(e as Error).message}`;
          }
          // and the relay (or anyone on the wire) hands it back to its author: a no-op there
          if (d.ok) {
            const docId = d.value.header.docId;
            const headsOf = async () => {
              const h = (await owner.o.s.session.has(docId as never)) ? await owner.o.s.session.open<unknown>(docId) : undefined;
              return headsKey(h?.doc() as A.Doc<unknown> | undefined);
            };
            const before = await headsOf();
            const rep = await owner.o.s.session.applyRemote([env], 'replay');
            const after = await headsOf();
            if (before === after && rep.applied.length === 0 && rep.rejected.length === 0) replays.redeliveredNoop++;
            else {
              replays.redeliveredChanged++;
              problems.push(`a replayed envelope changed ${owner.name}'s copy of ${docId}`);
            }
          }
          replays.pushed++;
          if (result === 'duplicate') replays.duplicate++;
          else if (result === 'seq_replay') {
            replays.seq_replay++;
            add(rejected.relay, 'seq_replay');
            add(faultRefused, 'seq_replay');
          } else if (result === 'accepted') {
            replays.accepted++;
            problems.push(`replayed envelope accepted as new (from ${owner.name})`);
          } else if (result === 'not_a_member') {
            replays.not_a_member++;
            add(rejected.relay, 'not_a_member');
            add(faultRefused, 'not_a_member');
          } else replays.other++;
          emit({ t: 'fault', i, fault: 'replay', proxy: pi, pick: Math.round(pick * 1e6), result });
        } else emit({ t: 'fault', i, fault: 'replay', proxy: pi, result: 'nothing_captured' });
      }

      // the op
      const ri = inRange(step.replica) ? step.replica : 0;
      const r = replicas[ri]!;
      const action: Action = created.length === 0 ? 'create' : step.action;
      const choice = resolveChoice(step.draw, created.length);
      const line: Record<string, unknown> = { t: 'op', i, replica: ri, action };
      if (action === 'sync') {
        if (r.partitionedUntil >= i) {
          syncs.skippedPartitioned++;
          line.result = 'partitioned';
          emit(line);
        } else {
          // the pass writes its own op line (record)
          syncWhy = 'op';
          const ts = performance.now();
          await sync(r);
          timings.syncMs += performance.now() - ts;
          syncWhy = 'fault';
          const tc = performance.now();
          await checkMidRun(r, i);
          timings.checksMs += performance.now() - tc;
        }
        emitSamples(i);
        continue;
      }
      await edit(ri, action, choice, i, line);
      emit(line);
    }
    timings.opsMs = Math.round(performance.now() - tOps);
    timings.syncMs = Math.round(timings.syncMs);
    timings.checksMs = Math.round(timings.checksMs);
    log(`ops: ${o.ops} in ${timings.opsMs} ms`);

    if (o.beforeFinalSync)
      await o.beforeFinalSync({
        replicas: replicas.map(r => ({ name: r.name, removed: r.removed, records: r.o.s.records, session: r.o.s.session })),
        created,
        typed: (recordId, path, value) => typed.add(recordId, path, value),
        sync: async index => {
          await syncHard(replicas[index]!);
        },
      });

    // ---- end: faults off, sync everyone still a member until quiet
    const tFinal = performance.now();
    mallory?.close();
    for (const r of replicas) {
      r.proxy.faults = { ...NO_FAULTS };
      r.proxy.armCut(Infinity);
      r.partitionedUntil = -1;
    }
    const active = replicas.filter(r => !r.removed);
    emit({ t: 'heal', i: plan.length, final: true });
    for (;;) {
      simTime += SIM_MS_PER_OP;
      syncs.finalRounds++;
      const order = rng.shuffle(active);
      const summaries: SyncSummary[] = [];
      const at = plan.length + syncs.finalRounds - 1;
      currentI = at;
      syncWhy = 'final';
      for (const r of order) summaries.push(await syncHard(r));
      emitSamples(at);
      emit({ t: 'final_round', round: syncs.finalRounds, order: order.map(r => r.name) });
      if (syncs.finalRounds > 1 && summaries.every(quiet)) break;
      if (syncs.finalRounds >= 12) {
        problems.push(`not quiet after ${syncs.finalRounds} final rounds`);
        break;
      }
    }
    // the removed replicas try once more: their pushes must be refused
    for (const r of replicas.filter(x => x.removed)) await sync(r);
    timings.finalSyncMs = Math.round(performance.now() - tFinal);

    // ---- compare
    const heads = await headsDigests(replicas, created);
    const activeDigests = new Set(heads.filter(h => !h.removed).map(h => h.digest));
    if (activeDigests.size > 1) problems.push(`replicas differ: ${activeDigests.size} distinct heads digests`);
    const editsReport = { ...(await editsPresence(edits, replicas)), refused };
    if (editsReport.missing > 0) problems.push(`${editsReport.missing} resolved edits missing on some replica`);

    // what users see: each replica on its own, then the remaining ones against each other
    const views: ReplicaViews[] = [];
    for (const r of replicas) views.push(await snapshotViews(r.name, r.removed, r.o.s.records, created));
    for (const v of views) violations.push(...checkReplica(v, typed, { complete: !v.removed, recordIndex }));
    for (const [k, v] of views.entries())
      if (!v.removed)
        for (const [id, rec] of v.records) for (const path of ['title', ...Object.keys(rec.fields).sort().map(f => `fields.${f}`)]) emitRead(undefined, k, id, path, rec, true);
    const activeViews = views.filter(v => !v.removed);
    violations.push(...checkAcross(activeViews, { recordIndex }));
    for (const v of views) for (const rec of v.records.values()) noteConflicts(rec);
    const hashes = views.map(v => contentHash(v.records));
    const activeHashes = new Set(hashes.filter((_, k) => !views[k]!.removed));
    const byCheck: Record<string, number> = {};
    for (const x of violations) add(byCheck, x.check);
    for (const [check, n] of Object.entries(byCheck)) {
      const x = violations.find(v => v.check === check)!;
      problems.push(`${check}: ${n} (first: ${x.replica}, record ${x.record ?? x.recordId}${x.path ? `, ${x.path}` : ''}${x.value !== undefined ? ` = ${JSON.stringify(x.value)}` : ''}${x.i !== undefined ? `, after op ${x.i}` : ''}: ${x.detail})`);
    }
    if (activeHashes.size > 1 && !byCheck.records_differ && !byCheck.conflicts_differ) problems.push(`materialized records differ: ${activeHashes.size} distinct content hashes`);
    const ref = activeViews[0];
    const valuesChecked = views.reduce((n, v) => n + [...v.records.values()].reduce((m, rec) => m + 1 + Object.keys(rec.fields).length + Object.values(rec.conflicts).flat().length, 0), 0);
    const materialized: MaterializedReport = {
      records: ref?.records.size ?? 0,
      live: ref ? [...ref.records.values()].filter(x => !x.deleted).length : 0,
      deleted: ref ? [...ref.records.values()].filter(x => x.deleted).length : 0,
      conflicts: ref ? countConflicts(ref.records) : { paths: 0, values: 0, records: 0 },
      conflictsSeen: conflictsSeen.size,
      resolved,
      typedValues: typed.size,
      valuesChecked,
      midRunChecks,
      violations: byCheck,
      perReplica: views.map((v, k) => ({ replica: v.replica, removed: v.removed, records: v.records.size, listed: v.listed.length, trash: v.trash.length, contentHash: hashes[k]! })),
    };

    if (mallory) {
      const forged = new Set(mallory.forgedDocs);
      for (const r of active) for (const id of forged) if (await r.o.s.session.has(id as never)) forgeries.forgedDocsPresent++;
      if (forgeries.forgedDocsPresent > 0) problems.push(`${forgeries.forgedDocsPresent} forged documents present on replicas`);
      if (forgeries.unexpected.length > 0) problems.push(`${forgeries.unexpected.length} forgeries not refused as expected`);
    }
    if (has('clock-skew')) {
      // a wrong local clock never extends a lease: every lease held was issued on the relay's clock
      const maxOffline = replicas[0]!.o.s.live.state.policy.maxOfflineMs;
      for (const r of replicas) {
        const l = r.o.s.lease.lease;
        if (l && (l.notAfter - l.issuedAt > maxOffline || l.issuedAt > relayNow() + 1000))
          problems.push(`${r.name} holds a lease beyond the relay's clock (issued ${l.issuedAt}, notAfter ${l.notAfter})`);
      }
    }
    for (const r of active) {
      const q = await r.o.s.session.quarantine.list();
      const own = q.filter(x => {
        const d = decodeEnvelope(x.bytes);
        return d.ok && d.value.header.deviceId === r.user.vault.device.deviceId;
      });
      if (own.length > 0) problems.push(`${r.name} has ${own.length} own envelopes in quarantine (${[...new Set(own.map(x => x.reason))].join(', ')})`);
    }

    const wire = { connections: 0, forwarded: 0, duplicated: 0, cut: 0, reordered: 0 };
    for (const r of replicas) for (const k of Object.keys(wire) as (keyof typeof wire)[]) wire[k] += r.proxy.stats[k];
    const wireStats = { bytesToRelay: 0, bytesToClient: 0 };
    for (const r of replicas) {
      wireStats.bytesToRelay += r.proxy.stats.bytesToRelay;
      wireStats.bytesToClient += r.proxy.stats.bytesToClient;
    }
    // what the trace says beyond the counters, in ops (simulated time), so the report stays seed-exact
    const t = summarizeTrace(trace.map(l => JSON.parse(l) as Record<string, unknown>));
    const syncedPlusFaults = { ...t.refusalsByReason.relay };
    for (const [k, v] of Object.entries(faultRefused)) add(syncedPlusFaults, k, v);
    const same = (x: Record<string, number>, y: Record<string, number>) => [...new Set([...Object.keys(x), ...Object.keys(y)])].every(k => (x[k] ?? 0) === (y[k] ?? 0));
    const addsUp = t.refusalsByReason.addsUp && same(syncedPlusFaults, rejected.relay) && same(t.refusalsByReason.replicas, rejected.replicas);
    const series = (m: Record<string, { final: number; max: number; maxAtI: number | null; removed: boolean }>) =>
      Object.fromEntries(Object.entries(m).map(([k, v]) => [k, { final: v.final, max: v.max, maxAtI: v.maxAtI, removed: v.removed }]));
    const timeline: SimTimeline = {
      bytes: { pushed: t.bytesByKind.pushed, pushedEnvelopes: t.bytesByKind.pushedEnvelopes, rePushed: t.bytesByKind.rePushed, pulled: t.bytesByKind.pulled, toRelay: wireStats.bytesToRelay, toClient: wireStats.bytesToClient },
      convergenceAfterHeal: t.convergenceAfterHeal.map(h => ({ healAt: h.i, reached: h.reached, convergedAt: h.atI, ops: h.ops })),
      lag: series(t.lagByReplica),
      outbox: series(t.outboxByReplica),
      refusals: { relay: t.refusalsByReason.relay, replicas: t.refusalsByReason.replicas, byFaults: faultRefused, addsUp },
    };
    if (!addsUp) problems.push(`refusal counters do not add up: syncs ${JSON.stringify(t.refusalsByReason.total)} + faults ${JSON.stringify(faultRefused)} vs reported ${JSON.stringify(rejected)}; samples ${JSON.stringify(t.refusalsByReason.mismatches)}`);
    timings.totalMs = Math.round(performance.now() - t0);
    const report: SimReport = {
      converged: problems.length === 0,
      seed: o.seed,
      replicas: o.replicas,
      ops: o.ops,
      faults,
      semantics: { removal: o.removal ?? 'push' },
      rejected,
      edits: editsReport,
      heads,
      records: { created: created.length, deleted, restored },
      contentHash: activeHashes.size === 1 ? [...activeHashes][0]! : null,
      materialized,
      ...(violations.length ? { counterexample: violations[0] } : {}),
      syncs,
      wire,
      timeline,
      ...(has('replay') ? { replays } : {}),
      ...(has('clock-skew') ? { clockSkewMs: skews } : {}),
      ...(has('expired-lease') ? { leases: { ...leases, lease_expired: rejected.relay.lease_expired ?? 0 } } : {}),
      ...(mallory ? { forgeries } : {}),
      removed: removedNames,
      problems,
      timings,
      trace: tracePath,
      dir,
    };
    emit({ t: 'end', converged: report.converged, problems, ...(report.counterexample ? { counterexample: report.counterexample } : {}) });
    return report;
  } finally {
    writeFileSync(tracePath, trace.join('\n') + '\n');
    for (const r of replicas) {
      await r.o.close().catch(() => undefined);
      await r.proxy.close().catch(() => undefined);
    }
    if (mallory) await mallory.open.close().catch(() => undefined);
    await relay.close().catch(() => undefined);
    if (!o.keep) {
      rmSync(pathJoin(dir, 'profiles'), { recursive: true, force: true });
      rmSync(pathJoin(dir, 'relay'), { recursive: true, force: true });
    }
  }
}
