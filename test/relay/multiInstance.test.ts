// Several relay instances on one PostgreSQL database (DESIGN → Relay; issue 11): three relay PROCESSES
// (`cloister relay --store postgres://…`) share one freshly created database, and clients connect to
// different instances. Shown: one relay key although all three started at once on an empty database;
// live fan-out across instances (LISTEN/NOTIFY carrying ids only); a removal on one instance enforced
// on another; the same (device, doc, seq) raced on two instances with exactly one winner; and an
// instance SIGKILLed mid-burst, its client failing over to another from its --relay list with no
// acknowledged envelope lost.
// $CLOISTER_TEST_POSTGRES_URL (default postgres://postgres@127.0.0.1:5432/test) must be reachable under
// CI=true; outside CI the file skips and says why.
import { createPgDatabases, pgAdminQuery as adminQuery, PG_ADMIN_SHOWN, PG_ADMIN_URL as ADMIN_URL } from './pgTestDatabase.ts';
import { spawn, type ChildProcess } from 'node:child_process';
import { join as pathJoin } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { removeMember } from '../../src/identity/workspace/members.ts';
import type { RunningRelay } from '../../relay/server.ts';
import { CHILD_MS, integrationTimeouts } from '../timeouts.ts';
import { connect, device, envelope, leaseIdOf, publishWorkspace, T0 } from './helpers.ts';
import { cleanupDirs, createStoredWorkspace, invite, join, makeUser, open } from '../sync/helpers.ts';

integrationTimeouts();

const DB_NAME = `cloister_multi_${process.pid}_${Date.now()}`;

const available = await createPgDatabases(DB_NAME);
const dbUrl = new globalThis.URL(ADMIN_URL);
dbUrl.pathname = `/${DB_NAME}`;
const STORE = dbUrl.toString();

interface Instance {
  url: string;
  httpUrl: string;
  proc: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** `cloister relay --port 0 --store postgres://…` as a child process; its port from the 'relay listening' line. */
async function spawnPgRelay(): Promise<Instance> {
  const bin = pathJoin(import.meta.dirname, '..', '..', 'bin', 'cloister.js');
  const proc = spawn(process.execPath, [bin, 'relay', '--port', '0', '--store', STORE], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CLOISTER_LOG_LEVEL: 'info' },
  });
  let out = '';
  const keep = (d: Buffer) => (out = (out + d.toString()).slice(-8000));
  proc.stdout!.on('data', keep);
  proc.stderr!.on('data', keep);
  const port = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`relay did not start: ${out}`)), CHILD_MS);
    const onData = () => {
      const m = /"port":(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        proc.stdout!.off('data', onData);
        resolve(m[1]!);
      }
    };
    proc.stdout!.on('data', onData);
    proc.once('exit', (code) => reject(new Error(`relay exited (${code}): ${out}`)));
  });
  return {
    url: `ws://127.0.0.1:${port}/`,
    httpUrl: `http://127.0.0.1:${port}`,
    proc,
    output: () => out,
    stop: () =>
      new Promise<void>((resolve) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      }),
  };
}

const asRelay = (i: Instance) => ({ url: i.url }) as RunningRelay;

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, ms = CHILD_MS): Promise<void> {
  const until = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

if (!available) {
  describe('several relay instances on PostgreSQL', () => {
    // Outside CI only: no PostgreSQL server answers (under CI=true createPgDatabases fails the run).
    it.skip(`skipped: no PostgreSQL at ${PG_ADMIN_SHOWN}`, () => undefined);
  });
} else {
  describe('several relay instances on PostgreSQL', () => {
    let R: Instance[] = [];

    beforeAll(async () => {
      // All three at once on an empty database: tables and the relay key are created by whichever wins.
      R = await Promise.all([spawnPgRelay(), spawnPgRelay(), spawnPgRelay()]);
    });

    afterAll(async () => {
      await Promise.all(R.map((r) => r.stop()));
      cleanupDirs();
      await adminQuery(`DROP DATABASE IF EXISTS ${DB_NAME} WITH (FORCE)`);
    });

    it('three instances started at once on an empty database share one relay key', async () => {
      const ids = await Promise.all(R.map(async (r) => ((await (await fetch(`${r.httpUrl}/healthz`)).json()) as { relayId: string }).relayId));
      expect(new Set(ids).size).toBe(1);
      const c = new pg.Client({ connectionString: STORE });
      await c.connect();
      try {
        expect((await c.query(`SELECT COUNT(*)::int AS n FROM relay_meta WHERE key = 'relay_key'`)).rows[0].n).toBe(1);
      } finally {
        await c.end();
      }
    });

    it('an envelope pushed on one instance reaches a subscriber on another, live', async () => {
      const alice = device('alice');
      const bob = device('bob');
      const w = await publishWorkspace(asRelay(R[0]!), alice, [{ d: bob, role: 'writer' }]);
      const b = await connect(asRelay(R[1]!), bob, [w.workspaceId]);
      const a = await connect(asRelay(R[2]!), alice, [w.workspaceId]);
      try {
        await b.subscribe(w.workspaceId);
        const seen: { relaySeq: number; envelope: Uint8Array }[] = [];
        b.onEnvelope((e) => seen.push(e));
        const sent: Uint8Array[] = [];
        for (let seq = 1; seq <= 5; seq++) {
          const e = envelope(alice, { workspaceId: w.workspaceId, seq, leaseId: leaseIdOf(a, w.workspaceId) });
          sent.push(e);
          expect(await a.push(e)).toMatchObject({ status: 'acked', relaySeq: seq });
        }
        await waitFor('live envelopes on the other instance', () => seen.length >= 5, 20_000);
        expect(seen.map((e) => e.relaySeq).sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5]);
        expect(seen.sort((x, y) => x.relaySeq - y.relaySeq).map((e) => e.envelope)).toEqual(sent);
      } finally {
        a.close();
        b.close();
      }
    });

    it('a removal appended on one instance refuses the removed device’s next push on another', async () => {
      const alice = device('alice');
      const bob = device('bob');
      const carol = device('carol');
      const w = await publishWorkspace(asRelay(R[0]!), alice, [{ d: bob, role: 'writer' }, { d: carol, role: 'writer' }]);
      const b = await connect(asRelay(R[1]!), bob, [w.workspaceId]);
      const c = await connect(asRelay(R[1]!), carol, [w.workspaceId]);
      const a = await connect(asRelay(R[0]!), alice, [w.workspaceId]);
      try {
        const bobLease = leaseIdOf(b, w.workspaceId);
        // Instance 1 has bob's membership cached now.
        expect(await b.push(envelope(bob, { workspaceId: w.workspaceId, seq: 1, leaseId: bobLease }))).toMatchObject({ status: 'acked' });
        await c.subscribe(w.workspaceId);
        const logSeen: number[] = [];
        c.onLogEntry((e) => logSeen.push(e.index));
        const removed = removeMember(w.state, alice, new Map([[0, w.epochKey]]), 'bob', T0);
        const appended = await a.appendLog(w.workspaceId, removed.entry.bytes);
        // Instance 1 hears of it (carol, subscribed there, gets the new link live) …
        await waitFor('the removal on the other instance', () => logSeen.length > 0, 20_000);
        expect(logSeen).toEqual([w.state.order.length]);
        void appended;
        // … and refuses bob's next push there.
        expect(await b.push(envelope(bob, { workspaceId: w.workspaceId, seq: 2, leaseId: bobLease }))).toMatchObject({
          status: 'rejected', reason: 'not_a_member',
        });
        // So does the third instance (it loads the chain from the database).
        const b3 = await connect(asRelay(R[2]!), bob, [w.workspaceId]);
        try {
          expect(await b3.push(envelope(bob, { workspaceId: w.workspaceId, seq: 2, leaseId: bobLease }))).toMatchObject({
            status: 'rejected', reason: 'not_a_member',
          });
        } finally {
          b3.close();
        }
      } finally {
        a.close();
        b.close();
        c.close();
      }
    });

    it('the same (device, doc, seq) raced on two instances: exactly one winner each time', async () => {
      const alice = device('alice');
      const bob = device('bob');
      const w = await publishWorkspace(asRelay(R[0]!), alice, [{ d: bob, role: 'writer' }]);
      const c0 = await connect(asRelay(R[0]!), bob, [w.workspaceId]);
      const c1 = await connect(asRelay(R[1]!), bob, [w.workspaceId]);
      try {
        const N = 20;
        const winners: Uint8Array[] = [];
        for (let i = 0; i < N; i++) {
          const docId = `race-${i}`;
          const x = envelope(bob, { workspaceId: w.workspaceId, docId, seq: 1, leaseId: leaseIdOf(c0, w.workspaceId), plaintext: new Uint8Array([1, i]) });
          const y = envelope(bob, { workspaceId: w.workspaceId, docId, seq: 1, leaseId: leaseIdOf(c1, w.workspaceId), plaintext: new Uint8Array([2, i]) });
          const [rx, ry] = await Promise.all([c0.push(x), c1.push(y)]);
          const outcomes = [rx.status, ry.status].sort();
          expect(outcomes).toEqual(['acked', 'rejected']);
          const loser = rx.status === 'rejected' ? rx : ry;
          expect(loser).toMatchObject({ reason: 'seq_replay' });
          winners.push(rx.status === 'acked' ? x : y);
        }
        const page = await c0.pull(w.workspaceId, 0, 1000, true);
        expect(page.envelopes.map((e) => e.relaySeq)).toEqual(Array.from({ length: N }, (_, i) => i + 1)); // gapless
        expect(new Set(page.envelopes.map((e) => Buffer.from(e.envelope).toString('hex')))).toEqual(
          new Set(winners.map((e) => Buffer.from(e).toString('hex'))),
        );
      } finally {
        c0.close();
        c1.close();
      }
    });

    it('an instance SIGKILLed mid-burst: its client fails over to the next in its --relay list, nothing acknowledged is lost', async () => {
      const [alice, bob] = await Promise.all([makeUser('alice'), makeUser('bob')]);
      const list = `${R[0]!.url},${R[1]!.url}`; // alice's instance first; the one that will die
      const ws = createStoredWorkspace(alice, 'ha', list);
      const code = invite(alice, ws, 'writer');
      const a = await open(alice, list, { backoff: { baseMs: 50, maxMs: 500 } });
      try {
        const connected: string[] = [];
        let acked = 0;
        a.engine.on('connected', (c) => connected.push(c.relayId));
        a.engine.on('synced', (s) => (acked += s.acked));
        await a.engine.syncOnce();
        await join(bob, code, R[2]!.url);
        a.engine.start();
        expect(connected.length).toBe(1);
        expect(a.engine.currentRelayUrl).toBe(R[0]!.url);
        const ids: string[] = [];
        for (let i = 0; i < 60; i++) {
          ids.push(await a.s.records.create({ title: `burst ${i}` }));
          if (i === 20) {
            await waitFor('some acks from the first instance', () => acked > 0);
            R[0]!.proc.kill('SIGKILL');
          }
        }
        await waitFor('the outbox drained through another instance', async () => (await a.s.session.outbox.pending()).length === 0);
        expect(R[0]!.proc.signalCode).toBe('SIGKILL');
        expect(a.engine.currentRelayUrl).toBe(R[1]!.url);
        expect(connected.length).toBeGreaterThanOrEqual(2);
        expect(new Set(connected).size).toBe(1); // one relay key across instances: the pin held

        // Nothing acknowledged is lost: every (device, doc) stream in the database is gapless …
        const c = new pg.Client({ connectionString: STORE });
        await c.connect();
        try {
          const r = await c.query(
            `SELECT device_id, doc_id, COUNT(*)::int AS n, MAX(seq)::int AS top FROM envelopes WHERE workspace_id = $1 GROUP BY device_id, doc_id`,
            [ws],
          );
          expect(r.rows.length).toBeGreaterThan(0);
          for (const row of r.rows as { n: number; top: number }[]) expect(row.n).toBe(row.top);
        } finally {
          await c.end();
        }
        // … and bob, on the third instance, gets every record of the burst.
        const b = await open(bob);
        try {
          await b.engine.syncOnce();
          const titles = (await b.s.records.list()).map((r) => r.title).sort();
          expect(titles).toEqual(ids.map((_, i) => `burst ${i}`).sort());
        } finally {
          await b.close();
        }
      } finally {
        await a.close();
      }
    });
  });
}
