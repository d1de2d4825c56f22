// Membership chain figures (DESIGN → Membership log): (a) appending entries through a real relay
// (SQLite on a temporary file, loopback WebSocket, RelayClient), one at a time, each a set_policy by
// one of two admins in turn so the per-role daily limit (admin: 1,000) holds; median and p95 per
// append, round trip included. (b) Replaying a 10,000-entry countersigned chain from scratch under
// the pinned relay key, as a client does on first sync: entries spread over ~20 days across several
// admins so daily limits hold. The first replay is cold (no signature cached); the second is reported
// apart, since verified entry signatures are remembered within a process.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { WebSocket } from 'ws';
import { startRelay } from '../../../relay/server.ts';
import { SqliteStore } from '../../../relay/store/SqliteStore.ts';
import { generateSigningKey } from '../../crypto/ed25519.ts';
import { deviceIdOf } from '../../crypto/ids.ts';
import type { DeviceSigningKey, SigningSecretKey } from '../../crypto/keys.ts';
import { generateBoxKey } from '../../crypto/lockbox.ts';
import { RelayClient } from '../../docs/sync/relayClient.ts';
import { countersign, encodeLink } from '../../identity/workspace/chainLink.ts';
import { createWorkspace } from '../../identity/workspace/createWorkspace.ts';
import { decodeEntry, ENTRY_VERSION, type Policy, type Role } from '../../identity/workspace/entry.ts';
import { buildJoin, createInvitation } from '../../identity/workspace/invitations.ts';
import { appendEntry, appendLink, replayLog } from '../../identity/workspace/log.ts';
import { setPolicy } from '../../identity/workspace/members.ts';
import { signEntry, type DeviceKeys } from '../../identity/workspace/signEntry.ts';
import type { WorkspaceState } from '../../identity/workspace/state.ts';
import { median, round } from './measure.ts';
import type { BenchSuite, Figures } from './suite.ts';

const APPENDS = 1_000;
const REPLAY_ENTRIES = 10_000;
const DAY_MS = 24 * 3600 * 1000;

function benchDevice(userId: string): DeviceKeys {
  const s = generateSigningKey<DeviceSigningKey>();
  const b = generateBoxKey();
  return { userId, deviceId: deviceIdOf(s.publicKey), signingKey: s.secretKey, signingPub: s.publicKey, boxKey: b.secretKey, boxPub: b.publicKey };
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
}

const policyFor = (i: number): Policy => ({ maxOfflineMs: ((i % 30) + 1) * DAY_MS, leasePolicy: i % 2 ? 'hold' : 'reject' });

function applyOrThrow(state: WorkspaceState, bytes: Uint8Array, now: number): WorkspaceState {
  const r = appendEntry(state, bytes, now);
  if (!r.ok) throw new Error(`bench entry refused: ${r.reason} ${r.detail ?? ''}`);
  return r.value;
}

/** A founder and `admins - 1` more admins, joined in memory (uncountersigned): the shared start of both figures. */
function team(admins: number, now: number): { state: WorkspaceState; people: DeviceKeys[]; entries: Uint8Array[] } {
  const founder = benchDevice('admin-0');
  const created = createWorkspace(founder, 'bench', { now });
  let state = created.state;
  const people = [founder];
  const entries = [created.root];
  for (let i = 1; i < admins; i++) {
    const d = benchDevice(`admin-${i}`);
    const inv = createInvitation(state, founder, created.epochKey, { role: 'admin' as Role, expiresAt: now + DAY_MS, now });
    state = applyOrThrow(state, inv.entry.bytes, now);
    const j = buildJoin(state, inv.code, d, now);
    if (!j.ok) throw new Error(`bench join: ${j.reason}`);
    state = applyOrThrow(state, j.value.entry.bytes, now);
    entries.push(inv.entry.bytes, j.value.entry.bytes);
    people.push(d);
  }
  return { state, people, entries };
}

/** (a) `appends` set_policy entries through a loopback relay, two admins in turn. */
export async function relayAppendBench(appends = APPENDS, log: (m: string) => void = () => undefined): Promise<Figures> {
  const dir = mkdtempSync(join(tmpdir(), 'cloister-chainbench-'));
  const relay = await startRelay({ store: new SqliteStore(join(dir, 'relay.sqlite')), port: 0, host: '127.0.0.1', logger: pino({ level: 'silent' }) });
  const clients: RelayClient[] = [];
  try {
    const now = Date.now();
    const { people, entries } = team(2, now);
    const connect = async (d: DeviceKeys) => {
      const c = await RelayClient.connect({ url: relay.url, signingKey: d.signingKey, devicePub: d.signingPub, WebSocket: WebSocket as never });
      clients.push(c);
      return c;
    };
    const [a, b] = [await connect(people[0]!), await connect(people[1]!)];
    const ws = decodeEntry(entries[0]!);
    if (!ws.ok || ws.value.body.kind !== 'create') throw new Error('bench root');
    const workspaceId = ws.value.body.ws;
    for (const e of entries) await a.appendLog(workspaceId, e);
    const start = replayLog(await a.getLog(workspaceId), { relayPub: relay.relayPub });
    if (!start.ok) throw new Error(`bench chain: ${start.reason}`);
    let state = start.value;
    log(`  ${appends} set_policy appends through a loopback relay (SQLite), two admins in turn`);
    const ms: number[] = [];
    const t0 = performance.now();
    for (let i = 0; i < appends; i++) {
      const who = i % 2;
      const entry = setPolicy(state, people[who]!, policyFor(i), Date.now()).bytes;
      const t = performance.now();
      const r = await (who ? b : a).appendLog(workspaceId, entry);
      ms.push(performance.now() - t);
      const next = appendLink(state, r.link, undefined, relay.relayPub);
      if (!next.ok) throw new Error(`bench link ${r.index}: ${next.reason}`);
      state = next.value;
    }
    const totalMs = performance.now() - t0;
    return {
      relay_log_append_median_ms: round(median(ms), 2),
      relay_log_append_p95_ms: round(percentile(ms, 95), 2),
      relay_log_appends: appends,
      relay_log_append_total_ms: round(totalMs),
    };
  } finally {
    for (const c of clients) c.close();
    await relay.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** (b) A countersigned chain of `n` entries, replayed from scratch under the relay key. */
export function chainReplayBench(n = REPLAY_ENTRIES, log: (m: string) => void = () => undefined): Figures {
  const admins = 4;
  const t0 = Date.now() - 21 * DAY_MS;
  const relayKey = generateSigningKey<SigningSecretKey>();
  const { state, people, entries } = team(admins, t0);
  const links = entries.map((bytes) => {
    const d = decodeEntry(bytes);
    if (!d.ok) throw new Error(d.reason);
    return encodeLink(bytes, countersign(relayKey.secretKey, d.value));
  });
  // The rest are signed directly at the next position (no validation while building: replay does
  // that, and building through appendEntry would also warm the signature cache replay uses).
  log(`  building a ${n}-entry countersigned chain (${admins} admins, ~20 days)`);
  const step = (20 * DAY_MS) / n;
  let head = state.head;
  for (let index = links.length; index < n; index++) {
    const author = people[index % admins]!;
    const signed = signEntry(author, { v: ENTRY_VERSION, ws: state.workspaceId, index, prev: head, author: author.deviceId, at: Math.round(t0 + index * step), kind: 'set_policy', policy: policyFor(index) });
    const d = decodeEntry(signed.bytes);
    if (!d.ok) throw new Error(d.reason);
    links.push(encodeLink(signed.bytes, countersign(relayKey.secretKey, d.value)));
    head = signed.id;
  }
  log(`  replaying it under the relay key (cold, then warm)`);
  const timeReplay = () => {
    const t = performance.now();
    const r = replayLog(links, { relayPub: relayKey.publicKey });
    const ms = performance.now() - t;
    if (!r.ok) throw new Error(`bench replay: ${r.reason} ${r.detail ?? ''}`);
    if (r.value.order.length !== n) throw new Error(`bench replay: ${r.value.order.length} entries`);
    return ms;
  };
  const cold = timeReplay();
  const warm = timeReplay();
  return {
    chain_replay_10k_entries: n,
    chain_replay_10k_ms: round(cold),
    chain_replay_per_entry_us: round((cold * 1000) / n),
    /** Same chain again in the same process: entry signatures are remembered, countersignatures are checked again. */
    chain_replay_10k_warm_ms: round(warm),
  };
}

export const chainSuite: BenchSuite = {
  name: 'chain',
  description: 'membership chain: 1,000 appends through a loopback relay, replay of a 10k-entry countersigned chain',
  run: async (ctx) => ({ ...(await relayAppendBench(APPENDS, ctx.log)), ...chainReplayBench(REPLAY_ENTRIES, ctx.log) }),
};
