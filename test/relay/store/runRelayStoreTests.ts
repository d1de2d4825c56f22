// The RelayStore acceptance suite: every backend (SQLite now, PostgreSQL later) must pass it.
// Call it inside a test file with a setup that returns a fresh, empty store and its teardown.
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NewEnvelope, NewSnapshot, RelayStore } from '../../../relay/store/RelayStore.ts';

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

/** A snapshot of (workspace, doc) by `deviceId`, with distinct bytes per `tag` and the given covers. */
function snap(workspaceId: string, docId: string, tag: string, covers: { deviceId: string; seq: number }[], receivedAt = 5000, size = 100): NewSnapshot {
  const bytes = new Uint8Array(size);
  bytes.set(createHash('sha256').update(`${workspaceId}|${docId}|${tag}`).digest().subarray(0, size));
  return {
    workspaceId, docId, deviceId: 'a', snapshotId: createHash('sha256').update(`id|${tag}`).digest('hex'), covers,
    hash: hashOf(bytes), bytes, receivedAt,
  };
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

    it('stores a snapshot under a per-workspace snapshot seq; the same snapshot id or the same bytes is a duplicate', async () => {
      const s1 = snap('w', 'd', 's1', [{ deviceId: 'a', seq: 2 }]);
      expect(await store.insertSnapshot(s1, 3)).toEqual({ status: 'inserted', snapshotSeq: 1 });
      expect(await store.insertSnapshot(snap('w2', 'd', 'x', []), 3)).toEqual({ status: 'inserted', snapshotSeq: 1 });
      expect(await store.insertSnapshot(snap('w', 'e', 's2', []), 3)).toEqual({ status: 'inserted', snapshotSeq: 2 });
      // Same snapshot id, other bytes (another seal of the same heads): a duplicate, not stored again.
      const sameId = { ...snap('w', 'd', 'other', []), snapshotId: s1.snapshotId };
      expect(await store.insertSnapshot(sameId, 3)).toEqual({ status: 'duplicate', snapshotSeq: 1 });
      // Same bytes under another id: a duplicate too.
      expect(await store.insertSnapshot({ ...s1, snapshotId: 'f'.repeat(64), receivedAt: 9 }, 3)).toEqual({ status: 'duplicate', snapshotSeq: 1 });
      const listed = await store.listSnapshots('w', 0, 10, 'd');
      expect(listed).toHaveLength(1);
      expect(listed[0]).toMatchObject({ workspaceId: 'w', docId: 'd', deviceId: 'a', snapshotSeq: 1, snapshotId: s1.snapshotId, covers: [{ deviceId: 'a', seq: 2 }], hash: s1.hash, receivedAt: 5000 });
      expect(listed[0]!.bytes).toEqual(s1.bytes);
      expect(listed[0]!.prunedAt).toBeUndefined();
      expect(await store.workspaceUsage('w')).toBe(200);
    });

    it('keeps only the newest keepPerDoc snapshots of a document, and counts the dropped ones out of the usage', async () => {
      for (let i = 1; i <= 5; i++) await store.insertSnapshot(snap('w', 'd', `s${i}`, [], 5000, 10 * i), 3);
      await store.insertSnapshot(snap('w', 'e', 'e1', [], 5000, 7), 3);
      expect((await store.listSnapshots('w', 0, 10, 'd')).map((s) => s.snapshotSeq)).toEqual([5, 4, 3]);
      expect(await store.workspaceUsage('w')).toBe(50 + 40 + 30 + 7);
      expect(await store.usageTotals(1)).toMatchObject({ totalBytes: 127, workspaces: 1 });
      // A snapshot dropped by keepPerDoc may come back: it is stored anew, as the newest.
      expect(await store.insertSnapshot(snap('w', 'd', 's1', [], 5000, 10), 1)).toEqual({ status: 'inserted', snapshotSeq: 7 });
      expect((await store.listSnapshots('w', 0, 10, 'd')).map((s) => s.snapshotSeq)).toEqual([7]);
      expect(await store.workspaceUsage('w')).toBe(10 + 7);
    });

    it('concurrent snapshot inserts get distinct snapshot seqs, and a concurrent re-send is stored once', async () => {
      const results = await Promise.all(Array.from({ length: 12 }, (_, i) => store.insertSnapshot(snap('w', `d${i % 3}`, `s${i}`, [], 5000, 10), 2)));
      expect(results.map((r) => r.snapshotSeq).sort((a, b) => a - b)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
      const again = snap('w', 'x', 'again', [], 5000, 10);
      const same = await Promise.all([1, 2, 3, 4].map(() => store.insertSnapshot(again, 2)));
      expect(same.filter((r) => r.status === 'inserted')).toHaveLength(1);
      expect(new Set(same.map((r) => r.snapshotSeq))).toEqual(new Set([13]));
      for (const d of ['d0', 'd1', 'd2']) expect(await store.listSnapshots('w', 0, 10, d)).toHaveLength(2);
      expect(await store.workspaceUsage('w')).toBe(7 * 10);
    });

    it('lists the newest snapshot of each document after a cursor, ascending, in pages; by document, all kept, newest first', async () => {
      await store.insertSnapshot(snap('w', 'a', 'a1', []), 3); // 1
      await store.insertSnapshot(snap('w', 'b', 'b1', []), 3); // 2
      await store.insertSnapshot(snap('w', 'a', 'a2', []), 3); // 3
      await store.insertSnapshot(snap('w', 'c', 'c1', []), 3); // 4
      await store.insertSnapshot(snap('w', 'b', 'b2', []), 3); // 5
      await store.insertSnapshot(snap('v', 'a', 'other workspace', []), 3);
      const all = await store.listSnapshots('w', 0, 10);
      expect(all.map((s) => [s.docId, s.snapshotSeq])).toEqual([['a', 3], ['c', 4], ['b', 5]]);
      const page1 = await store.listSnapshots('w', 0, 2);
      expect(page1.map((s) => s.snapshotSeq)).toEqual([3, 4]);
      expect((await store.listSnapshots('w', 4, 2)).map((s) => s.snapshotSeq)).toEqual([5]);
      expect(await store.listSnapshots('w', 5, 2)).toEqual([]);
      expect((await store.listSnapshots('w', 0, 10, 'a')).map((s) => s.snapshotSeq)).toEqual([3, 1]);
      expect((await store.listSnapshots('w', 0, 1, 'a')).map((s) => s.snapshotSeq)).toEqual([3]);
      expect(await store.listSnapshots('w', 0, 10, 'zzz')).toEqual([]);
      expect(await store.listSnapshots('nowhere', 0, 10)).toEqual([]);
    });

    it('names the snapshots due for pruning: received at or before a time, not pruned yet, oldest first', async () => {
      await store.insertSnapshot(snap('w', 'a', 'late', [], 3000), 3);
      await store.insertSnapshot(snap('w', 'b', 'early', [], 1000), 3);
      await store.insertSnapshot(snap('v', 'a', 'edge', [], 2000), 3);
      expect((await store.snapshotsDueForPruning(2000, 10)).map((s) => s.receivedAt)).toEqual([1000, 2000]);
      expect((await store.snapshotsDueForPruning(5000, 2)).map((s) => s.receivedAt)).toEqual([1000, 2000]);
      expect(await store.snapshotsDueForPruning(999, 10)).toEqual([]);
      const [first] = await store.snapshotsDueForPruning(1000, 10);
      await store.pruneCoveredEnvelopes(first!, 7000);
      expect((await store.snapshotsDueForPruning(5000, 10)).map((s) => s.receivedAt)).toEqual([2000, 3000]);
      expect((await store.listSnapshots('w', 0, 10, 'b'))[0]!.prunedAt).toBe(7000);
    });

    it('pruning deletes exactly the covered envelopes but each (device, doc)\'s newest, remembers prunedThrough, counts usage, and happens once', async () => {
      for (let i = 1; i <= 5; i++) await store.insertEnvelope(env('w', 'a', 'd', i)); // relay seqs 1-5
      for (let i = 1; i <= 3; i++) await store.insertEnvelope(env('w', 'b', 'd', i)); // 6-8
      for (let i = 1; i <= 2; i++) await store.insertEnvelope(env('w', 'a', 'other', i)); // 9-10: another doc
      await store.insertEnvelope(env('w', 'c', 'd', 1)); // 11: not covered
      await store.insertEnvelope(env('v', 'a', 'd', 1)); // another workspace
      const before = await store.workspaceUsage('w');
      // Covers a through 3 (of 5) and b through 3 (its newest: kept); names a device with nothing stored.
      await store.insertSnapshot(snap('w', 'd', 's', [{ deviceId: 'a', seq: 3 }, { deviceId: 'b', seq: 3 }, { deviceId: 'z', seq: 9 }], 1000, 50), 3);
      const [due] = await store.snapshotsDueForPruning(1000, 10);
      expect(await store.pruneCoveredEnvelopes(due!, 2000)).toBe(3 + 2);
      const left = (await store.listEnvelopes('w', 0, 100)).map((e) => `${e.deviceId}/${e.docId}/${e.seq}`);
      expect(left).toEqual(['a/d/4', 'a/d/5', 'b/d/3', 'a/other/1', 'a/other/2', 'c/d/1']);
      expect(await store.lastSeq('w', 'a', 'd')).toBe(5);
      expect(await store.lastSeq('w', 'b', 'd')).toBe(3);
      expect(await store.headRelaySeq('w')).toBe(11);
      expect(await store.prunedThrough('w', 'a', 'd')).toBe(3);
      expect(await store.prunedThrough('w', 'b', 'd')).toBe(2);
      expect(await store.prunedThrough('w', 'c', 'd')).toBe(0);
      expect(await store.prunedThrough('w', 'z', 'd')).toBe(0);
      expect(await store.prunedThrough('w', 'a', 'other')).toBe(0);
      expect(await store.listEnvelopes('v', 0, 10)).toHaveLength(1);
      expect(await store.workspaceUsage('w')).toBe(before + 50 - 5 * 32);
      // The same snapshot again (a second relay instance, or a retry): nothing more is deleted.
      expect(await store.pruneCoveredEnvelopes(due!, 3000)).toBe(0);
      const again = await Promise.all([1, 2, 3].map(() => store.pruneCoveredEnvelopes(due!, 4000)));
      expect(again).toEqual([0, 0, 0]);
      expect((await store.listSnapshots('w', 0, 10, 'd'))[0]!.prunedAt).toBe(2000);
      expect(await store.workspaceUsage('w')).toBe(before + 50 - 5 * 32);
      // New envelopes keep their seqs after the pruned ones; the relay seq never goes back.
      expect(await store.insertEnvelope(env('w', 'a', 'd', 6))).toEqual({ status: 'inserted', relaySeq: 12 });
    });

    it('concurrent prunes of one snapshot delete its envelopes once', async () => {
      for (let i = 1; i <= 6; i++) await store.insertEnvelope(env('w', 'a', 'd', i));
      await store.insertSnapshot(snap('w', 'd', 's', [{ deviceId: 'a', seq: 6 }], 1000), 3);
      const [due] = await store.snapshotsDueForPruning(1000, 10);
      const counts = await Promise.all([1, 2, 3, 4].map((i) => store.pruneCoveredEnvelopes(due!, 2000 + i)));
      expect(counts.sort()).toEqual([0, 0, 0, 5]);
      expect((await store.listEnvelopes('w', 0, 10)).map((e) => e.seq)).toEqual([6]);
      expect(await store.workspaceUsage('w')).toBe(32 + 100);
    });

    it('pruning never deletes what a newer snapshot of the document does not cover, nor the workspace\'s highest relay seq', async () => {
      for (let i = 1; i <= 5; i++) await store.insertEnvelope(env('w', 'a', 'd', i));
      for (let i = 1; i <= 5; i++) await store.insertEnvelope(env('w', 'b', 'd', i));
      await store.insertSnapshot(snap('w', 'd', 'old', [{ deviceId: 'a', seq: 4 }, { deviceId: 'b', seq: 4 }], 1000), 3);
      // A newer snapshot from a device that lagged: it holds a only through 2, and b not at all.
      await store.insertSnapshot(snap('w', 'd', 'lagging', [{ deviceId: 'a', seq: 2 }], 1500), 3);
      const [old] = await store.snapshotsDueForPruning(1000, 10);
      expect(await store.pruneCoveredEnvelopes(old!, 2000)).toBe(2);
      expect((await store.listEnvelopes('w', 0, 100)).map((e) => `${e.deviceId}${e.seq}`)).toEqual(['a3', 'a4', 'a5', 'b1', 'b2', 'b3', 'b4', 'b5']);
      expect(await store.prunedThrough('w', 'a', 'd')).toBe(2);
      expect(await store.prunedThrough('w', 'b', 'd')).toBe(0);
      // A released held envelope can carry an older seq at the highest relay seq: it stays.
      await store.insertEnvelope(env('w', 'c', 'd', 2));
      const id = await store.insertHeld({ ...env('w', 'c', 'd', 1), reason: 'lease_expired' });
      expect(await store.releaseHeld('w', id)).toEqual({ status: 'inserted', relaySeq: 12 });
      await store.insertSnapshot(snap('w', 'd', 'c', [{ deviceId: 'c', seq: 2 }], 1600), 1);
      const due = await store.snapshotsDueForPruning(1600, 10);
      expect(due.map((s) => s.receivedAt)).toEqual([1600]);
      expect(await store.pruneCoveredEnvelopes(due[0]!, 2000)).toBe(0);
      expect(await store.headRelaySeq('w')).toBe(12);
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
      expect(v).toBeGreaterThanOrEqual(3);
      expect(store.migration.to).toBe(v);
      if (!s.reopen) return;
      store = await s.reopen();
      expect(store.migration).toEqual({ from: v, to: v });
    });
  });
}
