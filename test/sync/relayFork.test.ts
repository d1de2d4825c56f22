// Story: a relay forks the membership log between two members (DESIGN → Membership log: "fork the
// log, which the first envelope or log exchange between forked members reveals"). The relay's key
// lives in its SQLite database, so a copy of the database is a second relay with the same key: R1
// (the original) shows alice's change at index n, R2 (the copy) shows bob's different change there.
// Each countersigned its entry, so when alice next exchanges with R2 and bob with R1 both hold proof
// of the fork: they raise log_fork, keep both countersigned links as evidence, and stop syncing.
import { copyFileSync, existsSync } from 'node:fs';
import { join as pathJoin } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { fromBase64url } from '../../src/crypto/bytes.ts';
import type { PublicKey } from '../../src/crypto/keys.ts';
import { SyncError } from '../../src/docs/sync/syncTypes.ts';
import { decodeLink, verifyCountersig } from '../../src/identity/workspace/chainLink.ts';
import { newIntent, type IntentAction } from '../../src/identity/workspace/intents.ts';
import { replayLog } from '../../src/identity/workspace/log.ts';
import { loadWorkspace, saveWorkspace } from '../../src/identity/workspace/store.ts';
import { startRelay, type RunningRelay } from '../../relay/server.ts';
import { SqliteStore } from '../../relay/store/SqliteStore.ts';
import { integrationTimeouts } from '../timeouts.ts';
import { cleanupDirs, createStoredWorkspace, invite, join, makeUser, open, syncUser, tempDir, type User } from './helpers.ts';

integrationTimeouts();

const running: RunningRelay[] = [];
afterAll(async () => {
  for (const r of running.splice(0)) await r.close().catch(() => undefined);
  cleanupDirs();
});

async function relayOn(dbPath: string): Promise<RunningRelay> {
  const r = await startRelay({ store: new SqliteStore(dbPath), port: 0, host: '127.0.0.1', logger: pino({ level: 'silent' }) });
  running.push(r);
  return r;
}

async function stopRelay(r: RunningRelay): Promise<void> {
  await r.close();
  running.splice(running.indexOf(r), 1);
}

/** Record a membership change as the CLI does: a pending intent, appended at the next sync. */
function addIntent(u: User, workspaceId: string, action: IntentAction): void {
  const w = loadWorkspace(u.home, u.vault.dataKey, workspaceId);
  if (!w.ok) throw new Error(`no workspace: ${w.reason}`);
  saveWorkspace(u.home, u.vault.dataKey, { ...w.value, intents: [...(w.value.intents ?? []), newIntent(action, Date.now())] });
}

function chainLength(u: User, workspaceId: string): number {
  const w = loadWorkspace(u.home, u.vault.dataKey, workspaceId);
  if (!w.ok) throw new Error(`no workspace: ${w.reason}`);
  const st = replayLog(w.value.entries);
  if (!st.ok) throw new Error(st.reason);
  return st.value.order.length;
}

async function syncError(u: User, relayUrl: string): Promise<SyncError> {
  const e = await syncUser(u, relayUrl).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(SyncError);
  return e as SyncError;
}

async function forkOf(u: User) {
  const o = await open(u);
  try {
    return (await o.s.syncState.load()).fork;
  } finally {
    await o.close();
  }
}

describe('a relay that forks the membership log', () => {
  it('the relay forks the log between two members, and both detect it on their next exchange', async () => {
    const dir = tempDir('cloister-forkrelay-');
    const dbPath = pathJoin(dir, 'relay.sqlite');
    const r = await relayOn(dbPath);
    const relayPub = r.relayPub as PublicKey;

    const alice = await makeUser('alice');
    const bob = await makeUser('bob');
    const ws = createStoredWorkspace(alice, 'Clinic', r.url);
    const token = invite(alice, ws, 'admin');
    await syncUser(alice, r.url); // publishes the root and the invitation
    await join(bob, token, r.url);
    // Both pin the relay key and reach the same head (alice may re-key for bob's device meanwhile).
    for (const u of [alice, bob, alice, bob]) await syncUser(u, r.url);
    const n = chainLength(alice, ws);
    expect(chainLength(bob, ws)).toBe(n);

    // The relay becomes two: R1 on its database, R2 on a copy (same key, same log so far).
    await stopRelay(r);
    const copyDir = tempDir('cloister-forkrelay-copy-');
    const copyPath = pathJoin(copyDir, 'relay.sqlite');
    for (const suffix of ['', '-wal', '-shm']) if (existsSync(dbPath + suffix)) copyFileSync(dbPath + suffix, copyPath + suffix);
    const r1 = await relayOn(dbPath);
    const r2 = await relayOn(copyPath);
    expect(Buffer.from(r1.relayPub).equals(Buffer.from(relayPub))).toBe(true);
    expect(Buffer.from(r2.relayPub).equals(Buffer.from(relayPub))).toBe(true);

    // Each admin makes a different change, each through "their" relay: both are countersigned at index n.
    addIntent(alice, ws, { kind: 'set_policy', policy: { maxOfflineMs: 7 * 24 * 3_600_000, leasePolicy: 'reject' } });
    const sa = await syncUser(alice, r1.url);
    expect(sa.logSent).toBe(1);
    addIntent(bob, ws, { kind: 'set_policy', policy: { maxOfflineMs: 2 * 24 * 3_600_000, leasePolicy: 'hold' } });
    const sb = await syncUser(bob, r2.url);
    expect(sb.logSent).toBe(1);
    expect(chainLength(alice, ws)).toBe(n + 1);
    expect(chainLength(bob, ws)).toBe(n + 1);

    // The next exchange with the other side's relay reveals the fork to each of them.
    const ea = await syncError(alice, r2.url);
    expect(ea.code).toBe('log_fork');
    const eb = await syncError(bob, r1.url);
    expect(eb.code).toBe('log_fork');

    for (const [u, mine, other] of [[alice, 'reject', 'hold'], [bob, 'hold', 'reject']] as const) {
      const fork = await forkOf(u);
      expect(fork, `${u.name} keeps the evidence`).toBeDefined();
      expect(fork!.index).toBe(n);
      expect(fork!.detectedAt).toBeGreaterThan(0);
      const ours = decodeLink(fromBase64url(fork!.ours)!);
      const theirs = decodeLink(fromBase64url(fork!.theirs)!);
      if (!ours.ok || !theirs.ok) throw new Error('evidence does not decode');
      expect(ours.value.entry.id).not.toBe(theirs.value.entry.id);
      for (const l of [ours.value, theirs.value]) {
        expect(l.entry.body.index).toBe(n);
        expect(l.countersig, 'both links carry the relay countersignature').toBeDefined();
        expect(verifyCountersig(relayPub, l.entry, l.countersig!)).toBe(true);
      }
      expect(ours.value.entry.body.prev).toBe(theirs.value.entry.body.prev); // same parent: a fork, not a gap
      expect((ours.value.entry.body as { policy?: { leasePolicy: string } }).policy?.leasePolicy).toBe(mine);
      expect((theirs.value.entry.body as { policy?: { leasePolicy: string } }).policy?.leasePolicy).toBe(other);
    }

    // Syncing stays stopped, even through the relay that showed each of them their own change.
    expect((await syncError(alice, r1.url)).code).toBe('log_fork');
    expect((await syncError(bob, r2.url)).code).toBe('log_fork');
    expect((await forkOf(alice))!.index).toBe(n); // the first evidence is kept
  });
});
