// Snapshots end to end (docs/SNAPSHOTS.md): members seal snapshots as documents grow; a new device
// starts from the newest snapshot it can verify and applies only the tail; a snapshot is trusted only
// as far as its author, and checked against the signed envelopes the reader holds or still receives.
import * as A from '@automerge/automerge';
import type { DocumentId } from '@automerge/automerge-repo';
import { pino } from 'pino';
import { join as pathJoin } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256 } from '@noble/hashes/sha2.js';
import { toHex } from '../../src/crypto/bytes.ts';
import { decodeSnapshot } from '../../src/protocol/snapshot.ts';
import { openSnapshot } from '../../src/docs/snapshots/openSnapshot.ts';
import { sealSnapshot } from '../../src/docs/snapshots/sealSnapshot.ts';
import { startRelay } from '../../relay/server.ts';
import { SqliteStore } from '../../relay/store/SqliteStore.ts';
import { cleanupDirs, createStoredWorkspace, invite, join, makeUser, open, remove, tempDir, type Open } from './helpers.ts';
import { integrationTimeouts } from '../timeouts.ts';

integrationTimeouts();
afterAll(cleanupDirs);

async function relayWithStore() {
  const store = new SqliteStore(pathJoin(tempDir('cloister-relaydb-'), 'relay.sqlite'));
  const relay = await startRelay({ store, port: 0, logger: pino({ level: 'silent' }) });
  return { relay, store };
}

/** A snapshot of `doc` as `who` would seal it, claiming to cover `covers` (honest or not). */
function forge(who: Open, docId: string, doc: A.Doc<unknown>, covers: { deviceId: string; seq: number }[]): Uint8Array {
  const live = who.s.live;
  const key = live.documentKey(live.epoch, docId)!;
  const log = live.logPosition();
  return sealSnapshot(
    {
      workspaceId: live.workspaceId, docId, deviceId: who.s.session.device.deviceId, epoch: live.epoch, claimedTime: Date.now(),
      logIndex: log.index, logHead: log.head, covers, body: { heads: A.getHeads(doc), doc: A.save(doc), provenance: [] },
    },
    key,
    who.s.session.device.signingKey,
  ).bytes;
}

/** Store a snapshot as if a member had uploaded it (the relay cannot read what is inside either way). */
async function plant(store: SqliteStore, bytes: Uint8Array): Promise<void> {
  const h = decodeSnapshot(bytes);
  if (!h.ok) throw new Error(h.reason);
  await store.insertSnapshot(
    { workspaceId: h.value.header.workspaceId, docId: h.value.header.docId, deviceId: h.value.header.deviceId, snapshotId: toHex(h.value.header.snapshotId), covers: h.value.header.covers, hash: toHex(sha256(bytes)), bytes, receivedAt: Date.now() },
    3,
  );
}

describe('snapshots', () => {
  it('a new device starts from the newest snapshot and applies only the envelopes after it', async () => {
    const { relay } = await relayWithStore();
    const [alice, bob] = await Promise.all([makeUser('alice'), makeUser('bob')]);
    const ws = createStoredWorkspace(alice, 'ward', relay.url);
    const code = invite(alice, ws, 'writer');
    const a = await open(alice, undefined, { snapshotEvery: 3 });
    try {
      await a.engine.syncOnce();
      const id = await a.s.records.create({ title: 'Dose plan', fields: { dose: '5mg' } });
      await a.engine.syncOnce();
      let sealed = 0;
      for (let i = 1; i <= 6; i++) {
        await a.s.records.update(id, { fields: { dose: `${5 + i}mg` } });
        sealed += (await a.engine.syncOnce()).snapshots.sealed;
      }
      expect(sealed).toBeGreaterThanOrEqual(2);
      await a.s.records.update(id, { notes: 'after the last snapshot' }); // the tail
      await a.engine.syncOnce();

      await join(bob, code, relay.url);
      const b = await open(bob);
      try {
        const s = await b.engine.syncOnce();
        expect(s.snapshots.loaded).toBeGreaterThanOrEqual(1);
        expect(s.snapshots.refused).toEqual({});
        expect(s.quarantinedRemote).toEqual({});
        // Envelopes the snapshot covers still arrive (nothing is pruned yet) but are only checked, not applied.
        expect(s.alreadyHad).toBeGreaterThanOrEqual(6);
        const r = await b.s.records.get(id);
        expect(r?.fields.dose).toBe('11mg');
        expect(r?.notes).toBe('after the last snapshot');
        expect(r?.createdBy?.userId).toBe(a.s.session.device.userId);
        // And bob keeps working on it: his edit reaches alice.
        await b.s.records.update(id, { fields: { dose: '12mg' } });
        expect((await b.engine.syncOnce()).acked).toBeGreaterThan(0);
        await a.engine.syncOnce();
        expect((await a.s.records.get(id))?.fields.dose).toBe('12mg');
      } finally {
        await b.close();
      }
    } finally {
      await a.close();
      await relay.close();
    }
  });

  it("a snapshot that leaves out a change it claims to cover is caught by that change's signed envelope", async () => {
    const { relay, store } = await relayWithStore();
    const [alice, carol] = await Promise.all([makeUser('alice'), makeUser('carol')]);
    const ws = createStoredWorkspace(alice, 'ward', relay.url);
    const code = invite(alice, ws, 'writer');
    const a = await open(alice, undefined, { snapshotEvery: 0 });
    try {
      await a.engine.syncOnce();
      const id = await a.s.records.create({ title: 'Dose plan', fields: { dose: '5mg' } });
      await a.engine.syncOnce();
      const handle = await a.s.session.repo.find<unknown>(id as DocumentId);
      const before = A.clone(handle.doc());
      await a.s.records.update(id, { fields: { dose: '50mg' } });
      await a.engine.syncOnce();
      const seq = a.s.session.cursors.lastSeq(a.s.session.device.deviceId, id);
      // Alice's device (or anyone holding her keys) seals the old state but claims it covers the new change.
      await plant(store, forge(a, id, before, [{ deviceId: a.s.session.device.deviceId, seq }]));

      await join(carol, code, relay.url);
      const c = await open(carol);
      try {
        const s = await c.engine.syncOnce();
        expect(s.snapshots.loaded).toBeGreaterThanOrEqual(1);
        expect((await c.s.records.get(id))?.fields.dose).toBe('50mg');
      } finally {
        await c.close();
      }
    } finally {
      await a.close();
      await relay.close();
    }
  });

  it("a reader refuses a snapshot that lacks changes it already holds from others' envelopes", async () => {
    const { relay } = await relayWithStore();
    const [alice, bob] = await Promise.all([makeUser('alice'), makeUser('bob')]);
    const ws = createStoredWorkspace(alice, 'ward', relay.url);
    const code = invite(alice, ws, 'writer');
    const a = await open(alice, undefined, { snapshotEvery: 0 });
    try {
      await a.engine.syncOnce();
      const id = await a.s.records.create({ title: 'Dose plan', fields: { dose: '5mg' } });
      await a.engine.syncOnce();
      const handle = await a.s.session.repo.find<unknown>(id as DocumentId);
      const before = A.clone(handle.doc());
      await a.s.records.update(id, { fields: { dose: '50mg' } });
      await a.engine.syncOnce();
      await join(bob, code, relay.url);
      const b = await open(bob, undefined, { snapshotEvery: 0 });
      try {
        await b.engine.syncOnce();
        expect((await b.s.records.get(id))?.fields.dose).toBe('50mg');
        const opened = openSnapshot(forge(a, id, before, [{ deviceId: a.s.session.device.deviceId, seq: 1 }]), b.s.session.authority);
        expect(opened.ok).toBe(true);
        if (!opened.ok) return;
        const r = await b.s.session.adoptSnapshots([opened.value]);
        expect(r.refused).toEqual([{ docId: id, reason: 'snapshot_incomplete', detail: expect.any(String) }]);
        expect((await b.s.records.get(id))?.fields.dose).toBe('50mg');
      } finally {
        await b.close();
      }
    } finally {
      await a.close();
      await relay.close();
    }
  });

  it('a snapshot from a removed member is refused; the new device reads the envelopes instead', async () => {
    const { relay, store } = await relayWithStore();
    const [alice, mallory, dave] = await Promise.all([makeUser('alice'), makeUser('mallory'), makeUser('dave')]);
    const ws = createStoredWorkspace(alice, 'ward', relay.url);
    const mCode = invite(alice, ws, 'writer');
    const a = await open(alice, undefined, { snapshotEvery: 0 });
    try {
      await a.engine.syncOnce();
      const id = await a.s.records.create({ title: 'Dose plan', fields: { dose: '5mg' } });
      await a.engine.syncOnce();
      await join(mallory, mCode, relay.url);
      const m = await open(mallory, undefined, { snapshotEvery: 0 });
      let bogus: Uint8Array;
      try {
        await m.engine.syncOnce();
        const doc = A.change(A.clone((await m.s.session.repo.find<unknown>(id as DocumentId)).doc()), (d: Record<string, unknown>) => {
          (d.fields as Record<string, unknown>).dose = '500mg';
        });
        bogus = forge(m, id, doc, [{ deviceId: a.s.session.device.deviceId, seq: 1 }]);
      } finally {
        await m.close();
      }
      remove(alice, ws, mallory);
      await a.engine.syncOnce();
      await plant(store, bogus); // kept from before the removal, e.g. by a relay operator colluding with her
      const dCode = invite(alice, ws, 'writer');
      await a.engine.syncOnce();
      await join(dave, dCode, relay.url);
      const d = await open(dave);
      try {
        const s = await d.engine.syncOnce();
        expect(s.snapshots.refused).toEqual({ not_a_member: 1 });
        expect(s.snapshots.loaded).toBe(0);
        expect((await d.s.records.get(id))?.fields.dose).toBe('5mg');
      } finally {
        await d.close();
      }
    } finally {
      await a.close();
      await relay.close();
    }
  });

  it('a device offline while the relay pruned what it missed catches up from a snapshot, and so does a new one', async () => {
    const { relay, store } = await relayWithStore();
    const [alice, bob, carol] = await Promise.all([makeUser('alice'), makeUser('bob'), makeUser('carol')]);
    const ws = createStoredWorkspace(alice, 'ward', relay.url);
    const bobCode = invite(alice, ws, 'writer');
    const carolCode = invite(alice, ws, 'writer');
    const a = await open(alice, undefined, { snapshotEvery: 3 });
    try {
      await a.engine.syncOnce();
      const id = await a.s.records.create({ title: 'Dose plan', fields: { dose: '5mg' } });
      await a.engine.syncOnce();
      await join(bob, bobCode, relay.url);
      const b1 = await open(bob, undefined, { snapshotEvery: 0 });
      try {
        await b1.engine.syncOnce();
        expect((await b1.s.records.get(id))?.fields.dose).toBe('5mg');
      } finally {
        await b1.close(); // bob goes offline
      }
      for (let i = 1; i <= 7; i++) {
        await a.s.records.update(id, { fields: { dose: `${5 + i}mg` } });
        await a.engine.syncOnce();
      }
      // The relay's pruning round, as if the retention had passed.
      let pruned = 0;
      for (const due of await store.snapshotsDueForPruning(Date.now() + 1, 100)) pruned += await store.pruneCoveredEnvelopes(due, Date.now());
      expect(pruned).toBeGreaterThan(0);

      const b = await open(bob, undefined, { snapshotEvery: 0 });
      try {
        const s = await b.engine.syncOnce();
        expect(s.snapshots.loaded).toBeGreaterThanOrEqual(1);
        expect(s.quarantinedRemote).toEqual({});
        expect((await b.s.records.get(id))?.fields.dose).toBe('12mg');
        expect((await b.s.session.pending.list()).length).toBe(0);
      } finally {
        await b.close();
      }
      await join(carol, carolCode, relay.url);
      const c = await open(carol);
      try {
        const s = await c.engine.syncOnce();
        expect(s.snapshots.loaded).toBeGreaterThanOrEqual(1);
        expect(s.quarantinedRemote).toEqual({});
        expect((await c.s.records.get(id))?.fields.dose).toBe('12mg');
      } finally {
        await c.close();
      }
    } finally {
      await a.close();
      await relay.close();
    }
  });
});
