// The client side of offline leases (DESIGN → Offline leases; docs/OFFLINE.md). Keeps the newest
// relay-signed lease and the latest time ever seen — the max of every local clock reading and every
// relay time — so turning the device clock back does not buy more offline time. After notAfter, edits
// are refused until a fresh lease arrives. Advisory: a modified client can ignore it; the relay's own
// lease check (lease_expired) is what actually refuses late uploads.
import { fromBase64url, toBase64url } from '../../crypto/bytes.ts';
import type { PublicKey } from '../../crypto/keys.ts';
import { verifyLease, type Lease } from '../../protocol/lease.ts';
import type { SyncState, SyncStateStore } from './syncState.ts';

export const OFFLINE_LOCK_MESSAGE = 'offline lease expired: reconnect to continue';

export class OfflineLeaseExpiredError extends Error {
  readonly code = 'offline_lease_expired';
  constructor() {
    super(OFFLINE_LOCK_MESSAGE);
    this.name = 'OfflineLeaseExpiredError';
  }
}

export class LeaseClock {
  #lease: Lease | undefined;
  #leaseBytes: Uint8Array | undefined;
  #lastSeen: number;
  /**
   * Sim only (defence `client.leaseClock`, docs/SCENARIOS.md): false makes now() the bare local clock,
   * so turning it back buys offline time. Never set by the product; a scenario run sets it on its own
   * replica's session to show that its assertion fails without the defence.
   */
  rollbackResistant = true;

  constructor(
    init: { lease?: Lease; leaseBytes?: Uint8Array; lastSeen?: number } = {},
    private readonly clock: () => number = Date.now,
  ) {
    this.#lease = init.lease;
    this.#leaseBytes = init.leaseBytes;
    this.#lastSeen = init.lastSeen ?? 0;
  }

  /** From persisted sync state; the stored lease is re-verified under the pinned relay key. */
  static async load(store: SyncStateStore, clock: () => number = Date.now): Promise<LeaseClock> {
    const s = await store.load();
    const bytes = s.lease ? fromBase64url(s.lease) : undefined;
    const pub = s.relayPub ? fromBase64url(s.relayPub) : undefined;
    const v = bytes && pub ? verifyLease(bytes, pub as PublicKey) : undefined;
    return new LeaseClock(v?.ok ? { lease: v.value, leaseBytes: bytes, lastSeen: s.lastSeen } : { lastSeen: s.lastSeen }, clock);
  }

  get lease(): Lease | undefined {
    return this.#lease;
  }
  get leaseBytes(): Uint8Array | undefined {
    return this.#leaseBytes;
  }
  /** The lease id new envelopes carry ('' before the first lease: such envelopes are re-sealed at first sync). */
  leaseId(): string {
    return this.#lease?.leaseId ?? '';
  }

  /** Take a time reading (local or relay) into account; time never goes backwards here. */
  observe(t: number): void {
    if (Number.isFinite(t) && t > this.#lastSeen) this.#lastSeen = Math.floor(t);
  }

  /** The rollback-resistant present: max(local clock, latest time seen). */
  now(): number {
    this.observe(this.clock());
    return this.rollbackResistant ? this.#lastSeen : this.clock();
  }

  get lastSeen(): number {
    return this.#lastSeen;
  }

  /** Keep a verified lease if it is newer than the one held. */
  accept(lease: Lease, bytes: Uint8Array): void {
    this.observe(lease.issuedAt);
    if (!this.#lease || lease.issuedAt >= this.#lease.issuedAt) {
      this.#lease = lease;
      this.#leaseBytes = bytes;
    }
  }

  /** Offline editing time left; Infinity before any lease (a new workspace works offline until its first sync). */
  offlineRemainingMs(): number {
    if (!this.#lease) return Number.POSITIVE_INFINITY;
    return Math.max(0, this.#lease.notAfter - this.now());
  }

  expired(): boolean {
    return this.offlineRemainingMs() === 0;
  }

  /** Throws OfflineLeaseExpiredError once notAfter has passed (DocSession's editGate). */
  assertCanEdit(): void {
    if (this.expired()) throw new OfflineLeaseExpiredError();
  }

  /** Write lease and lastSeen into the sync state. */
  /** Save the lease and latest time (with `also`'s changes in the same write). */
  async persist(store: SyncStateStore, also?: (s: SyncState) => void): Promise<void> {
    const now = this.now();
    await store.update(s => {
      s.lastSeen = Math.max(s.lastSeen, now);
      if (this.#leaseBytes) s.lease = toBase64url(this.#leaseBytes);
      also?.(s);
    });
  }
}
