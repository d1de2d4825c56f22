// Relay load (issue 11 → Must show): 100 concurrent clients on loopback, each an authenticated device
// subscribed to its workspace, each pushing 20 small envelopes (one in flight at a time: push, wait for
// push_ack, next), against three deployments in turn: 1 relay on SQLite, 1 on PostgreSQL, 3 on one
// PostgreSQL database (client i connects to instance i mod 3, so every workspace's members are spread
// over all three and fan-out crosses instances through LISTEN/NOTIFY).
//
// Workspaces: one per 10 clients (10 workspaces; the first client of each founds it and invites the
// other nine, who join through the relay, all with the identity library). Every push is expected live
// at the nine other members, so each deployment measures 2,000 pushes and 18,000 deliveries.
//
// Relays run as child processes (`bin/cloister.js relay --port 0 --store …`, as
// test/relay/multiInstance.test.ts does), with default limits except the per-device push budget,
// raised (--push-burst/--push-per-second) so no push is throttled; nothing else in the defaults binds at
// this load (100 connections < 256 per address). Clients run in this process,
// so on a small machine they share the CPU with the relays. Figures per deployment (prefix
// relay_load_<sqlite1|pg1|pg3>_): envelopes acknowledged per second (first push → last ack), p50/p99
// ack latency (push sent → push_ack), p50/p99 fan-out latency (push sent → each other member's live
// `envelope` event), and relay RSS (peak of VmRSS summed over instances, sampled every 100 ms).
// Bounded: each deployment stops pushing after 30 s whatever is left; the suite ends within ~2 min.
// PostgreSQL: $CLOISTER_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test); the suite
// creates and drops its own databases. Opt-in: runs only with `cloister bench --only relay-load`.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { WebSocket } from 'ws';
import { seal } from '../../crypto/aead.ts';
import { fromBase64url, utf8 } from '../../crypto/bytes.ts';
import { DOMAIN } from '../../crypto/domains.ts';
import { generateSigningKey } from '../../crypto/ed25519.ts';
import { deviceIdOf } from '../../crypto/ids.ts';
import type { DeviceSigningKey, EpochKey } from '../../crypto/keys.ts';
import { generateBoxKey } from '../../crypto/lockbox.ts';
import { RelayClient } from '../../docs/sync/relayClient.ts';
import { createWorkspace } from '../../identity/workspace/createWorkspace.ts';
import { documentKey } from '../../identity/workspace/epochKeys.ts';
import { buildJoin, createInvitation } from '../../identity/workspace/invitations.ts';
import { appendEntry, replayLog } from '../../identity/workspace/log.ts';
import type { DeviceKeys } from '../../identity/workspace/signEntry.ts';
import type { WorkspaceState } from '../../identity/workspace/state.ts';
import { ENVELOPE_VERSION, encodeEnvelope, encodeEnvelopeHeader } from '../../protocol/envelope.ts';
import { packageRoot } from '../packageRoot.ts';
import { round } from './measure.ts';
import type { BenchSuite, Figures } from './suite.ts';

const HOUR = 3600_000;

export interface RelayLoadOptions {
  clients?: number;
  perWorkspace?: number;
  pushesPerClient?: number;
  /** Per deployment, after which pushing stops and the figures cover what was done. */
  pushDeadlineMs?: number;
  deployments?: Deployment[];
  postgresUrl?: string;
}

export type Deployment = 'sqlite1' | 'pg1' | 'pg3';

interface Instance {
  url: string;
  pid: number;
  stop(): Promise<void>;
}

const BIN = join(packageRoot(), 'bin', 'cloister.js');

function spawnRelay(store: string): Promise<Instance> {
  const proc: ChildProcess = spawn(process.execPath, [BIN, 'relay', '--port', '0', '--store', store, '--push-burst', '1000000', '--push-per-second', '1000000'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CLOISTER_LOG_LEVEL: 'info' },
  });
  let out = '';
  const keep = (d: Buffer) => (out = (out + d.toString()).slice(-8000));
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  const stop = () =>
    new Promise<void>((resolve) => {
      if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
      const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      proc.once('exit', () => (clearTimeout(t), resolve()));
      proc.kill('SIGTERM');
    });
  return new Promise<Instance>((resolve, reject) => {
    const timer = setTimeout(() => (void stop(), reject(new Error(`relay did not start: ${out}`))), 30_000);
    const onData = () => {
      const m = /"port":(\d+)/.exec(out);
      if (!m) return;
      clearTimeout(timer);
      proc.stdout!.off('data', onData);
      // Drain the log from here on without keeping it.
      proc.stdout!.off('data', keep);
      proc.stderr!.off('data', keep);
      proc.stdout!.resume();
      proc.stderr!.resume();
      resolve({ url: `ws://127.0.0.1:${m[1]}/`, pid: proc.pid!, stop });
    };
    proc.stdout!.on('data', onData);
    proc.once('exit', (code) => (clearTimeout(timer), reject(new Error(`relay exited (${code}): ${out}`))));
  });
}

function rssBytes(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** utime + stime of a process, in seconds (clock ticks of 1/100 s). */
function cpuSeconds(pid: number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100;
  } catch {
    return 0;
  }
}

function device(userId: string): DeviceKeys {
  const s = generateSigningKey<DeviceSigningKey>();
  const b = generateBoxKey();
  return { userId, deviceId: deviceIdOf(s.publicKey), signingKey: s.secretKey, signingPub: s.publicKey, boxKey: b.secretKey, boxPub: b.publicKey };
}

const connect = (url: string, d: DeviceKeys, workspaces: string[] = []) =>
  RelayClient.connect({ url, signingKey: d.signingKey, devicePub: d.signingPub, workspaces, WebSocket: WebSocket as never, timeoutMs: 60_000 });

function applyEntry(state: WorkspaceState, bytes: Uint8Array, now: number): WorkspaceState {
  const r = appendEntry(state, bytes, now);
  if (!r.ok) throw new Error(`append rejected: ${r.reason}`);
  return r.value;
}

interface LoadWorkspace {
  workspaceId: string;
  epochKey: EpochKey;
  rootId: Uint8Array;
}

/** Founded by members[0], the rest invited as writers and joined through the relay (as test/relay/helpers.ts publishWorkspace). */
async function publishWorkspace(url: string, members: DeviceKeys[]): Promise<LoadWorkspace> {
  const now = Date.now();
  const admin = members[0]!;
  const created = createWorkspace(admin, 'Load', { now });
  const ws = created.workspaceId;
  const a = await connect(url, admin);
  try {
    await a.appendLog(ws, created.root);
    let state = created.state;
    for (const d of members.slice(1)) {
      const inv = createInvitation(state, admin, created.epochKey, { role: 'writer', expiresAt: now + HOUR, now });
      await a.appendLog(ws, inv.entry.bytes);
      state = applyEntry(state, inv.entry.bytes, now);
      const j = await connect(url, d);
      try {
        const replayed = replayLog(await j.getLog(ws));
        if (!replayed.ok) throw new Error(replayed.reason);
        const joined = buildJoin(replayed.value, inv.code, d, now);
        if (!joined.ok) throw new Error(joined.reason);
        await j.appendLog(ws, joined.value.entry.bytes);
        state = applyEntry(state, joined.value.entry.bytes, now);
      } finally {
        j.close();
      }
    }
    return { workspaceId: ws, epochKey: created.epochKey, rootId: fromBase64url(state.order[0]!)! };
  } finally {
    a.close();
  }
}

/** A small change envelope (about 300 bytes) on the device's own document, at the workspace's root log position. */
function loadEnvelope(d: DeviceKeys, w: LoadWorkspace, docId: string, seq: number, leaseId: string): Uint8Array {
  const headerBytes = encodeEnvelopeHeader({
    version: ENVELOPE_VERSION, workspaceId: w.workspaceId, docId, deviceId: d.deviceId, epoch: 0, seq, leaseId,
    claimedTime: Date.now(), sessionNonce: new Uint8Array(16).fill(7), logIndex: 0, logHead: w.rootId,
  });
  const sealed = seal(documentKey(w.epochKey, docId), utf8(`load change ${seq} from ${d.userId}`), DOMAIN.envelopeBody, headerBytes);
  return encodeEnvelope(headerBytes, sealed, d.signingKey);
}

function percentile(xs: number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

const keyOf = (env: Uint8Array): string => Buffer.from(env.buffer, env.byteOffset + env.length - 64, 64).toString('base64');

async function adminQuery(adminUrl: string, sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 3000 });
  try {
    await c.connect();
    await c.query(sql);
  } finally {
    await c.end().catch(() => undefined);
  }
}

interface RunResult {
  figures: Figures;
}

/** One deployment: start its relays, set up workspaces and clients, push, measure, tear down. */
async function runDeployment(dep: Deployment, o: Required<Omit<RelayLoadOptions, 'deployments'>>, log: (m: string) => void): Promise<RunResult> {
  const instances = dep === 'pg3' ? 3 : 1;
  let cleanup: () => Promise<void> = async () => undefined;
  let store: string;
  if (dep === 'sqlite1') {
    const dir = mkdtempSync(join(tmpdir(), 'cloister-relayload-'));
    store = `sqlite:${join(dir, 'relay.sqlite')}`;
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    const name = `cloister_load_${dep}_${process.pid}_${Date.now()}`;
    await adminQuery(o.postgresUrl, `CREATE DATABASE ${name}`);
    const u = new globalThis.URL(o.postgresUrl);
    u.pathname = `/${name}`;
    store = u.toString();
    cleanup = () => adminQuery(o.postgresUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
  const relays: Instance[] = [];
  const clients: RelayClient[] = [];
  let peakRss = 0;
  let sampler: ReturnType<typeof setInterval> | undefined;
  try {
    // All at once (on PostgreSQL, whichever wins creates the tables and the relay key).
    relays.push(...(await Promise.all(Array.from({ length: instances }, () => spawnRelay(store)))));
    const sample = () => (peakRss = Math.max(peakRss, relays.reduce((s, r) => s + rssBytes(r.pid), 0)));
    sampler = setInterval(sample, 100);
    sample();
    const idleRss = relays.reduce((s, r) => s + rssBytes(r.pid), 0);

    // Workspaces: one per perWorkspace clients, published through instance 0, in parallel.
    const devices = Array.from({ length: o.clients }, (_, i) => device(`user-${i}`));
    const groups: DeviceKeys[][] = [];
    for (let i = 0; i < devices.length; i += o.perWorkspace) groups.push(devices.slice(i, i + o.perWorkspace));
    const tSetup = performance.now();
    const wss = await Promise.all(groups.map((g) => publishWorkspace(relays[0]!.url, g)));
    const wsOf = (i: number) => wss[Math.floor(i / o.perWorkspace)]!;
    log(`  ${dep}: ${instances} relay(s), ${wss.length} workspaces published in ${(performance.now() - tSetup).toFixed(0)} ms`);

    // Clients: client i on instance i mod N, authenticated with a lease for its workspace, subscribed.
    const sentAt = new Map<string, number>();
    const fanout: number[] = [];
    const expectedFanout = devices.reduce((s, _, i) => s + (groups[Math.floor(i / o.perWorkspace)]!.length - 1) * o.pushesPerClient, 0);
    let deliveries = 0;
    let allDelivered: () => void = () => undefined;
    const delivered = new Promise<void>((r) => (allDelivered = r));
    for (let i = 0; i < devices.length; i += 20) {
      const batch = await Promise.all(
        devices.slice(i, i + 20).map(async (d, k) => {
          const idx = i + k;
          const c = await connect(relays[idx % instances]!.url, d, [wsOf(idx).workspaceId]);
          await c.subscribe(wsOf(idx).workspaceId);
          return c;
        }),
      );
      clients.push(...batch);
    }
    const own = new Set<string>();
    clients.forEach((c, ci) =>
      c.onEnvelope((e) => {
        const t = performance.now();
        const k = keyOf(e.envelope);
        const t0 = sentAt.get(k);
        if (t0 === undefined || own.has(`${ci}:${k}`)) return;
        fanout.push(t - t0);
        if (++deliveries >= expectedFanout) allDelivered();
      }),
    );

    // Envelopes built and signed before the clock starts.
    const envs = clients.map((c, i) => {
      const w = wsOf(i);
      const lease = c.leases.get(w.workspaceId);
      if (!lease) throw new Error('no lease');
      return Array.from({ length: o.pushesPerClient }, (_, s) => {
        const e = loadEnvelope(devices[i]!, w, `load-doc-${i}`, s + 1, lease.lease.leaseId);
        own.add(`${i}:${keyOf(e)}`);
        return e;
      });
    });
    const loadedRss = relays.reduce((s, r) => s + rssBytes(r.pid), 0);
    log(`  ${dep}: ${clients.length} clients connected and subscribed; pushing ${o.pushesPerClient} each`);

    const ack: number[] = [];
    const failures = new Map<string, number>();
    let lastAck = 0;
    const relayCpu0 = relays.reduce((s, r) => s + cpuSeconds(r.pid), 0);
    const benchCpu0 = process.cpuUsage();
    const tStart = performance.now();
    const deadline = tStart + o.pushDeadlineMs;
    await Promise.all(
      clients.map(async (c, i) => {
        for (const e of envs[i]!) {
          if (performance.now() > deadline) return;
          const t0 = performance.now();
          sentAt.set(keyOf(e), t0);
          let r;
          try {
            r = await c.push(e);
          } catch (err) {
            const k = `error:${(err as { code?: string }).code ?? 'unknown'}`;
            failures.set(k, (failures.get(k) ?? 0) + 1);
            continue;
          }
          const t1 = performance.now();
          if (r.status === 'acked') {
            ack.push(t1 - t0);
            lastAck = Math.max(lastAck, t1);
          } else {
            const k = r.status === 'rejected' ? `rejected:${r.reason}` : r.status;
            failures.set(k, (failures.get(k) ?? 0) + 1);
          }
        }
      }),
    );
    // Wait for the last live events (bounded by the deadline plus a grace).
    await Promise.race([delivered, new Promise((r) => setTimeout(r, Math.max(2000, deadline + 5000 - performance.now())))]);
    sample();
    const relayCpuS = relays.reduce((s, r) => s + cpuSeconds(r.pid), 0) - relayCpu0;
    const bc = process.cpuUsage(benchCpu0);
    const wallS = (performance.now() - tStart) / 1000;
    const elapsedS = (lastAck - tStart) / 1000;
    const p = `relay_load_${dep}_`;
    const figures: Figures = {
      [`${p}instances`]: instances,
      [`${p}clients`]: clients.length,
      [`${p}workspaces`]: wss.length,
      [`${p}acked`]: ack.length,
      [`${p}envelopes_per_s`]: round(ack.length / elapsedS, 0),
      [`${p}ack_p50_ms`]: round(percentile(ack, 50), 1),
      [`${p}ack_p99_ms`]: round(percentile(ack, 99), 1),
      [`${p}fanout_deliveries`]: deliveries,
      [`${p}fanout_expected`]: expectedFanout,
      [`${p}fanout_p50_ms`]: round(percentile(fanout, 50), 1),
      [`${p}fanout_p99_ms`]: round(percentile(fanout, 99), 1),
      [`${p}rss_idle_mib`]: round(idleRss / 2 ** 20, 0),
      [`${p}rss_connected_mib`]: round(loadedRss / 2 ** 20, 0),
      [`${p}rss_peak_mib`]: round(peakRss / 2 ** 20, 0),
      /** CPU used during the push phase, in cores (CPU seconds / wall seconds): the relays summed, and this process (the clients). */
      [`${p}relay_cpu_cores`]: round(relayCpuS / wallS, 2),
      [`${p}clients_cpu_cores`]: round((bc.user + bc.system) / 1e6 / wallS, 2),
      [`${p}failures`]: Object.fromEntries(failures),
    };
    log(`  ${dep}: ${ack.length} acked in ${elapsedS.toFixed(2)} s; ${deliveries}/${expectedFanout} live deliveries; peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB`);
    return { figures };
  } finally {
    if (sampler) clearInterval(sampler);
    for (const c of clients) c.close();
    await Promise.all(relays.map((r) => r.stop()));
    await cleanup();
  }
}

export async function relayLoadBench(log: (m: string) => void = () => undefined, opts: RelayLoadOptions = {}): Promise<Figures> {
  const o = {
    clients: opts.clients ?? 100,
    perWorkspace: opts.perWorkspace ?? 10,
    pushesPerClient: opts.pushesPerClient ?? 20,
    pushDeadlineMs: opts.pushDeadlineMs ?? 30_000,
    postgresUrl: opts.postgresUrl ?? process.env.CLOISTER_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
  };
  const out: Figures = {};
  for (const dep of opts.deployments ?? (['sqlite1', 'pg1', 'pg3'] as Deployment[])) {
    Object.assign(out, (await runDeployment(dep, o, log)).figures);
  }
  return out;
}

export const relayLoadSuite: BenchSuite = {
  name: 'relay-load',
  description: '100 clients pushing and subscribed, against 1 relay on SQLite, 1 on PostgreSQL, 3 on PostgreSQL (opt-in)',
  optIn: true,
  run: (ctx) => relayLoadBench(ctx.log),
};
