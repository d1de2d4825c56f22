// Budgets (DESIGN → Relay → Admission and quotas: "every request type has a budget").
// - TokenBuckets: per key (device id or remote address), `burst` at once, refilled at `perSecond`.
// - Budgets: the buckets for pulls, log reads, log appends and pre-authentication frames, and the
//   counts behind the caps on connections per device and per remote address.
// Pushes keep their own bucket (ctx.buckets, on the relay's clock) and mailbox requests theirs.
import type { RelayLimits } from './context.ts';
import { FairScheduler } from './scheduler.ts';

export interface RateLimit {
  burst: number;
  perSecond: number;
}

/** Keys tracked before idle (full) buckets are swept; a full bucket is the same as a new one. */
const MAX_TRACKED_KEYS = 100_000;

export class TokenBuckets {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(private readonly limit: RateLimit, private readonly now: () => number) {}

  /** Take one token for `key`; false when the bucket is empty. */
  take(key: string): boolean {
    const t = this.now();
    let b = this.buckets.get(key);
    if (!b) {
      if (this.buckets.size >= MAX_TRACKED_KEYS) this.sweep(t);
      b = { tokens: this.limit.burst, at: t };
      this.buckets.set(key, b);
    }
    b.tokens = this.refilled(b, t);
    b.at = t;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  private refilled(b: { tokens: number; at: number }, t: number): number {
    return Math.min(this.limit.burst, b.tokens + (Math.max(0, t - b.at) / 1000) * this.limit.perSecond);
  }

  /** Forget full buckets (nothing is lost); if every key is still draining, forget the oldest half. */
  private sweep(t: number): void {
    for (const [k, b] of this.buckets) if (this.refilled(b, t) >= this.limit.burst) this.buckets.delete(k);
    if (this.buckets.size < MAX_TRACKED_KEYS) return;
    let n = this.buckets.size / 2;
    for (const k of this.buckets.keys()) {
      if (n-- <= 0) break;
      this.buckets.delete(k);
    }
  }
}

/** Open connections per key, with a cap. */
class Counts {
  private readonly n = new Map<string, number>();
  constructor(private readonly cap: number) {}
  /** Count one more for `key`; false (and not counted) when it is at the cap. */
  open(key: string): boolean {
    const c = this.n.get(key) ?? 0;
    if (c >= this.cap) return false;
    this.n.set(key, c + 1);
    return true;
  }
  close(key: string): void {
    const c = (this.n.get(key) ?? 0) - 1;
    if (c > 0) this.n.set(key, c);
    else this.n.delete(key);
  }
}

const monotonicMs = () => performance.now();

/** Every per-request and per-connection budget of one relay except pushes and mailbox requests. */
export class Budgets {
  /** Per device: pull requests. */
  readonly pulls: TokenBuckets;
  /** Per device: log_get requests. */
  readonly logReads: TokenBuckets;
  /** Per device: log_append requests. */
  readonly logAppends: TokenBuckets;
  /** Per remote address: every frame received before a connection has authenticated. */
  readonly preAuth: TokenBuckets;
  /** Authenticated connections per device. */
  readonly devices: Counts;
  /** Connections per remote address. */
  readonly addresses: Counts;
  /** Request handling across all connections: round-robin slices, bounded concurrency. */
  readonly scheduler: FairScheduler;

  constructor(limits: RelayLimits, now: () => number = monotonicMs) {
    this.pulls = new TokenBuckets({ burst: limits.pullBurst, perSecond: limits.pullPerSecond }, now);
    this.logReads = new TokenBuckets({ burst: limits.logReadBurst, perSecond: limits.logReadPerSecond }, now);
    this.logAppends = new TokenBuckets({ burst: limits.logAppendBurst, perSecond: limits.logAppendPerSecond }, now);
    this.preAuth = new TokenBuckets({ burst: limits.preAuthBurst, perSecond: limits.preAuthPerSecond }, now);
    this.devices = new Counts(limits.maxConnectionsPerDevice);
    this.addresses = new Counts(limits.maxConnectionsPerAddress);
    this.scheduler = new FairScheduler(limits.schedulerSliceMs, limits.maxConcurrentRequests);
  }
}
