// Group commit on SQLite (relay/store/SqliteStore.ts): envelope inserts queued in one event-loop turn
// share one transaction and one fsync, each in its own savepoint. An insert settles, and a push is
// acknowledged, only once its transaction has committed: an acknowledged envelope is never lost.
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NewEnvelope } from '../../relay/store/RelayStore.ts';
import { SqliteStore } from '../../relay/store/SqliteStore.ts';
import { connect, device, envelope, leaseIdOf, publishWorkspace, startTestRelay, type TestRelay } from './helpers.ts';
import { integrationTimeouts } from '../timeouts.ts';

integrationTimeouts();

const hashOf = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
function env(workspaceId: string, deviceId: string, docId: string, seq: number, fill = seq): NewEnvelope {
  const bytes = new Uint8Array(createHash('sha256').update(`${workspaceId}|${deviceId}|${docId}|${seq}|${fill}`).digest());
  return { workspaceId, deviceId, docId, seq, hash: hashOf(bytes), bytes, receivedAt: 1000 + seq };
}

describe('group commit in the SQLite store', () => {
  let dir: string;
  let path: string;
  let store: SqliteStore;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cloister-groupcommit-'));
    path = join(dir, 'relay.sqlite');
    store = new SqliteStore(path);
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('many inserts queued in one turn are all stored under consecutive relay seqs, each settling with its own', async () => {
    const envs = Array.from({ length: 300 }, (_, i) => env('w', `dev${i % 7}`, `doc${i % 5}`, Math.floor(i / 35) + 1 + (i % 35) * 100));
    const pending = envs.map((e) => store.insertEnvelope(e));
    // Queued, visible to the push checks, and not committed yet.
    expect(store.groupCommit?.queuedLastSeq('w', 'dev0', 'doc0')).toBeGreaterThan(0);
    expect(store.groupCommit?.queuedBytes('w')).toBeGreaterThan(0);
    const results = await Promise.all(pending);
    // In queue order: the first queued got relay seq 1, the last 300 (over two batches: 256 + 44).
    expect(results).toEqual(envs.map((_, i) => ({ status: 'inserted', relaySeq: i + 1 })));
    const stored = await store.listEnvelopes('w', 0, 1000);
    expect(stored.map((s) => s.hash)).toEqual(envs.map((e) => e.hash));
    expect(await store.workspaceUsage('w')).toBe(300 * 32);
    expect(store.groupCommit?.queuedLastSeq('w', 'dev0', 'doc0')).toBe(0);
    expect(store.groupCommit?.queuedBytes('w')).toBe(0);
  });

  it('a duplicate and a conflicting insert in one batch are told duplicate and conflict; the others are inserted', async () => {
    const first = env('w', 'a', 'd', 1);
    expect(await store.insertEnvelope(first)).toEqual({ status: 'inserted', relaySeq: 1 });
    const fresh = env('w', 'b', 'd', 1);
    const results = await Promise.all([
      store.insertEnvelope(env('w', 'a', 'd', 2)),
      store.insertEnvelope(first), // an identical re-send
      store.insertEnvelope(env('w', 'a', 'd', 1, 0xee)), // different bytes at a stored (workspace, device, doc, seq)
      store.insertEnvelope(fresh),
      store.insertEnvelope(fresh), // the same envelope twice in one batch
      store.insertEnvelope(env('w', 'b', 'd', 2, 0xaa)),
      store.insertEnvelope(env('w', 'b', 'd', 2, 0xbb)), // two different envelopes for one seq in one batch
    ]);
    expect(results).toEqual([
      { status: 'inserted', relaySeq: 2 },
      { status: 'duplicate', relaySeq: 1 },
      { status: 'conflict' },
      { status: 'inserted', relaySeq: 3 },
      { status: 'duplicate', relaySeq: 3 },
      { status: 'inserted', relaySeq: 4 },
      { status: 'conflict' },
    ]);
    expect(await store.headRelaySeq('w')).toBe(4);
    expect(await store.workspaceUsage('w')).toBe(4 * 32);
  });

  it('an insert that fails rolls back alone: the rest of its batch is stored and counted, with no gap in relay seqs', async () => {
    const good = [env('w', 'a', 'd', 1), env('w', 'b', 'd', 1), env('w', 'c', 'd', 1)];
    const bad = { ...env('w', 'x', 'd', 1), receivedAt: null as unknown as number }; // NOT NULL: fails inside its savepoint
    const settled = await Promise.allSettled([store.insertEnvelope(good[0]!), store.insertEnvelope(bad), store.insertEnvelope(good[1]!), store.insertEnvelope(good[2]!)]);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect(settled.filter((s) => s.status === 'fulfilled').map((s) => s.value)).toEqual([1, 2, 3].map((relaySeq) => ({ status: 'inserted', relaySeq })));
    expect(await store.getEnvelope('w', 'x', 'd', 1)).toBeUndefined();
    expect(await store.workspaceUsage('w')).toBe(3 * 32);
  });

  it('an envelope queued right behind one of its document that fails is not stored either (no gap in the document)', async () => {
    const bad = { ...env('w', 'a', 'd', 1), receivedAt: null as unknown as number };
    const failuresBefore = store.groupCommit!.failures;
    const settled = await Promise.allSettled([store.insertEnvelope(bad), store.insertEnvelope(env('w', 'a', 'd', 2)), store.insertEnvelope(env('w', 'b', 'd', 1))]);
    expect(settled.map((s) => s.status)).toEqual(['rejected', 'rejected', 'fulfilled']);
    expect(await store.lastSeq('w', 'a', 'd')).toBe(0);
    expect(await store.lastSeq('w', 'b', 'd')).toBe(1);
    expect(store.groupCommit!.failures).toBe(failuresBefore + 2);
  });

  it('nothing queued is visible to another reader of the file until it commits, and everything is once it settles', async () => {
    const reader = new Database(path, { readonly: true });
    try {
      const count = () => (reader.prepare('SELECT COUNT(*) AS n FROM envelopes').get() as { n: number }).n;
      const pending = Array.from({ length: 20 }, (_, i) => store.insertEnvelope(env('w', 'a', 'd', i + 1)));
      expect(count()).toBe(0);
      const seen: number[] = [];
      await Promise.all(pending.map((p) => p.then(() => seen.push(count()))));
      expect(seen).toEqual(Array(20).fill(20)); // each settled after the commit of all 20
    } finally {
      reader.close();
    }
  });

  it('closing the store with inserts queued commits them first: every one that settles inserted is in the file', async () => {
    const pending = Array.from({ length: 50 }, (_, i) => store.insertEnvelope(env('w', `dev${i % 3}`, 'd', Math.floor(i / 3) + 1)));
    await store.close();
    const results = await Promise.all(pending);
    expect(results.every((r) => r.status === 'inserted')).toBe(true);
    await expect(store.insertEnvelope(env('w', 'late', 'd', 1))).rejects.toThrow(/closed/);
    store = new SqliteStore(path);
    expect(await store.headRelaySeq('w')).toBe(50);
    expect((await store.listEnvelopes('w', 0, 100)).map((e) => e.hash)).toEqual(
      Array.from({ length: 50 }, (_, i) => env('w', `dev${i % 3}`, 'd', Math.floor(i / 3) + 1).hash),
    );
  });
});

describe('group commit behind the relay', () => {
  let t: TestRelay | undefined;
  afterEach(async () => {
    await t?.stop();
    t = undefined;
  });

  it('every pipelined push is on disk when its ack arrives: another reader of the file already sees it', async () => {
    t = await startTestRelay();
    const alice = device('alice');
    const w = await publishWorkspace(t.relay, alice);
    const a = await connect(t.relay, alice, [w.workspaceId]);
    const leaseId = leaseIdOf(a, w.workspaceId);
    const reader = new Database(t.dbPath, { readonly: true });
    try {
      const has = reader.prepare('SELECT relay_seq FROM envelopes WHERE hash = ?');
      // One document pipelined (each seq checked against the one queued before it) and ten others.
      const envs = [
        ...Array.from({ length: 150 }, (_, i) => envelope(alice, { workspaceId: w.workspaceId, docId: 'index', seq: i + 1, leaseId })),
        ...Array.from({ length: 50 }, (_, i) => envelope(alice, { workspaceId: w.workspaceId, docId: `rec-${i % 10}`, seq: Math.floor(i / 10) + 1, leaseId })),
      ];
      const onDisk: boolean[] = [];
      const acks = await Promise.all(envs.map((e) => a.push(e).then((r) => {
        onDisk.push(r.status === 'acked' && (has.get(hashOf(e)) as { relay_seq: number } | undefined)?.relay_seq === r.relaySeq);
        return r;
      })));
      expect(acks.map((r) => r.status)).toEqual(Array(200).fill('acked'));
      expect(onDisk).toEqual(Array(200).fill(true));
      expect(new Set(acks.map((r) => (r.status === 'acked' ? r.relaySeq : 0))).size).toBe(200);
      a.close();
      // A fresh store on the same file holds them all.
      await t.relay.close();
      const fresh = new SqliteStore(t.dbPath);
      try {
        expect(await fresh.headRelaySeq(w.workspaceId)).toBe(200);
        expect(await fresh.lastSeq(w.workspaceId, alice.deviceId, 'index')).toBe(150);
      } finally {
        await fresh.close();
      }
      await t.restart();
    } finally {
      reader.close();
    }
  });

  it('a re-send while the first copy is still queued is acknowledged as a duplicate, under the same relay seq', async () => {
    t = await startTestRelay();
    const alice = device('alice');
    const w = await publishWorkspace(t.relay, alice);
    const a = await connect(t.relay, alice, [w.workspaceId]);
    const leaseId = leaseIdOf(a, w.workspaceId);
    const e1 = envelope(alice, { workspaceId: w.workspaceId, seq: 1, leaseId });
    const e2 = envelope(alice, { workspaceId: w.workspaceId, seq: 2, leaseId });
    const [r1, again, r2] = await Promise.all([a.push(e1), a.push(e1), a.push(e2)]);
    expect(r1).toMatchObject({ status: 'acked', duplicate: false, relaySeq: 1 });
    expect(again).toMatchObject({ status: 'acked', duplicate: true, relaySeq: 1 });
    expect(r2).toMatchObject({ status: 'acked', duplicate: false, relaySeq: 2 });
    a.close();
  });

  it('push answers keep arrival order: a push refused at once is answered after the queued push before it', async () => {
    t = await startTestRelay();
    const alice = device('alice');
    const w = await publishWorkspace(t.relay, alice);
    const a = await connect(t.relay, alice, [w.workspaceId]);
    const leaseId = leaseIdOf(a, w.workspaceId);
    const order: string[] = [];
    const first = a.push(envelope(alice, { workspaceId: w.workspaceId, seq: 1, leaseId })).then((r) => order.push(`1 ${r.status}`));
    const gap = a.push(envelope(alice, { workspaceId: w.workspaceId, seq: 3, leaseId })).then((r) => order.push(`3 ${r.status === 'rejected' ? r.reason : r.status}`));
    await Promise.all([first, gap]);
    expect(order).toEqual(['1 acked', '3 seq_gap']);
    a.close();
  });

  it('a pull sent right after pipelined pushes on the same connection sees every one of them', async () => {
    t = await startTestRelay();
    const alice = device('alice');
    const w = await publishWorkspace(t.relay, alice);
    const a = await connect(t.relay, alice, [w.workspaceId]);
    const leaseId = leaseIdOf(a, w.workspaceId);
    const pushes = Array.from({ length: 40 }, (_, i) => a.push(envelope(alice, { workspaceId: w.workspaceId, seq: i + 1, leaseId })));
    const page = await a.pull(w.workspaceId, 0, 100, true);
    expect(page.envelopes.map((e) => e.relaySeq)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect((await Promise.all(pushes)).every((r) => r.status === 'acked')).toBe(true);
    a.close();
  });

  it('queued envelopes count against the quota: a pipelined burst cannot pass it', async () => {
    t = await startTestRelay();
    const alice = device('alice');
    const w = await publishWorkspace(t.relay, alice, [], { maxOfflineMs: 24 * 3600_000, leasePolicy: 'reject' });
    const a = await connect(t.relay, alice, [w.workspaceId]);
    const leaseId = leaseIdOf(a, w.workspaceId);
    const envs = Array.from({ length: 200 }, (_, i) => envelope(alice, { workspaceId: w.workspaceId, docId: `doc-${i}`, seq: 1, leaseId, plaintext: new Uint8Array(1000).fill(i) }));
    a.close();
    await t.relay.close();
    const s = new SqliteStore(t.dbPath);
    const logBytes = await s.workspaceUsage(w.workspaceId);
    await s.close();
    // Room for exactly three of them.
    const quota = logBytes + envs[0]!.length * 3 + Math.floor(envs[0]!.length / 2);
    t = await startTestRelay({ dir: t.dir, limits: { quotaBytes: quota } });
    const b = await connect(t.relay, alice, [w.workspaceId]);
    const results = await Promise.all(envs.map((e) => b.push(e)));
    expect(results.filter((r) => r.status === 'acked')).toHaveLength(3);
    expect(results.filter((r) => r.status === 'rejected' && r.reason === 'quota_exceeded')).toHaveLength(197);
    b.close();
    await t.relay.close();
    const after = new SqliteStore(t.dbPath);
    expect(await after.workspaceUsage(w.workspaceId)).toBeLessThanOrEqual(quota);
    await after.close();
    t = await startTestRelay({ dir: t.dir }); // for afterEach's stop()
  });
});
