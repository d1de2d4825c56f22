// Lease policy 'hold': bob's envelope reaching the relay after his lease's notAfter (relay clock
// injected) is held, not refused; it stays in his outbox. Only an admin sees the held list; alice
// approves it (library and `cloister workspace held|approve`), bob's next push is acknowledged as a
// duplicate and leaves his outbox, and alice receives the edit.
import { execFile } from 'node:child_process';
import { join as pathJoin } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { approveHeldEnvelope, HeldError, listHeldEnvelopes } from '../../src/docs/sync/heldEnvelopes.ts';
import { deviceKeysOfVault } from '../../src/docs/sync/nodeSyncSession.ts';
import { cleanupDirs, createStoredWorkspace, invite, join, makeUser, open, startTestRelay, type Open, type User } from './helpers.ts';
import { CHILD_MS, integrationTimeouts } from '../timeouts.ts';

integrationTimeouts();

afterAll(cleanupDirs);

const MAX_OFFLINE = 60_000;
const BIN = pathJoin(import.meta.dirname, '..', '..', 'bin', 'cloister.js');

function cli(u: User, ...args: string[]): Promise<{ code: number; out: string; err: string }> {
  return new Promise(resolve => {
    const child = execFile(process.execPath, [BIN, ...args, '--home', u.home, '--password-stdin'], { encoding: 'utf8', timeout: CHILD_MS, env: { ...process.env, CLOISTER_KDF: 'min' } },
      (e, out, err) => resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, out, err }));
    child.stdin!.end(`${u.name} password\n`);
  });
}

const heldSession = (o: Open, u: User) => ({ live: o.s.live, syncState: o.s.syncState, device: deviceKeysOfVault(u.vault) });

describe('held envelopes (policy hold)', () => {
  it('an admin lists and approves a late envelope; the writer\'s outbox then clears and readers receive it', async () => {
    let clock = Date.now();
    const relay = await startTestRelay(() => clock);
    const [alice, bob] = await Promise.all([makeUser('alice'), makeUser('bob')]);
    const ws = createStoredWorkspace(alice, 'ops', relay.url, { maxOfflineMs: MAX_OFFLINE, leasePolicy: 'hold' });
    const code = invite(alice, ws, 'writer');
    const a = await open(alice);
    let b: Open | undefined;
    try {
      await a.engine.syncOnce();
      await join(bob, code, relay.url);
      await a.engine.syncOnce();
      b = await open(bob);
      await b.engine.syncOnce();
      const id = await b.s.records.create({ title: 'late note' });
      clock += 2 * MAX_OFFLINE;
      const late = await b.engine.syncOnce();
      expect(late.held).toBeGreaterThan(0);
      expect(late.rejected).toEqual({});
      expect(late.outbox).toBe(late.held);

      // Bob is no admin.
      await expect(listHeldEnvelopes(heldSession(b, bob), relay.url)).rejects.toBeInstanceOf(HeldError);

      const held = await listHeldEnvelopes(heldSession(a, alice), relay.url);
      expect(held).toHaveLength(late.held);
      expect(held.every(h => h.deviceId === bob.vault.device.deviceId && h.userId === bob.vault.userId)).toBe(true);
      // One through the library, the rest through the command line.
      await approveHeldEnvelope(heldSession(a, alice), relay.url, held[0]!.heldId);
      await a.close();
      const list = await cli(alice, 'workspace', 'held', '--json');
      expect(list.code, list.err).toBe(0);
      const rest = JSON.parse(list.out) as { heldId: number }[];
      expect(rest.map(h => h.heldId)).toEqual(held.slice(1).map(h => h.heldId));
      for (const h of rest) {
        const r = await cli(alice, 'workspace', 'approve', String(h.heldId));
        expect(r.code, r.err).toBe(0);
        expect(r.out).toMatch(/approved held envelope/);
      }
      expect((await cli(alice, 'workspace', 'approve', '999999')).code).toBe(1);

      const after = await b.engine.syncOnce();
      expect(after.outbox).toBe(0);
      expect(after.duplicates).toBe(late.held);
      const a2 = await open(alice);
      try {
        await a2.engine.syncOnce();
        expect((await a2.s.records.get(id))?.title).toBe('late note');
      } finally {
        await a2.close();
      }
    } finally {
      await b?.close();
      await a.close().catch(() => undefined);
      await relay.close();
    }
  });
});
