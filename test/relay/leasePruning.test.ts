// Expired leases are pruned (docs/RELAY.md → Leases): a periodic timer deletes leases whose notAfter
// is more than leaseRetentionMs in the past (relay clock), keeping live ones; within the retention a
// late push still hears lease_expired rather than lease_unknown.
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../relay/store/SqliteStore.ts';
import { HOUR, clock, connect, device, envelope, leaseIdOf, publishWorkspace, startTestRelay, type TestRelay, until } from './helpers.ts';
import { integrationTimeouts } from '../timeouts.ts';

integrationTimeouts();

async function leaseStored(t: TestRelay, leaseId: string): Promise<boolean> {
  const s = new SqliteStore(t.dbPath);
  try {
    return (await s.getLease(leaseId)) !== undefined;
  } finally {
    await s.close();
  }
}


describe('lease pruning', () => {
  let t: TestRelay | undefined;
  afterEach(async () => {
    await t?.stop();
    t = undefined;
  });

  it('the relay prunes leases expired longer than the retention, periodically, and keeps live ones', async () => {
    const c = clock();
    t = await startTestRelay({ now: c.now, limits: { pruneIntervalMs: 25, leaseRetentionMs: HOUR } });
    const alice = device('alice');
    const w = await publishWorkspace(t.relay, alice, [], { maxOfflineMs: 2 * HOUR, leasePolicy: 'reject' }, c.now());
    const a = await connect(t.relay, alice, [w.workspaceId]);
    const old = leaseIdOf(a, w.workspaceId);
    expect(await leaseStored(t, old)).toBe(true);

    // Expired, but within the retention: kept, and a push under it hears lease_expired.
    c.advance(2 * HOUR + 1);
    await new Promise((r) => setTimeout(r, 100)); // several prune ticks
    expect(await leaseStored(t, old)).toBe(true);
    expect(await a.push(envelope(alice, { workspaceId: w.workspaceId, seq: 1, leaseId: old }))).toMatchObject({ status: 'rejected', reason: 'lease_expired' });

    const fresh = await a.renewLease(w.workspaceId);
    c.advance(HOUR); // the old lease is now past notAfter + retention; the fresh one is live
    await until(async () => !(await leaseStored(t!, old)));
    expect(await leaseStored(t, fresh.leaseId)).toBe(true);
    expect(await a.push(envelope(alice, { workspaceId: w.workspaceId, seq: 1, leaseId: fresh.leaseId }))).toMatchObject({ status: 'acked' });
    a.close();
  });

  it('close() stops the pruning timer (no store call after the store is closed)', async () => {
    const r = await startTestRelay({ limits: { pruneIntervalMs: 5 } });
    await new Promise((res) => setTimeout(res, 30));
    await r.relay.close();
    await new Promise((res) => setTimeout(res, 30)); // a tick after close would throw on the closed database
    await r.stop();
  });
});
