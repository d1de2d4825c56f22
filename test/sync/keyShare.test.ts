// Key sharing without anyone asking: bob joins through the relay while alice, offline, removes carol
// (a rotation that cannot know about bob). When alice syncs, her engine sees an active device with no
// lockbox for the current epoch and appends a rotate_key; bob then reads and writes under it.
// Also: the relay key is pinned on first use, and a different relay key is refused clearly.
import { afterAll, describe, expect, it } from 'vitest';
import { SyncError } from '../../src/docs/sync/SyncEngine.ts';
import { devicesWithoutCurrentKey } from '../../src/identity/workspace/keyShare.ts';
import { cleanupDirs, createStoredWorkspace, invite, join, makeUser, open, remove, startTestRelay } from './helpers.ts';
import { integrationTimeouts } from '../timeouts.ts';

integrationTimeouts();

afterAll(cleanupDirs);

describe('automatic key sharing and relay pinning', () => {
  it('an offline removal is rebuilt on the current head, so a device that joined meanwhile gets the new key and can read and write', async () => {
    const relay = await startTestRelay();
    const [alice, bob, carol] = await Promise.all([makeUser('alice'), makeUser('bob'), makeUser('carol')]);
    const ws = createStoredWorkspace(alice, 'team', relay.url);
    const carolCode = invite(alice, ws, 'writer');
    const bobCode = invite(alice, ws, 'writer');
    const a = await open(alice);
    try {
      await a.engine.syncOnce();
      await join(carol, carolCode, relay.url);
      await a.engine.syncOnce(); // alice knows carol joined; she has not seen bob yet
      await join(bob, bobCode, relay.url); // bob joins at epoch 0
      remove(alice, ws, carol); // alice, offline, removes carol: an intent, built at the head at the next sync
      const s = await a.engine.syncOnce();
      expect(s.keysShared).toBe(0); // the rotation was made for the devices at the head, bob's included
      expect(a.s.live.epoch).toBe(1);
      expect(devicesWithoutCurrentKey(a.s.live.state)).toEqual([]);
      const id = await a.s.records.create({ title: 'after removal' });
      await a.engine.syncOnce();

      const b = await open(bob);
      try {
        await b.engine.syncOnce();
        expect(b.s.live.epochKeys.has(1)).toBe(true);
        expect((await b.s.records.get(id))?.title).toBe('after removal');
        await b.s.records.update(id, { notes: 'bob writes under epoch 1' });
        expect((await b.engine.syncOnce()).acked).toBeGreaterThan(0);
        await a.engine.syncOnce();
        expect((await a.s.records.get(id))?.notes).toBe('bob writes under epoch 1');
      } finally {
        await b.close();
      }
    } finally {
      await a.close();
      await relay.close();
    }
  });

  it('the relay key is pinned on first use; a relay with another key is refused with a clear error', async () => {
    const relay = await startTestRelay();
    const alice = await makeUser('alice');
    createStoredWorkspace(alice, 'solo', relay.url);
    let a = await open(alice);
    await a.engine.syncOnce();
    const pinned = (await a.s.syncState.load()).relayPub;
    expect(pinned).toBeTruthy();
    await a.close();
    await relay.close();

    const impostor = await startTestRelay(); // a new relay key, same address role
    a = await open(alice, impostor.url);
    try {
      const err = await a.engine.syncOnce().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SyncError);
      expect((err as SyncError).code).toBe('relay_key_mismatch');
      expect((err as Error).message).toMatch(/different key than the one pinned/);
      expect((await a.s.syncState.load()).relayPub).toBe(pinned);
    } finally {
      await a.close();
      await impostor.close();
    }
  });
});
