// Offline leases end to end: with the relay's clock injected, an envelope written under a lease and
// pushed after that lease's notAfter is refused as lease_expired and stays in the client's quarantine,
// where `status` shows it; the client locks editing once it has seen a time past notAfter, until a
// fresh lease arrives; a turned-back clock does not unlock it.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OFFLINE_LOCK_MESSAGE } from '../../src/docs/sync/LeaseClock.ts';
import { syncStatus } from '../../src/docs/sync/syncStatus.ts';
import { cleanupDirs, createStoredWorkspace, makeUser, open, startTestRelay } from './helpers.ts';
import { CHILD_MS, integrationTimeouts } from '../timeouts.ts';

integrationTimeouts();

afterAll(cleanupDirs);

const MAX_OFFLINE = 60_000;

describe('offline leases', () => {
  it('an envelope pushed after its lease\'s notAfter is rejected as lease_expired and stays in quarantine, visible in status', async () => {
    let clock = Date.now();
    const relay = await startTestRelay(() => clock);
    const alice = await makeUser('alice');
    createStoredWorkspace(alice, 'ops', relay.url, { maxOfflineMs: MAX_OFFLINE, leasePolicy: 'reject' });
    let a = await open(alice);
    try {
      const first = await a.engine.syncOnce();
      expect(first.offlineRemainingMs).toBeGreaterThan(MAX_OFFLINE - 5_000);
      const lease1 = a.s.lease.lease!;
      expect(lease1.notAfter - lease1.issuedAt).toBe(MAX_OFFLINE);
      const id = await a.s.records.create({ title: 'VPN', fields: { user: 'alice' } });
      expect((await a.engine.syncOnce()).acked).toBeGreaterThan(0);

      // Offline, within the lease by alice's clock: the edit is sealed under lease1.
      await a.s.records.update(id, { notes: 'written under lease 1' });
      clock += 2 * MAX_OFFLINE; // ... but it reaches the relay after lease1's notAfter
      const late = await a.engine.syncOnce();
      expect(late.rejected).toEqual({ lease_expired: 1 });
      expect(late.outbox).toBe(0);
      const q = await a.s.session.quarantine.list();
      expect(q.map(x => [x.reason, x.source])).toEqual([['lease_expired', 'push']]);
      const st = await syncStatus(a.s);
      expect(st.quarantine).toEqual([expect.objectContaining({ reason: 'lease_expired', description: expect.stringMatching(/expired/) })]);
      // The relay issued a fresh lease on that connection.
      expect(a.s.lease.lease!.leaseId).not.toBe(lease1.leaseId);

      // The client-side lock: a time past notAfter (here: a relay time seen) locks editing...
      const lease2 = a.s.lease.lease!;
      a.s.lease.observe(lease2.notAfter + 1);
      expect(a.s.lease.offlineRemainingMs()).toBe(0);
      await expect(a.s.records.create({ title: 'blocked' })).rejects.toThrow(OFFLINE_LOCK_MESSAGE);
      expect((await syncStatus(a.s)).locked).toBe(true);
      await a.engine.stop();
      await a.s.close();

      // ... which survives a restart (lastSeen is persisted; a clock turned back does not help) ...
      a = await open(alice);
      expect(a.s.lease.lastSeen).toBeGreaterThan(lease2.notAfter);
      await expect(a.s.records.update(id, { title: 'still blocked' })).rejects.toThrow(OFFLINE_LOCK_MESSAGE);
      // ... until a fresh lease arrives.
      clock = lease2.notAfter + 10_000;
      await a.engine.syncOnce();
      expect(a.s.lease.offlineRemainingMs()).toBeGreaterThan(0);
      const id2 = await a.s.records.create({ title: 'after reconnect' });
      const again = await a.engine.syncOnce();
      expect(again.acked).toBeGreaterThan(0);
      expect(await a.s.records.get(id2)).toBeTruthy();
      await a.close();

      // `cloister status --json` shows the quarantined envelope with its reason.
      const bin = join(import.meta.dirname, '..', '..', 'bin', 'cloister.js');
      const r = spawnSync(process.execPath, [bin, 'status', '--json', '--home', alice.home, '--password-stdin'], {
        input: 'alice password\n', encoding: 'utf8', timeout: CHILD_MS, env: { ...process.env, CLOISTER_KDF: 'min' },
      });
      expect(r.status, r.stderr).toBe(0);
      const status = JSON.parse(r.stdout) as { quarantine: { reason: string }[]; offlineRemainingMs: number; relay: string };
      expect(status.quarantine.map(x => x.reason)).toEqual(['lease_expired']);
      expect(status.relay).toBe(relay.url);
      const text = spawnSync(process.execPath, [bin, 'status', '--home', alice.home, '--password-stdin'], {
        input: 'alice password\n', encoding: 'utf8', timeout: CHILD_MS, env: { ...process.env, CLOISTER_KDF: 'min' },
      });
      expect(text.stdout).toMatch(/lease_expired/);
      expect(text.stdout).toMatch(/offline /);
    } finally {
      await a.close().catch(() => undefined);
      await relay.close();
    }
  });
});
