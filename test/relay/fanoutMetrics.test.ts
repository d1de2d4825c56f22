// /metrics for operators (issue 11 → Operations): per-instance open connections, fan-out latency (from
// storing an envelope to sending it to local subscribers; across instances from the NOTIFY's sent
// time) and cluster notification lag. SQLite shows the local source; two relays on one PostgreSQL
// database (in one process, each with its PgCluster) show the cluster source and the lag.
// With CI=true an unreachable PostgreSQL fails the run instead of skipping.
import { createPgDatabases, pgAdminQuery as adminQuery, PG_ADMIN_SHOWN, pgDatabaseUrl } from './pgTestDatabase.ts';
import { WebSocket } from 'ws';
import { randomBytes } from '../../src/crypto/bytes.ts';
import { signChallenge } from '../../src/protocol/challenge.ts';
import { decodeRelayMessage, encodeMessage, type ClientMessageInput } from '../../src/protocol/messages.ts';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { PgCluster, decodeNotice, encodeNotice } from '../../relay/cluster/pgBus.ts';
import { startRelay, type RunningRelay } from '../../relay/server.ts';
import { PostgresStore } from '../../relay/store/PostgresStore.ts';
import { connect, device, envelope, leaseIdOf, publishWorkspace, startTestRelay } from './helpers.ts';
import { integrationTimeouts } from '../timeouts.ts';

integrationTimeouts();

async function scrape(r: RunningRelay): Promise<string> {
  return (await fetch(`${r.httpUrl}/metrics`)).text();
}

/** The value of one sample line (name with its labels, exactly as exposed), or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function until(what: string, fn: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('relay /metrics: connections and fan-out latency', () => {
  it('counts open connections and observes local fan-out latency for each envelope sent to subscribers', async () => {
    const t = await startTestRelay();
    try {
      const alice = device('alice');
      const bob = device('bob');
      const w = await publishWorkspace(t.relay, alice, [{ d: bob, role: 'writer' }]);
      const a = await connect(t.relay, alice, [w.workspaceId]);
      const b = await connect(t.relay, bob, [w.workspaceId]);
      let got = 0;
      b.onEnvelope(() => got++);
      await b.subscribe(w.workspaceId);
      let m = await scrape(t.relay);
      expect(sample(m, 'cloister_connections')).toBe(2);
      const leaseId = leaseIdOf(a, w.workspaceId);
      for (let seq = 1; seq <= 5; seq++) expect((await a.push(envelope(alice, { workspaceId: w.workspaceId, seq, leaseId }))).status).toBe('acked');
      await until('bob got the five live', async () => got === 5);
      m = await scrape(t.relay);
      expect(sample(m, 'cloister_fanout_latency_seconds_count{source="local"}')).toBe(5);
      expect(sample(m, 'cloister_fanout_latency_seconds_bucket{le="+Inf",source="local"}')).toBe(5);
      expect(sample(m, 'cloister_fanout_latency_seconds_sum{source="local"}')).toBeLessThan(5);
      a.close();
      b.close();
      await until('connections closed', async () => sample(await scrape(t.relay), 'cloister_connections') === 0);
    } finally {
      await t.stop();
    }
  });

  it('cluster notifications carry their sent time; old ones without it still decode', () => {
    const n = decodeNotice(encodeNotice({ i: 'x', k: 'e', w: 'ws', n: 3, t: 1_700_000_000_000.125 }));
    expect(n?.t).toBe(1_700_000_000_000.125);
    expect(decodeNotice(JSON.stringify({ i: 'x', k: 'e', w: 'ws', n: 3 }))).toEqual({ i: 'x', k: 'e', w: 'ws', n: 3 });
    expect(decodeNotice(JSON.stringify({ i: 'x', k: 'e', w: 'ws', n: 3, t: 'soon' }))).toEqual({ i: 'x', k: 'e', w: 'ws', n: 3 });
  });
});

const DB_NAME = `cloister_metrics_${process.pid}_${Date.now()}`;

const available = await createPgDatabases(DB_NAME);
if (available) afterAll(async () => adminQuery(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`));

/** One relay instance on the test database, coordinating with the others through LISTEN/NOTIFY. */
async function start(): Promise<RunningRelay> {
  const url = pgDatabaseUrl(DB_NAME);
  return startRelay({
    store: await PostgresStore.connect({ connectionString: url, max: 4 }), cluster: new PgCluster({ connectionString: url }),
    port: 0, host: '127.0.0.1', logger: pino({ level: 'silent' }),
  });
}

describe('relay /metrics across instances (PostgreSQL)', () => {
  // Outside CI only: no PostgreSQL server answers (createPgDatabases throws under CI=true instead).
  if (!available) {
    it.skip(`skipped: no PostgreSQL at ${PG_ADMIN_SHOWN}`, () => undefined);
    return;
  }
  it('an auth answer captured on instance A is refused on instance B, and answers once on A', async () => {
    const A = await start();
    const B = await start();
    const sockets: WebSocket[] = [];
    /** Open a socket; resolves with its hello challenge and a function sending bytes and awaiting the next answer's body type/code. */
    const open = (r: RunningRelay) =>
      new Promise<{ challenge: Uint8Array; ask(bytes: Uint8Array): Promise<string> }>((resolve, reject) => {
        const ws = new WebSocket(r.url);
        sockets.push(ws);
        const answers: ((s: string) => void)[] = [];
        ws.on('error', reject);
        ws.on('message', (data: Buffer) => {
          const m = decodeRelayMessage(new Uint8Array(data));
          if (!m.ok) return;
          if (m.value.t === 'hello') {
            const challenge = m.value.challenge;
            resolve({
              challenge,
              ask: (bytes) => new Promise((res) => { answers.push(res); ws.send(bytes); }),
            });
            return;
          }
          const inner = m.value.t === 'reply' ? decodeRelayMessage(m.value.body) : m;
          const v = inner.ok ? inner.value : undefined;
          answers.shift()?.(v ? (v.t === 'error' ? `error:${v.code}` : v.t) : 'undecodable');
        });
      });
    try {
      const eve = device('eve');
      const a = await open(A);
      const auth = encodeMessage({
        t: 'auth', id: 1, clientNonce: randomBytes(32), deviceId: eve.deviceId, devicePub: eve.signingPub, challenge: a.challenge,
        signature: signChallenge(eve.signingKey, eve.signingPub, a.challenge), workspaces: [],
      } satisfies ClientMessageInput);
      const b = await open(B);
      expect(await b.ask(auth)).toBe('error:auth_failed'); // B never issued that challenge
      expect(await a.ask(auth)).toBe('auth_ok');
      const a2 = await open(A);
      expect(await a2.ask(auth)).toBe('error:auth_failed'); // used, and bound to the first connection
    } finally {
      for (const ws of sockets) ws.terminate();
      await A.close();
      await B.close();
    }
  });

  it('an envelope stored on instance A and delivered by instance B shows in B\'s cluster fan-out latency and notification lag', async () => {
    const A = await start();
    const B = await start();
    try {
      const alice = device('alice');
      const bob = device('bob');
      const w = await publishWorkspace(A, alice, [{ d: bob, role: 'writer' }]);
      const a = await connect(A, alice, [w.workspaceId]);
      const b = await connect(B, bob, [w.workspaceId]);
      let got = 0;
      b.onEnvelope(() => got++);
      await b.subscribe(w.workspaceId);
      const leaseId = leaseIdOf(a, w.workspaceId);
      for (let seq = 1; seq <= 3; seq++) expect((await a.push(envelope(alice, { workspaceId: w.workspaceId, seq, leaseId }))).status).toBe('acked');
      await until('bob (on B) got the three live', async () => got === 3);
      const mb = await scrape(B);
      expect(sample(mb, 'cloister_fanout_latency_seconds_count{source="cluster"}')).toBe(3);
      expect(sample(mb, 'cloister_cluster_notification_lag_seconds_count')).toBeGreaterThanOrEqual(3); // log links too
      expect(sample(mb, 'cloister_cluster_notifications_received_total')).toBeGreaterThanOrEqual(3);
      const last = sample(mb, 'cloister_cluster_notification_lag_last_seconds')!;
      expect(last).toBeGreaterThanOrEqual(0);
      expect(last).toBeLessThan(5);
      expect(sample(mb, 'cloister_cluster_notifications_pending')).toBe(0);
      expect(sample(mb, 'cloister_connections')).toBe(1); // per instance: bob only
      const ma = await scrape(A);
      expect(sample(ma, 'cloister_connections')).toBe(1);
      expect(sample(ma, 'cloister_fanout_latency_seconds_count{source="cluster"}') ?? 0).toBe(0); // nobody subscribed on A
      a.close();
      b.close();
    } finally {
      await A.close();
      await B.close();
    }
  });
});
