// Runs one scenario (docs/SCENARIOS.md): real vaults, a workspace joined through invitations, record
// sessions, the sync engine and an in-process relay on loopback with a fault proxy per replica, as
// `cloister sim` does (src/cli/sim/runSim.ts), but every op, sync, partition, fault and assertion is
// scripted. Each assertion is judged where it stands in the steps and the report lists them all.
import * as A from '@automerge/automerge';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as pathJoin } from 'node:path';
import type { PublicKey } from '../../../crypto/keys.ts';
import { decodeEnvelope } from '../../../protocol/envelope.ts';
import { RelayClient } from '../../../docs/sync/relayClient.ts';
import { resubmitQuarantined } from '../../../docs/sync/resubmit.ts';
import type { SyncSummary } from '../../../docs/sync/SyncEngine.ts';
import type { RelayDefence } from '../../../../relay/defences.ts';
import { editsPresence, headsDigests, headsKey, type EditMark } from '../compare.ts';
import { checkAcross, checkReplica, contentHash, snapshotViews, type Counterexample } from '../compareViews.ts';
import { createStoredWorkspace, invite, joinWorkspace, makeUser, openReplica, removeFromWorkspace, type OpenReplica, type SimUser } from '../profiles.ts';
import { createRng } from '../rng.ts';
import { SIM_EPOCH_MS, SIM_MS_PER_OP, SIM_RELAY_LIMITS, withSeededRandom } from '../seededRandom.ts';
import { TypedValues } from '../typedValues.ts';
import { NO_FAULTS, startWireProxy, type WireProxy } from '../wireProxy.ts';
import { forgeEnvelope } from './forge.ts';
import { addIntent } from './intents.ts';
import { parseDefences, parseScenario, ScenarioError, type AssertStep, type Defence, type FaultStep, type OpStep, type Scenario, type Step } from './schema.ts';
import { add, quiet } from '../counters.ts';

export interface ScenarioOptions {
  /** Progress lines (stderr in the CLI). */
  log?: (m: string) => void;
  /** Defences switched off for this run only (docs/SCENARIOS.md → Defences). */
  defencesOff?: readonly string[];
  /** Keep the run's profiles and relay database (default: removed). */
  keep?: boolean;
}

export interface AssertionResult {
  /** Index of the step in `steps` (from 0). */
  step: number;
  /** What was asserted, in words. */
  what: string;
  ok: boolean;
  /** What was found (the first failing case when not ok). */
  detail: string;
}

export interface ScenarioReport {
  name: string;
  description: string;
  passed: boolean;
  defencesOff: Defence[];
  keyDefences: Defence[];
  assertions: AssertionResult[];
  /** The first assertion that failed, if any. */
  failed?: AssertionResult;
  /** Refused, by reason: envelopes by the relay (pushes, replays, forgeries) and by replicas (pulled, quarantined); membership changes by the log (a replica's own intents that could not be appended). */
  rejected: { relay: Record<string, number>; replicas: Record<string, number>; log: Record<string, number> };
  /** One line per step: what it did. */
  steps: { step: number; kind: string; result: unknown; ms: number }[];
  /** Record aliases to the ids the run created. */
  records: Record<string, string>;
  /** Digest of the materialized records shared by every remaining member at the end; null when they differ. */
  contentHash: string | null;
  heads: { replica: string; removed: boolean; docs: number; digest: string }[];
  removed: string[];
  timings: { setupMs: number; stepsMs: number; totalMs: number };
  dir: string;
}

interface Replica {
  name: string;
  user: SimUser;
  proxy: WireProxy;
  o: OpenReplica;
  removed: boolean;
  skewMs: number;
}

const codeOf = (e: unknown) => (e as { code?: string }).code ?? 'error';
const fail = (code: string, message: string) => Object.assign(new Error(message), { code });

export async function runScenarioFile(file: string, opts: ScenarioOptions = {}): Promise<ScenarioReport> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ScenarioError('unreadable', undefined, `cannot read ${file}: ${codeOf(e)}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ScenarioError('not_json', undefined, (e as Error).message.slice(0, 120));
  }
  return runScenario(raw, opts);
}

/** Validate (untrusted input: a ScenarioError, one line, names the step and a reason code) and run. */
export async function runScenario(input: unknown, opts: ScenarioOptions = {}): Promise<ScenarioReport> {
  const sc: Scenario = parseScenario(input);
  // seed-exact, as `cloister sim` is: keys, actor ids and ids from the scenario's seed, and a simulated clock
  return withSeededRandom(sc.seed, () => runParsed(sc, opts));
}

async function runParsed(sc: Scenario, opts: ScenarioOptions): Promise<ScenarioReport> {
  const off = parseDefences(opts.defencesOff);
  const log = opts.log ?? (() => undefined);
  const t0 = performance.now();
  const dir = mkdtempSync(pathJoin(tmpdir(), 'cloister-scenario-'));
  mkdirSync(pathJoin(dir, 'relay'));
  mkdirSync(pathJoin(dir, 'profiles'));

  // Clocks: the world's (everyone, `advance`), the relay's extra jump (`expired-lease`), each replica's skew.
  // the simulated clock moves one second per step; `advance` adds to it
  let stepMs = SIM_EPOCH_MS;
  let worldMs = 0;
  let relayExtraMs = 0;
  const relayNow = () => stepMs + worldMs + relayExtraMs;

  const { startRelay } = await import('../../../../relay/server.ts');
  const { SqliteStore } = await import('../../../../relay/store/SqliteStore.ts');
  const { pino } = await import('pino');
  const relayOff = new Set(off.filter((d): d is RelayDefence => d.startsWith('relay.')));
  const relay = await startRelay({ store: new SqliteStore(pathJoin(dir, 'relay', 'relay.sqlite')), port: 0, now: relayNow, logger: pino({ level: 'silent' }), defencesOff: relayOff, limits: SIM_RELAY_LIMITS });

  const replicas: Replica[] = [];
  const byName = new Map<string, Replica>();
  const rec = new Map<string, string>();
  const created: string[] = [];
  const typed = new TypedValues();
  const edits: EditMark[] = [];
  const forged: string[] = [];
  const partitioned = new Set<string>();
  const rejected = { relay: {} as Record<string, number>, replicas: {} as Record<string, number>, log: {} as Record<string, number> };
  const assertions: AssertionResult[] = [];
  const stepLog: ScenarioReport['steps'] = [];
  const timings = { setupMs: 0, stepsMs: 0, totalMs: 0 };
  let workspaceId = '';
  const R = (n: string) => byName.get(n)!;
  const id = (alias: string) => {
    const v = rec.get(alias);
    if (!v) throw fail('record_not_created', `record ${alias} was never created (its create step failed)`);
    return v;
  };
  const remaining = () => replicas.filter(r => !r.removed);
  const judge = (step: number, what: string, ok: boolean, detail: string) => {
    assertions.push({ step, what, ok, detail });
    if (!ok) log(`step ${step}: FAILED ${what}: ${detail}`);
  };

  const record = (s: SyncSummary) => {
    for (const [k, v] of Object.entries(s.rejected)) add(rejected.relay, k, v);
    for (const [k, v] of Object.entries(s.quarantinedRemote)) add(rejected.replicas, k, v);
    for (const [k, v] of Object.entries(s.logRejected)) add(rejected.log, k, v);
  };
  /** A replica counts as removed once a member's log, brought up to the relay's head, says so. */
  const noteRemovals = (r: Replica) => {
    if (r.removed) return;
    for (const m of r.o.s.live.state.members.values())
      if (m.removed) for (const x of replicas) if (x.user.vault.userId === m.userId) x.removed = true;
  };
  const syncOnce = async (r: Replica): Promise<SyncSummary | string> => {
    try {
      const s = await r.o.engine.syncOnce();
      record(s);
      noteRemovals(r);
      return s;
    } catch (e) {
      return `error: ${(e as Error).message.slice(0, 200)}`;
    }
  };
  /** A pass that completes (a drop fault may cut a few); a removed member gets one try. */
  const syncPass = async (r: Replica): Promise<SyncSummary | string> => {
    let last: SyncSummary | string = '';
    for (let k = 0; k < (r.removed ? 1 : 10); k++) {
      last = await syncOnce(r);
      if (typeof last !== 'string') return last;
    }
    return last;
  };
  const brief = (s: SyncSummary | string) =>
    typeof s === 'string' ? s : { acked: s.acked, applied: s.applied, rejected: s.rejected, quarantinedRemote: s.quarantinedRemote, logSent: s.logSent, logRejected: s.logRejected };

  try {
    // ---- setup: the first replica creates the workspace, the others join through invitations
    const users = await Promise.all(sc.replicas.map(n => makeUser(pathJoin(dir, 'profiles'), n)));
    const admin = users[0]!;
    workspaceId = createStoredWorkspace(admin, sc.name.slice(0, 40) || 'scenario', relay.url, relayNow(), sc.policy);
    const codes = users.slice(1).map(() => invite(admin, workspaceId, relayNow()));
    for (const [i, u] of users.entries()) {
      const proxy = await startWireProxy(relay.url, createRng(i + 1).fork(`proxy-${u.name}`));
      if (i > 0) await joinWorkspace(u, codes[i - 1]!, relay.url, relayNow);
      const r: Replica = { name: u.name, user: u, proxy, o: undefined as unknown as OpenReplica, removed: false, skewMs: 0 };
      r.o = await openReplica(u, proxy.url, { now: () => stepMs + worldMs + r.skewMs });
      if (off.includes('client.leaseClock')) r.o.s.lease.rollbackResistant = false;
      replicas.push(r);
      byName.set(u.name, r);
      const s = await syncPass(r);
      if (typeof s === 'string') throw new Error(`${u.name} could not sync at setup: ${s}`);
    }
    for (let round = 0; round < 2; round++) for (const r of replicas) await syncPass(r);
    timings.setupMs = Math.round(performance.now() - t0);
    log(`${sc.name}: setup of ${sc.replicas.length} replicas in ${timings.setupMs} ms${off.length ? `, defences off: ${off.join(', ')}` : ''}`);

    // ---- steps, in order
    const tSteps = performance.now();
    for (const [i, st] of sc.steps.entries()) {
      stepMs += SIM_MS_PER_OP;
      const ts = performance.now();
      const { kind, result } = await runStep(i, st);
      stepLog.push({ step: i, kind, result, ms: Math.round(performance.now() - ts) });
    }
    timings.stepsMs = Math.round(performance.now() - tSteps);

    // ---- end: digests of what the remaining members hold (no sync: the scenario decides when to sync)
    const heads = await headsDigests(replicas, created);
    const hashes = new Set<string>();
    for (const r of remaining()) hashes.add(contentHash((await snapshotViews(r.name, false, r.o.s.records, created)).records));
    timings.totalMs = Math.round(performance.now() - t0);
    const failed = assertions.find(a => !a.ok);
    return {
      name: sc.name,
      description: sc.description,
      passed: !failed,
      defencesOff: off,
      keyDefences: sc.keyDefences,
      assertions,
      ...(failed ? { failed } : {}),
      rejected,
      steps: stepLog,
      records: Object.fromEntries(rec),
      contentHash: hashes.size === 1 ? [...hashes][0]! : null,
      heads,
      removed: replicas.filter(r => r.removed).map(r => r.name),
      timings,
      dir,
    };
  } finally {
    for (const r of replicas) {
      await r.o.close().catch(() => undefined);
      await r.proxy.close().catch(() => undefined);
    }
    await relay.close().catch(() => undefined);
    if (!opts.keep) rmSync(dir, { recursive: true, force: true });
  }

  // ---- one step
  async function runStep(i: number, st: Step): Promise<{ kind: string; result: unknown }> {
    if ('op' in st) return { kind: `op ${st.op}`, result: await runOp(i, st) };
    if ('fault' in st) return { kind: `fault ${st.fault}`, result: await runFault(i, st) };
    if ('assert' in st) return { kind: `assert ${Object.keys(st.assert)[0]}`, result: await runAssert(i, st) };
    if ('partition' in st) {
      // one relay: the replicas in the relay's group reach it, everyone else is offline until heal
      const withRelay = st.partition.find(g => g.includes('relay')) ?? [];
      partitioned.clear();
      for (const r of replicas) if (!withRelay.includes(r.name)) partitioned.add(r.name);
      return { kind: 'partition', result: { offline: [...partitioned] } };
    }
    if ('heal' in st) {
      partitioned.clear();
      for (const r of replicas) {
        r.proxy.faults = { ...NO_FAULTS };
        r.proxy.armCut(Infinity);
      }
      return { kind: 'heal', result: 'ok' };
    }
    if ('sync' in st) {
      if (st.sync === 'all') {
        // every remaining member that reaches the relay, round after round, until a round changes nothing
        const who = remaining().filter(r => !partitioned.has(r.name));
        for (let round = 1; round <= 12; round++) {
          const ss: (SyncSummary | string)[] = [];
          for (const r of who) ss.push(await syncPass(r));
          if (round > 1 && ss.every(s => typeof s !== 'string' && quiet(s))) return { kind: 'sync all', result: { rounds: round } };
        }
        judge(i, 'sync all becomes quiet', false, 'not quiet after 12 rounds');
        return { kind: 'sync all', result: { rounds: 12 } };
      }
      const out: Record<string, unknown> = {};
      for (const n of st.sync) out[n] = partitioned.has(n) ? 'partitioned' : brief(await syncPass(R(n)));
      return { kind: 'sync', result: out };
    }
    if ('remove' in st) {
      // like `workspace remove`: an intent in the remover's stored log, appended and pushed at its next
      // sync; the removed replica counts as removed once that is on the relay's log (noteRemovals)
      removeFromWorkspace(R(st.by).user, workspaceId, R(st.remove).user, relayNow());
      return { kind: 'remove', result: { intent: `remove ${st.remove}` } };
    }
    if ('role' in st) {
      addIntent(R(st.by).user, workspaceId, { kind: 'set_role', member: R(st.role).user.vault.userId, role: st.to }, relayNow());
      return { kind: 'role', result: { [st.role]: st.to } };
    }
    if ('resubmit' in st) {
      // what `cloister quarantine resubmit` does: re-seal under the lease the last pass renewed, push again
      const r = R(st.resubmit);
      const re = await resubmitQuarantined(r.o.s, 'all');
      const s = partitioned.has(r.name) ? 'partitioned' : brief(await syncPass(r));
      return { kind: 'resubmit', result: re.ok ? { resubmitted: re.value.resubmitted.length, sync: s } : { refused: re.reason } };
    }
    // advance: time passes for everyone
    worldMs += st.advance;
    return { kind: 'advance', result: { worldMs } };
  }

  async function runOp(i: number, st: OpStep): Promise<string> {
    const r = R(st.by);
    const store = r.o.s.records;
    const mark = async (docId: string) => {
      const h = await r.o.s.session.open<unknown>(docId);
      if (h) edits.push({ replica: replicas.indexOf(r), docId, heads: A.getHeads(h.doc() as A.Doc<unknown>) });
    };
    let code = 'ok';
    try {
      if (st.op === 'create') {
        const newId = await store.create({ title: st.title, fields: st.fields ?? {}, ...(st.notes !== undefined ? { notes: st.notes } : {}) });
        rec.set(st.record, newId);
        created.push(newId);
        typed.add(newId, 'title', st.title);
        for (const [k, v] of Object.entries(st.fields ?? {})) typed.add(newId, `fields.${k}`, v);
        await mark(newId);
        await mark(store.indexId);
      } else {
        const rid = id(st.record);
        const cur = await store.get(rid);
        if (!cur) throw fail('record_not_here', `${r.name} does not hold ${st.record}`);
        if (st.op === 'set_field') {
          typed.add(rid, `fields.${st.field}`, st.value);
          await store.update(rid, { fields: { [st.field]: st.value } });
        } else if (st.op === 'set_title') {
          typed.add(rid, 'title', st.title);
          await store.update(rid, { title: st.title });
        } else if (st.op === 'splice_notes') {
          if (st.at + st.delete > cur.notes.length) throw fail('out_of_range', `notes are ${cur.notes.length} characters`);
          await store.spliceNotes(rid, st.at, st.delete, st.insert);
        } else if (st.op === 'delete') {
          if (cur.deleted) throw fail('record_deleted', 'already deleted');
          await store.remove(rid);
        } else if (st.op === 'restore') {
          if (!cur.deleted) throw fail('not_deleted', 'not in the trash');
          await store.restore(rid);
        } else {
          // resolve: settle one conflicted path with a value shown there
          const shown = st.path === 'title' ? cur.title : st.path.startsWith('fields.') ? cur.fields[st.path.slice(7)] : undefined;
          const conflicts = cur.conflicts[st.path] ?? [];
          if (conflicts.length === 0) throw fail('no_conflict', `no conflict at ${st.path}`);
          if (shown !== st.value && !conflicts.includes(st.value)) throw fail('not_shown', `${JSON.stringify(st.value)} is not shown at ${st.path}`);
          await store.resolve(rid, st.path === 'title' ? { title: st.value } : { fields: { [st.path.slice(7)]: st.value } });
        }
        await mark(rid);
      }
    } catch (e) {
      code = codeOf(e);
    }
    const want = st.expect ?? 'ok';
    if (st.expect !== undefined || code !== want) judge(i, `${st.op} by ${st.by} on ${st.record}: ${want}`, code === want, code);
    return code;
  }

  async function pushAs(as: Replica, bytes: Uint8Array): Promise<string> {
    const dev = as.user.vault.device;
    try {
      const c = await RelayClient.connect({ url: relay.url, signingKey: dev.signingKey, devicePub: dev.signingPub as PublicKey, workspaces: [workspaceId], timeoutMs: 10_000 });
      try {
        const p = await c.push(bytes);
        return p.status === 'acked' ? (p.duplicate ? 'duplicate' : 'accepted') : p.status === 'held' ? 'held' : p.reason;
      } finally {
        c.close();
      }
    } catch (e) {
      return `error: ${(e as Error).message.slice(0, 120)}`;
    }
  }

  async function runFault(i: number, st: FaultStep): Promise<unknown> {
    switch (st.fault) {
      case 'duplicate':
      case 'reorder': {
        const p = R(st.on).proxy;
        p.faults = { ...p.faults, [st.fault]: st.rate };
        return { on: st.on, rate: st.rate };
      }
      case 'drop':
        R(st.on).proxy.armCut(st.afterFrames);
        return { on: st.on, afterFrames: st.afterFrames };
      case 'expired-lease': {
        // the relay's clock alone jumps, past every outstanding lease (twice the policy's offline time)
        const jump = st.advanceMs ?? 2 * (sc.policy?.maxOfflineMs ?? 30 * 86_400_000);
        relayExtraMs += jump;
        return { relayClockJumpMs: jump };
      }
      case 'clock-skew':
        R(st.on).skewMs = st.offsetMs;
        return { on: st.on, offsetMs: st.offsetMs };
      case 'replay': {
        const src = R(st.of);
        const env = src.proxy.captured.at(-1);
        if (!env) {
          judge(i, `replay of ${st.of}'s newest envelope`, false, 'nothing captured yet: sync first');
          return 'nothing_captured';
        }
        const answer = await pushAs(R(st.via ?? st.of), env);
        if (answer !== 'duplicate' && answer !== 'accepted' && !answer.startsWith('error')) add(rejected.relay, answer);
        if (st.expect !== undefined) judge(i, `replay via ${st.via ?? st.of}: relay answers ${st.expect}`, answer === st.expect, answer);
        judge(i, 'a replayed envelope is never accepted as new', answer !== 'accepted', answer);
        const d = decodeEnvelope(env);
        const redelivered: Record<string, string> = {};
        for (const n of st.deliverTo) {
          const to = R(n);
          if (!d.ok) break;
          const docId = d.value.header.docId;
          const headsOf = async () => {
            const h = (await to.o.s.session.has(docId as never)) ? await to.o.s.session.open<unknown>(docId) : undefined;
            return headsKey(h?.doc() as A.Doc<unknown> | undefined);
          };
          const before = await headsOf();
          const rep = await to.o.s.session.applyRemote([env], 'replay');
          const after = await headsOf();
          const noop = before === after && rep.applied.length === 0;
          redelivered[n] = noop ? 'noop' : 'changed';
          judge(i, `the replay handed to ${n} changes nothing`, noop, noop ? 'heads unchanged' : `heads ${before} -> ${after}, applied ${rep.applied.length}`);
        }
        return { answer, redelivered };
      }
      case 'forge': {
        const by = R(st.by);
        const victim = R(st.as ?? sc.replicas[0]!);
        const f = forgeEnvelope(st.kind, by.user, by.o, workspaceId, victim.user, stepMs + worldMs);
        forged.push(f.docId);
        const answer = await pushAs(by, f.bytes);
        if (answer !== 'duplicate' && answer !== 'accepted' && !answer.startsWith('error')) add(rejected.relay, answer);
        if (st.expect !== undefined) judge(i, `forged ${st.kind} by ${st.by}: relay answers ${st.expect}`, answer === st.expect, answer);
        return { kind: st.kind, answer };
      }
    }
  }

  async function runAssert(i: number, st: AssertStep): Promise<boolean> {
    const n0 = assertions.length;
    try {
      await judgeAssert(i, st);
    } catch (e) {
      // e.g. a record whose create step failed: the assertion fails, the run goes on
      judge(i, `assert ${Object.keys(st.assert)[0]}`, false, `could not be judged: ${(e as Error).message.slice(0, 200)}`);
    }
    return assertions.slice(n0).every(x => x.ok);
  }

  async function judgeAssert(i: number, st: AssertStep): Promise<void> {
    const a = st.assert;
    const on = (names?: string[]) => (names ? names.map(R) : remaining());
    if ('converged' in a) {
      const members = remaining();
      const heads = (await headsDigests(replicas, created)).filter(h => !h.removed);
      const digests = new Set(heads.map(h => h.digest));
      const hashes = new Map<string, string>();
      for (const r of members) hashes.set(r.name, contentHash((await snapshotViews(r.name, false, r.o.s.records, created)).records));
      const pres = await editsPresence(edits, replicas);
      const problems: string[] = [];
      if (digests.size > 1) problems.push(`${digests.size} distinct heads digests (${heads.map(h => `${h.replica} ${h.digest.slice(0, 8)}`).join(', ')})`);
      if (new Set(hashes.values()).size > 1) problems.push(`${new Set(hashes.values()).size} distinct content hashes`);
      if (pres.missing > 0) problems.push(`${pres.missing} of ${pres.made} resolved edits missing on some member`);
      judge(i, `converged: ${members.map(r => r.name).join(', ')} hold the same heads and records, every edit present`, problems.length === 0, problems.join('; ') || `${pres.made} edits present, content ${[...hashes.values()][0]}`);
    } else if ('views' in a || 'noUntypedValues' in a) {
      const views = [];
      for (const r of remaining()) views.push(await snapshotViews(r.name, false, r.o.s.records, created));
      let found: Counterexample[] = [];
      for (const v of views) found.push(...checkReplica(v, typed, { complete: true }));
      if ('views' in a) found.push(...checkAcross(views));
      else found = found.filter(x => x.check === 'untyped_value');
      const x = found[0];
      const alias = (rid: string) => [...rec].find(([, v]) => v === rid)?.[0] ?? rid;
      judge(
        i,
        'views' in a ? 'every view check holds on every remaining member (docs/SIM.md → Compare)' : 'no value nobody typed is shown',
        !x,
        x ? `${x.check} on ${x.replica}, record ${alias(x.recordId)}${x.path ? ` ${x.path}` : ''}${x.value !== undefined ? ` = ${JSON.stringify(x.value)}` : ''}: ${x.detail}` : 'none broken',
      );
    } else if ('shown' in a) {
      const s = a.shown;
      const bad: string[] = [];
      for (const r of on(s.on)) {
        const v = await r.o.s.records.get(id(s.record));
        if (!v) {
          bad.push(`${r.name}: record not here`);
          continue;
        }
        const val = s.path === 'title' ? v.title : s.path === 'notes' ? v.notes : v.fields[s.path.slice(7)];
        const shown = val ?? '(none)';
        if (s.equals !== undefined && val !== s.equals) bad.push(`${r.name} shows ${JSON.stringify(shown)}`);
        if (s.oneOf && (val === undefined || !s.oneOf.includes(val))) bad.push(`${r.name} shows ${JSON.stringify(shown)}`);
        if (s.not !== undefined && val === s.not) bad.push(`${r.name} shows ${JSON.stringify(shown)}`);
        for (const c of s.contains ?? []) if (!(val ?? '').includes(c)) bad.push(`${r.name}: ${JSON.stringify(shown)} lacks ${JSON.stringify(c)}`);
        for (const c of s.lacks ?? []) if ((val ?? '').includes(c)) bad.push(`${r.name}: ${JSON.stringify(shown)} contains ${JSON.stringify(c)}`);
      }
      const cond = s.equals !== undefined ? `= ${JSON.stringify(s.equals)}` : s.oneOf ? `one of ${JSON.stringify(s.oneOf)}` : s.not !== undefined ? `≠ ${JSON.stringify(s.not)}` : s.contains ? `contains ${JSON.stringify(s.contains)}` : `lacks ${JSON.stringify(s.lacks)}`;
      judge(i, `${s.record} ${s.path} shown ${cond}`, bad.length === 0, bad[0] ?? 'as asserted');
    } else if ('conflict' in a) {
      const c = a.conflict;
      const want = [...new Set(c.values)].sort();
      const bad: string[] = [];
      for (const r of on(c.on)) {
        const v = await r.o.s.records.get(id(c.record));
        if (!v) {
          bad.push(`${r.name}: record not here`);
          continue;
        }
        const winner = c.path === 'title' ? v.title : c.path.startsWith('fields.') ? v.fields[c.path.slice(7)] : undefined;
        const losers = v.conflicts[c.path] ?? [];
        const got = [...new Set([...(winner !== undefined ? [winner] : []), ...losers])].sort();
        if (JSON.stringify(got) !== JSON.stringify(want) || (want.length > 1 && losers.length !== want.length - 1))
          bad.push(`${r.name} shows ${JSON.stringify(winner)} with conflicts ${JSON.stringify(losers)}`);
      }
      judge(i, `${c.record} ${c.path}: one of ${JSON.stringify(want)} shown, the others kept as conflicts`, bad.length === 0, bad[0] ?? 'as asserted');
    } else if ('deleted' in a) {
      const d = a.deleted;
      const rid = id(d.record);
      const bad: string[] = [];
      for (const r of on(d.on)) {
        const v = await r.o.s.records.get(rid);
        const listed = (await r.o.s.records.list()).some(x => x.id === rid);
        const trash = (await r.o.s.records.list({ onlyDeleted: true })).some(x => x.id === rid);
        if (!v) bad.push(`${r.name}: record not here`);
        else if (v.deleted !== d.is || listed === d.is || trash !== d.is) bad.push(`${r.name}: deleted ${v.deleted}, listed ${listed}, in trash ${trash}`);
      }
      judge(i, `${d.record} ${d.is ? 'deleted (in the trash, not listed)' : 'live (listed, not in the trash)'}`, bad.length === 0, bad[0] ?? 'as asserted');
    } else if ('refused' in a) {
      const f = a.refused;
      const n = rejected[f.at][f.reason] ?? 0;
      const ok = (f.count === undefined || n === f.count) && (f.min === undefined || n >= f.min) && (f.max === undefined || n <= f.max);
      const cond = [f.count !== undefined ? `= ${f.count}` : '', f.min !== undefined ? `≥ ${f.min}` : '', f.max !== undefined ? `≤ ${f.max}` : ''].filter(Boolean).join(', ');
      judge(i, `refused at ${f.at} as ${f.reason} ${cond}`, ok, `${n} so far`);
    } else if ('quarantined' in a) {
      const r = R(a.quarantined.on);
      const own = (await r.o.s.session.quarantine.list()).filter(x => {
        const d = decodeEnvelope(x.bytes);
        return d.ok && d.value.header.deviceId === r.user.vault.device.deviceId;
      });
      judge(i, `${r.name} has ${a.quarantined.own} of its own envelopes in quarantine`, own.length === a.quarantined.own, `${own.length}${own.length ? ` (${[...new Set(own.map(x => x.reason))].join(', ')})` : ''}`);
    } else if ('members' in a) {
      // agreement on membership: who is admin and who was removed, as each replica's own log says
      const m = a.members;
      const nameOf = new Map(replicas.map(r => [r.user.vault.userId, r.name]));
      const bad: string[] = [];
      for (const r of on(m.on)) {
        const members = [...r.o.s.live.state.members.values()];
        const admins = members.filter(x => !x.removed && x.role === 'admin').map(x => nameOf.get(x.userId) ?? x.userId).sort();
        const removed = members.filter(x => x.removed).map(x => nameOf.get(x.userId) ?? x.userId).sort();
        if (m.admins && JSON.stringify(admins) !== JSON.stringify([...m.admins].sort())) bad.push(`${r.name}'s log has admins ${JSON.stringify(admins)}`);
        if (m.removed && JSON.stringify(removed) !== JSON.stringify([...m.removed].sort())) bad.push(`${r.name}'s log has removed ${JSON.stringify(removed)}`);
      }
      judge(i, `membership${m.admins ? `: admins ${JSON.stringify(m.admins)}` : ''}${m.removed ? `, removed ${JSON.stringify(m.removed)}` : ''}`, bad.length === 0, bad[0] ?? 'as asserted');
    } else if ('noForgedDocs' in a) {
      const bad: string[] = [];
      for (const r of replicas) for (const d of forged) if (await r.o.s.session.has(d as never)) bad.push(`${r.name} holds forged document ${d.slice(0, 8)}`);
      judge(i, 'no replica holds a forged document', bad.length === 0, bad[0] ?? `${forged.length} forgeries, none held`);
    }
  }
}
