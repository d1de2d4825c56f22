// The RelayStore acceptance suite: every backend (SQLite now, PostgreSQL later) must pass it.
// Call it inside a test file with a setup that returns a fresh, empty store and its teardown.
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NewEnvelope, RelayStore } from '../../../relay/store/RelayStore.ts';

export interface StoreSetup {
  store: RelayStore;
  /** Closes the store (if open) and removes its data. */
  teardown: () => Promise<void>;
  /** Closes and reopens the same data, when the backend is persistent. */
  reopen?: () => Promise<RelayStore>;
}

const hashOf = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

function env(workspaceId: string, deviceId: string, docId: string, seq: number, fill = seq): NewEnvelope {
  // Distinct bytes per (workspace, device, doc, seq, fill), like a real envelope whose header names them.
  const bytes = new Uint8Array(createHash('sha256').update(`${workspaceId}|${deviceId}|${docId}|${seq}|${fill}`).digest());
  return { workspaceId, deviceId, docId, seq, hash: hashOf(bytes), bytes, receivedAt: 1000 + seq };
}

export function runRelayStoreTests(name: string, setup: () => Promise<StoreSetup>): void {
  describe(`RelayStore acceptance: ${name}`, () => {
    let s: StoreSetup;
    let store: RelayStore;
    beforeEach(async () => {
      s = await setup();
      store = s.store;
    });
    afterEach(async () => {
      await s.teardown();
    });

    it('keeps the relay key it generated on first start', async () => {
      const k1 = await store.getOrCreateRelayKey(() => new Uint8Array(32).fill(7));
      const k2 = await store.getOrCreateRelayKey(() => new Uint8Array(32).fill(9));
      expect(k1).toEqual(new Uint8Array(32).fill(7));
      expect(k2).toEqual(k1);
    });

    it('appends log entries only at the next position, per workspace', async () => {
      expect(await store.listLogEntries('w1')).toEqual([]);
      expect(await store.appendLogEntry('w1', 0, Uint8Array.of(1))).toBe(true);
      expect(await store.appendLogEntry('w1', 0, Uint8Array.of(2))).toBe(false);
      expect(await store.appendLogEntry('w1', 2, Uint8Array.of(3))).toBe(false);
      expect(await store.appendLogEntry('w1', 1, Uint8Array.of(4))).toBe(true);
      expect(await store.appendLogEntry('w2', 0, Uint8Array.of(5))).toBe(true);
      expect(await store.listLogEntries('w1')).toEqual([Uint8Array.of(1), Uint8Array.of(4)]);
      expect(await store.listLogEntries('w2')).toEqual([Uint8Array.of(5)]);
    });

    it('gives each workspace its own gapless relay seq', async () => {
      expect(await store.insertEnvelope(env('w1', 'a', 'd', 1))).toEqual({ status: 'inserted', relaySeq: 1 });
      expect(await store.insertEnvelope(env('w2', 'a', 'd', 1))).toEqual({ status: 'inserted', relaySeq: 1 });
      expect(await store.insertEnvelope(env('w1', 'b', 'd', 1))).toEqual({ status: 'inserted', relaySeq: 2 });
      expect(await store.headRelaySeq('w1')).toBe(2);
      expect(await store.headRelaySeq('w3')).toBe(0);
    });

    it('a replayed envelope is acknowledged with its original relay seq and stored once', async () => {
      const e = env('w', 'a', 'd', 1);
      await store.insertEnvelope(env('w', 'b', 'd', 1));
      expect(await store.insertEnvelope(e)).toEqual({ status: 'inserted', relaySeq: 2 });
      expect(await store.insertEnvelope({ ...e, receivedAt: 99 })).toEqual({ status: 'duplicate', relaySeq: 2 });
      expect(await store.listEnvelopes('w', 0, 100)).toHaveLength(2);
    });

    it('refuses different bytes at a used (device, doc, seq)', async () => {
      await store.insertEnvelope(env('w', 'a', 'd', 1));
      expect(await store.insertEnvelope(env('w', 'a', 'd', 1, 0xee))).toEqual({ status: 'conflict' });
      expect((await store.getEnvelope('w', 'a', 'd', 1))!.bytes).toEqual(env('w', 'a', 'd', 1).bytes);
    });

    it('tracks the last seq per (device, doc)', async () => {
      expect(await store.lastSeq('w', 'a', 'd')).toBe(0);
      for (let i = 1; i <= 3; i++) await store.insertEnvelope(env('w', 'a', 'd', i));
      await store.insertEnvelope(env('w', 'a', 'e', 1));
      expect(await store.lastSeq('w', 'a', 'd')).toBe(3);
      expect(await store.lastSeq('w', 'a', 'e')).toBe(1);
      expect(await store.lastSeq('w', 'b', 'd')).toBe(0);
      expect(await store.getEnvelope('w', 'a', 'd', 4)).toBeUndefined();
    });

    it('lists envelopes after a cursor with a limit, in relay order', async () => {
      for (let i = 1; i <= 10; i++) await store.insertEnvelope(env('w', 'a', 'd', i));
      const page1 = await store.listEnvelopes('w', 0, 4);
      expect(page1.map((e) => e.relaySeq)).toEqual([1, 2, 3, 4]);
      const page2 = await store.listEnvelopes('w', 4, 100);
      expect(page2.map((e) => e.seq)).toEqual([5, 6, 7, 8, 9, 10]);
      expect(page2[0]!.bytes).toEqual(env('w', 'a', 'd', 5).bytes);
      expect(page2[0]!.receivedAt).toBe(1005);
      expect(await store.listEnvelopes('w', 10, 100)).toEqual([]);
    });

    it('concurrent inserts get distinct, gapless relay seqs; a concurrent re-send is stored once', async () => {
      const envs = Array.from({ length: 20 }, (_, i) => env('w', `dev${i % 4}`, 'd', Math.floor(i / 4) + 1));
      const results = await Promise.all(envs.map((e) => store.insertEnvelope(e)));
      const seqs = results.map((r) => (r.status === 'inserted' ? r.relaySeq : -1)).sort((a, b) => a - b);
      expect(seqs).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
      const again = env('w', 'x', 'd', 1);
      const same = await Promise.all([1, 2, 3, 4].map(() => store.insertEnvelope(again)));
      expect(same.filter((r) => r.status === 'inserted')).toHaveLength(1);
      expect(new Set(same.map((r) => (r.status === 'conflict' ? 'c' : r.relaySeq)))).toEqual(new Set([21]));
      expect(await store.headRelaySeq('w')).toBe(21);
    });

    it('keeps leases by id', async () => {
      const l = { leaseId: 'L1', workspaceId: 'w', deviceId: 'a', issuedAt: 1, notAfter: 2, bytes: Uint8Array.of(9) };
      await store.putLease(l);
      expect(await store.getLease('L1')).toEqual(l);
      expect(await store.getLease('L2')).toBeUndefined();
    });

    it('holds envelopes and releases them into the relay order on approval', async () => {
      await store.insertEnvelope(env('w', 'b', 'd', 1));
      const e = env('w', 'a', 'd', 1);
      const id = await store.insertHeld({ ...e, reason: 'lease_expired' });
      expect(await store.insertHeld({ ...e, reason: 'lease_expired' })).toBe(id);
      expect(await store.lastHeldSeq('w', 'a', 'd')).toBe(1);
      expect((await store.getHeldAt('w', 'a', 'd', 1))!.heldId).toBe(id);
      expect((await store.listHeld('w')).map((h) => h.reason)).toEqual(['lease_expired']);
      expect(await store.releaseHeld('w', id)).toEqual({ status: 'inserted', relaySeq: 2 });
      expect(await store.listHeld('w')).toEqual([]);
      expect(await store.releaseHeld('w', id)).toBeUndefined();
      expect(await store.lastSeq('w', 'a', 'd')).toBe(1);
    });

    it('keeps everything across a close and reopen', async () => {
      if (!s.reopen) return;
      await store.getOrCreateRelayKey(() => new Uint8Array(32).fill(3));
      await store.appendLogEntry('w', 0, Uint8Array.of(1));
      await store.insertEnvelope(env('w', 'a', 'd', 1));
      store = await s.reopen();
      expect(await store.getOrCreateRelayKey(() => new Uint8Array(32).fill(4))).toEqual(new Uint8Array(32).fill(3));
      expect(await store.listLogEntries('w')).toEqual([Uint8Array.of(1)]);
      expect(await store.lastSeq('w', 'a', 'd')).toBe(1);
    });

    it('keeps each device-link mailbox slot write-once until it expires, then forgets it', async () => {
      const item = (slot: string, fill: number, expiresAt = 2000) => ({ boxId: 'box-0123456789abcdef', slot, data: new Uint8Array(8).fill(fill), createdAt: 1000, expiresAt });
      expect(await store.getMailboxItem('box-0123456789abcdef', 'request', 1000)).toBeUndefined();
      expect(await store.putMailboxItem(item('request', 1), 1000)).toBe(true);
      expect(await store.putMailboxItem(item('request', 2), 1500)).toBe(false); // written once
      expect(await store.putMailboxItem(item('offer', 3), 1500)).toBe(true);
      expect((await store.getMailboxItem('box-0123456789abcdef', 'request', 1999))?.data).toEqual(new Uint8Array(8).fill(1));
      expect(await store.countMailboxItems(1999)).toBe(2);
      expect(await store.getMailboxItem('box-0123456789abcdef', 'request', 2000)).toBeUndefined(); // expired
      expect(await store.countMailboxItems(2000)).toBe(0);
      expect(await store.deleteExpiredMailboxItems(2000)).toBe(2);
      // An expired slot may be opened afresh.
      expect(await store.putMailboxItem(item('request', 4, 9000), 2000)).toBe(true);
      expect((await store.getMailboxItem('box-0123456789abcdef', 'request', 2000))?.data).toEqual(new Uint8Array(8).fill(4));
    });

    it('prunes leases whose notAfter is before a time, and only those', async () => {
      const l = (leaseId: string, notAfter: number) => ({ leaseId, workspaceId: 'w', deviceId: 'a', issuedAt: 1, notAfter, bytes: Uint8Array.of(1) });
      await store.putLease(l('old', 100));
      await store.putLease(l('edge', 200));
      await store.putLease(l('live', 300));
      expect(await store.deleteExpiredLeases(200)).toBe(1);
      expect(await store.getLease('old')).toBeUndefined();
      expect(await store.getLease('edge')).toBeDefined();
      expect(await store.deleteExpiredLeases(301)).toBe(2);
      expect(await store.deleteExpiredLeases(1000)).toBe(0);
    });

    it('counts each workspace\'s stored bytes (envelopes, held, log) in step with inserts, re-sends and releases', async () => {
      expect(await store.workspaceUsage('w')).toBe(0);
      await store.appendLogEntry('w', 0, new Uint8Array(100));
      expect(await store.appendLogEntry('w', 0, new Uint8Array(50))).toBe(false); // refused: not counted
      const e1 = env('w', 'a', 'd', 1); // 32 bytes
      await store.insertEnvelope(e1);
      await store.insertEnvelope(e1); // duplicate: not counted again
      await store.insertEnvelope(env('w', 'a', 'd', 1, 0xee)); // conflict: not counted
      expect(await store.workspaceUsage('w')).toBe(132);
      const h = env('w', 'b', 'd', 1);
      const id = await store.insertHeld({ ...h, reason: 'lease_unknown' });
      await store.insertHeld({ ...h, reason: 'lease_unknown' }); // same held envelope: once
      expect(await store.workspaceUsage('w')).toBe(164);
      await store.releaseHeld('w', id); // moves from held to envelopes: unchanged
      expect(await store.workspaceUsage('w')).toBe(164);
      await store.insertEnvelope(env('w2', 'a', 'd', 1));
      expect(await store.workspaceUsage('w2')).toBe(32);
      expect(await store.usageTotals(100)).toEqual({ totalBytes: 196, workspaces: 2, atOrAbove: 1 });
      expect(await store.usageTotals(1)).toEqual({ totalBytes: 196, workspaces: 2, atOrAbove: 2 });
      // Concurrent inserts all count.
      await Promise.all(Array.from({ length: 10 }, (_, i) => store.insertEnvelope(env('w3', `d${i}`, 'd', 1))));
      expect(await store.workspaceUsage('w3')).toBe(320);
    });

    it('keeps signup tokens by hash: each use taken once, atomically; expiry; refunds', async () => {
      await store.putSignupToken({ tokenHash: 'h1', usesLeft: 2, createdAt: 1, expiresAt: 1000 });
      await store.putSignupToken({ tokenHash: 'h2', usesLeft: 1, createdAt: 1 });
      expect(await store.useSignupToken('nope', 10)).toBe('unknown');
      expect(await store.useSignupToken('h1', 1001)).toBe('expired');
      expect(await store.useSignupToken('h1', 1000)).toBe('ok');
      expect(await store.useSignupToken('h1', 10)).toBe('ok');
      expect(await store.useSignupToken('h1', 10)).toBe('used_up');
      await store.refundSignupToken('h1');
      expect(await store.useSignupToken('h1', 10)).toBe('ok');
      // Racing uses of a single-use token: exactly one wins.
      const race = await Promise.all([1, 2, 3, 4, 5].map(() => store.useSignupToken('h2', 10)));
      expect(race.filter((r) => r === 'ok')).toHaveLength(1);
      expect(race.filter((r) => r === 'used_up')).toHaveLength(4);
    });

    it('keeps the admission allowlist of devices', async () => {
      expect(await store.isDeviceAllowed('dev-a')).toBe(false);
      await store.allowDevice('dev-b', 1);
      await store.allowDevice('dev-a', 1);
      await store.allowDevice('dev-a', 2); // idempotent
      expect(await store.isDeviceAllowed('dev-a')).toBe(true);
      expect(await store.listAllowedDevices()).toEqual(['dev-a', 'dev-b']);
      expect(await store.disallowDevice('dev-a')).toBe(true);
      expect(await store.disallowDevice('dev-a')).toBe(false);
      expect(await store.listAllowedDevices()).toEqual(['dev-b']);
    });

    it('opens at the latest schema version, and reopening migrates nothing', async () => {
      const v = await store.schemaVersion();
      expect(v).toBeGreaterThanOrEqual(2);
      expect(store.migration.to).toBe(v);
      if (!s.reopen) return;
      store = await s.reopen();
      expect(store.migration).toEqual({ from: v, to: v });
    });
  });
}
