// The relay does not send a device its own envelopes back (docs/SYNC.md → Own envelopes). What the
// echo used to cover is covered otherwise: an envelope leaves the outbox only once the Repo holds its
// changes, and a profile that lacks envelopes of its own the relay holds (restored from an older copy,
// or its sync state lost) learns it from the relay's `ownSkipped` and fetches them.
import { cpSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { docsDirOf } from '../../src/docs/openSession.ts';
import { cleanupDirs, createStoredWorkspace, makeUser, open, startTestRelay, tempDir } from './helpers.ts';
import { integrationTimeouts } from '../timeouts.ts';

integrationTimeouts();

afterAll(cleanupDirs);

describe("a device's own envelopes", () => {
  it('are not pulled back in normal syncing: the pass after a push pulls nothing', async () => {
    const relay = await startTestRelay();
    const alice = await makeUser('alice');
    createStoredWorkspace(alice, 'team', relay.url);
    const a = await open(alice);
    try {
      await a.engine.syncOnce();
      await a.s.records.create({ title: 'router' });
      const pushed = await a.engine.syncOnce();
      expect(pushed.acked).toBeGreaterThan(0);
      expect(pushed.pulled).toBe(0);
      expect(pushed.outbox).toBe(0);
      const again = await a.engine.syncOnce();
      expect(again.pulled).toBe(0);
    } finally {
      await a.close();
      await relay.close();
    }
  });

  it("alice's profile restored from an older copy gets back the edits she synced after the copy, and her next edits are accepted", async () => {
    const relay = await startTestRelay();
    const alice = await makeUser('alice');
    const ws = createStoredWorkspace(alice, 'team', relay.url);
    const a = await open(alice);
    const backup = tempDir('cloister-alice-backup-');
    let later: string;
    try {
      await a.s.records.create({ title: 'before the copy' });
      await a.engine.syncOnce();
      await a.s.session.close().catch(() => undefined);
    } finally {
      await a.close().catch(() => undefined);
    }
    cpSync(alice.home, backup, { recursive: true });
    const a2 = await open(alice);
    try {
      later = await a2.s.records.create({ title: 'after the copy' });
      const s = await a2.engine.syncOnce();
      expect(s.acked).toBeGreaterThan(0);
    } finally {
      await a2.close();
    }
    rmSync(alice.home, { recursive: true, force: true });
    cpSync(backup, alice.home, { recursive: true });

    const restored = await open(alice);
    try {
      expect(await restored.s.records.get(later)).toBeUndefined();
      await restored.engine.syncOnce();
      expect((await restored.s.records.get(later))?.title).toBe('after the copy');
      // Her sequence numbers caught up too: a new record and its index entry are accepted, not seq_replay.
      await restored.s.records.create({ title: 'after the restore' });
      const s = await restored.engine.syncOnce();
      expect(s.rejected).toEqual({});
      expect(s.outbox).toBe(0);
      expect(s.acked).toBeGreaterThan(0);
    } finally {
      await restored.close();
    }

    // Lost sync state (say a damaged file after a crash): it starts again from the relay's beginning, own envelopes included.
    rmSync(join(docsDirOf(alice.home, alice.vault, ws), 'sync'), { recursive: true, force: true });
    const fresh = await open(alice);
    try {
      const s = await fresh.engine.syncOnce();
      expect(s.quarantinedRemote).toEqual({});
      expect((await fresh.s.records.list()).map(r => r.title).sort()).toEqual(['after the copy', 'after the restore', 'before the copy']);
    } finally {
      await fresh.close();
      await relay.close();
    }
  });
});
