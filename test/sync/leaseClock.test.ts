// The client's lease clock: remaining offline time from the newest lease, a latest-time-seen that a
// clock turned back cannot lower, the edit lock after notAfter, and leases verified under the pinned key.
import { describe, expect, it } from 'vitest';
import { generateSigningKey } from '../../src/crypto/ed25519.ts';
import { toBase64url } from '../../src/crypto/bytes.ts';
import { MemoryStorageAdapter } from '../../src/docs/storage/MemoryStorageAdapter.ts';
import { LeaseClock, OfflineLeaseExpiredError, OFFLINE_LOCK_MESSAGE } from '../../src/docs/sync/LeaseClock.ts';
import { SyncStateStore } from '../../src/docs/sync/syncState.ts';
import { encodeLease, type Lease } from '../../src/protocol/lease.ts';

const T0 = 1_800_000_000_000;
const lease = (issuedAt: number, ms: number): Lease => ({ leaseId: `l${issuedAt}`, relayId: 'r', workspaceId: 'w', deviceId: 'd', issuedAt, notAfter: issuedAt + ms });

describe('LeaseClock', () => {
  it('counts down from the newest lease and never runs backwards when the clock is turned back', () => {
    let now = T0;
    const c = new LeaseClock({}, () => now);
    expect(c.offlineRemainingMs()).toBe(Number.POSITIVE_INFINITY); // no lease yet: no limit
    c.accept(lease(T0, 60_000), new Uint8Array(1));
    now = T0 + 20_000;
    expect(c.offlineRemainingMs()).toBe(40_000);
    now = T0 - 3_600_000; // eve turns the clock back an hour
    expect(c.offlineRemainingMs()).toBe(40_000);
    c.observe(T0 + 59_000); // a relay time seen
    expect(c.offlineRemainingMs()).toBe(1_000);
    c.accept(lease(T0 - 1, 1e9), new Uint8Array(1)); // an older lease does not replace the newer one
    expect(c.lease!.issuedAt).toBe(T0);
  });

  it('locks editing after notAfter with one clear line, until a fresh lease arrives', () => {
    let now = T0;
    const c = new LeaseClock({}, () => now);
    c.accept(lease(T0, 1_000), new Uint8Array(1));
    c.assertCanEdit();
    now = T0 + 1_001;
    expect(() => c.assertCanEdit()).toThrow(OfflineLeaseExpiredError);
    expect(() => c.assertCanEdit()).toThrow(OFFLINE_LOCK_MESSAGE);
    expect(OFFLINE_LOCK_MESSAGE).toBe('offline lease expired: reconnect to continue');
    c.accept(lease(T0 + 2_000, 1_000), new Uint8Array(1));
    c.assertCanEdit();
  });

  it('persists lease and latest time; a stored lease that does not verify under the pinned relay key is ignored', async () => {
    const relay = generateSigningKey();
    const other = generateSigningKey();
    const store = new SyncStateStore(new MemoryStorageAdapter());
    const l = lease(T0, 60_000);
    const bytes = encodeLease(l, relay.secretKey);
    let now = T0 + 1_000;
    const c = new LeaseClock({}, () => now);
    c.accept(l, bytes);
    await store.update(s => (s.relayPub = toBase64url(relay.publicKey)));
    await c.persist(store);
    now = T0 - 1e7; // restarted with the clock turned back
    const again = await LeaseClock.load(store, () => now);
    expect(again.lease?.leaseId).toBe(l.leaseId);
    expect(again.lastSeen).toBe(T0 + 1_000);
    expect(again.offlineRemainingMs()).toBe(59_000);
    await store.update(s => (s.relayPub = toBase64url(other.publicKey)));
    expect((await LeaseClock.load(store, () => now)).lease).toBeUndefined();
  });
});
