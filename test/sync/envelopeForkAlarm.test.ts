// DESIGN → Fork detection in the data plane: a pulled envelope naming another entry at a log index
// where the reader holds one raises the fork alarm: the evidence is kept in the sync state and syncing
// stops (also on the next pass). The reader's diverging entry is simulated by swapping the id at the
// head of bob's live chain: the relay, honest here, serves alice's envelope naming the real one.
import { afterAll, describe, expect, it } from 'vitest';
import { toBase64url } from '../../src/crypto/bytes.ts';
import { SyncError } from '../../src/docs/sync/syncTypes.ts';
import { integrationTimeouts } from '../timeouts.ts';
import { cleanupDirs, createStoredWorkspace, invite, join, makeUser, open, startTestRelay, syncUser } from './helpers.ts';

integrationTimeouts();

const relays: { close(): Promise<void> }[] = [];
afterAll(async () => {
  for (const r of relays.splice(0)) await r.close().catch(() => undefined);
  cleanupDirs();
});

describe('data-plane fork alarm', () => {
  it('an envelope naming another head at an index the reader holds is quarantined as log_fork, the evidence is kept and syncing stops', async () => {
    const r = await startTestRelay();
    relays.push(r);
    const alice = await makeUser('alice');
    const bob = await makeUser('bob');
    const ws = createStoredWorkspace(alice, 'Clinic', r.url);
    const token = invite(alice, ws, 'writer');
    await syncUser(alice, r.url);
    await join(bob, token, r.url);
    for (const u of [alice, bob, alice, bob]) await syncUser(u, r.url);

    const a = await open(alice, r.url);
    await a.s.records.create({ title: 'sealed on alice’s chain' });
    await a.engine.syncOnce();
    const aliceHead = a.s.live.state.head;
    const index = a.s.live.state.order.length - 1;
    await a.close();

    const b = await open(bob, r.url);
    try {
      const st = b.s.live.state;
      expect(st.order[index]).toBe(aliceHead);
      const forged = toBase64url(new Uint8Array(32).fill(7));
      b.s.live.update({ ...st, order: [...st.order.slice(0, index), forged] }, b.s.live.epochKeys);

      const err = await b.engine.syncOnce().then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(SyncError);
      expect((err as SyncError).code).toBe('log_fork');
      const fork = (await b.s.syncState.load()).fork;
      expect(fork).toBeDefined();
      expect(fork!.index).toBe(index);
      expect(fork!.theirs).toBe(`envelope:${aliceHead}`);
      expect(fork!.ours).toBe(toBase64url(st.links[index]!));
      expect(fork!.detail).toContain(alice.vault.device.deviceId);
      expect((await b.s.session.quarantine.list()).map(q => q.reason)).toContain('log_fork');

      // The next pass refuses to sync at all.
      const again = await b.engine.syncOnce().then(() => undefined, (e: unknown) => e);
      expect((again as SyncError).code).toBe('log_fork');
    } finally {
      await b.close();
    }
  });
});
