// Shared state of one running relay, handed to every connection and handler.
import type { Logger } from 'pino';
import type { SigningSecretKey } from '../src/crypto/keys.ts';
import type { MembershipModel } from './membership.ts';
import type { RelayMetrics } from './metrics.ts';
import type { NonceRegistry } from './nonces.ts';
import type { Budgets, TokenBuckets } from './rateLimit.ts';
import type { KeyedLock } from './keyedLock.ts';
import type { AdmissionMode } from './admission.ts';
import type { RelayStore } from './store/RelayStore.ts';
import type { WorkspaceCache } from './workspaceCache.ts';

export interface RelayLimits {
  /** Largest WebSocket frame accepted; a bigger one closes the connection with 1009. */
  maxFrameBytes: number;
  /** Token bucket per device for pushes: accepted, held and refused alike (charged before any check). */
  pushBurst: number;
  pushPerSecond: number;
  /** Most envelopes returned by one pull. */
  maxPullLimit: number;
  /** A pull reply stops adding envelopes past this many bytes (it always carries at least one). */
  maxBatchBytes: number;
  /** Frames received on one connection but not yet handled; beyond it the connection is closed (1008). */
  maxQueuedFrames: number;
  /** Bytes of such frames; beyond it the connection is closed (1008). */
  maxQueuedBytes: number;
  /** Bytes queued for a slow reader; beyond it the connection is closed (1008) and the client re-pulls. */
  maxBufferedBytes: number;
  /** Unauthenticated connections are closed after this long. */
  authTimeoutMs: number;
  /** A device-link mailbox lives this long from its first item (relay clock). */
  mailboxTtlMs: number;
  /** Largest sealed mailbox item. */
  mailboxMaxBytes: number;
  /** Token bucket per device for mailbox requests (a waiting device polls). */
  mailboxBurst: number;
  mailboxPerSecond: number;
  /** Live mailbox items across all devices; beyond it new mailboxes are refused (rate_limited). */
  mailboxMaxItems: number;
  // ---- admission, quotas, pruning (relay/admission.ts; docs/RELAY.md → Admission, Quotas) ----
  /** Per-workspace storage quota: bytes of envelopes + held envelopes + log links; a push past it is refused (quota_exceeded). 0: none. */
  quotaBytes: number;
  /** How often expired leases (and expired mailbox items) are pruned. */
  pruneIntervalMs: number;
  /** A lease is pruned this long after its notAfter (until then a push naming it is told lease_expired, not lease_unknown). */
  leaseRetentionMs: number;
  // ---- end admission, quotas, pruning ----
  // ---- snapshots (issue 13; relay/handlers/snapshots.ts, relay/snapshotPruning.ts; docs/RELAY.md → Snapshots and pruning) ----
  /** Token bucket per device for snapshot_put (accepted and refused alike). */
  snapshotBurst: number;
  snapshotPerSecond: number;
  /** Snapshots kept per document: storing one more drops the oldest. */
  snapshotsPerDoc: number;
  /** Envelopes a snapshot covers are pruned this long after the relay received it (0: never prune). */
  snapshotRetentionMs: number;
  /** Snapshots handled per pruning round (the rest wait for the next round). */
  snapshotPruneBatch: number;
  // ---- end snapshots ----
  // --- abuse budgets (issue 11; relay/rateLimit.ts, relay/scheduler.ts, relay/connection.ts) ---
  /** Token bucket per device for pull requests (refused with error rate_limited). */
  pullBurst: number;
  pullPerSecond: number;
  /** Token bucket per device for log_get requests. */
  logReadBurst: number;
  logReadPerSecond: number;
  /** Token bucket per device for log_append requests. */
  logAppendBurst: number;
  logAppendPerSecond: number;
  /** Token bucket per remote address for frames received before authentication (auth, ping, …). */
  preAuthBurst: number;
  preAuthPerSecond: number;
  /** Authenticated connections per device; one more is refused at auth and closed (1013). */
  maxConnectionsPerDevice: number;
  /** Open connections per remote address; one more is closed at once (1013). */
  /** Proxies in front of the relay whose X-Forwarded-For entries are trusted (0: use the socket's address). */
  trustedProxies: number;
  maxConnectionsPerAddress: number;
  /** A frame whose first bytes arrived this long ago and that is still incomplete closes the connection (1008). */
  frameDeadlineMs: number;
  /** An authenticated connection that sends no frame for this long is closed (4002 'idle'). */
  idleTimeoutMs: number;
  /** Fair scheduling: a connection handles requests for at most this long before others get a turn. */
  schedulerSliceMs: number;
  /** Requests in their handlers at once, across all connections. */
  maxConcurrentRequests: number;
  // --- end abuse budgets ---
}

export const DEFAULT_LIMITS: RelayLimits = {
  maxFrameBytes: 1024 * 1024,
  pushBurst: 2000,
  pushPerSecond: 1000,
  maxPullLimit: 1000,
  maxBatchBytes: 4 * 1024 * 1024,
  maxQueuedFrames: 4096,
  maxQueuedBytes: 32 * 1024 * 1024,
  maxBufferedBytes: 16 * 1024 * 1024,
  authTimeoutMs: 60_000,
  mailboxTtlMs: 10 * 60_000,
  mailboxMaxBytes: 16 * 1024,
  mailboxBurst: 60,
  mailboxPerSecond: 5,
  mailboxMaxItems: 100_000,
  // ---- admission, quotas, pruning ----
  quotaBytes: 1024 * 1024 * 1024,
  pruneIntervalMs: 10 * 60_000,
  leaseRetentionMs: 24 * 60 * 60_000,
  // ---- end admission, quotas, pruning ----
  // ---- snapshots ----
  snapshotBurst: 60,
  snapshotPerSecond: 1,
  snapshotsPerDoc: 3,
  snapshotRetentionMs: 30 * 24 * 60 * 60_000,
  snapshotPruneBatch: 100,
  // ---- end snapshots ----
  // --- abuse budgets (issue 11) ---
  pullBurst: 600,
  pullPerSecond: 100,
  logReadBurst: 600,
  logReadPerSecond: 100,
  logAppendBurst: 2000,
  logAppendPerSecond: 50,
  preAuthBurst: 1000,
  preAuthPerSecond: 100,
  maxConnectionsPerDevice: 16,
  maxConnectionsPerAddress: 256,
  trustedProxies: 0,
  frameDeadlineMs: 60_000,
  idleTimeoutMs: 15 * 60_000,
  schedulerSliceMs: 10,
  maxConcurrentRequests: 256,
  // --- end abuse budgets ---
};

/** What a connection needs to receive live events. */
export interface Subscriber {
  readonly deviceId: string | undefined;
  send(frame: Uint8Array): void;
}

export interface RelayContext {
  store: RelayStore;
  model: MembershipModel;
  workspaces: WorkspaceCache;
  now: () => number;
  limits: RelayLimits;
  log: Logger;
  metrics: RelayMetrics;
  relayId: string;
  relayPub: Uint8Array;
  relayKey: SigningSecretKey;
  nonces: NonceRegistry;
  buckets: TokenBuckets;
  /** Per device, for mailbox_put and mailbox_get. */
  mailboxBuckets: TokenBuckets;
  /** Per device, for snapshot_put. */
  snapshotBuckets: TokenBuckets;
  /** Pulls, log reads and appends, pre-auth frames, connection caps, fair scheduling (issue 11). */
  budgets: Budgets;
  seqLock: KeyedLock;
  /** Sim only (relay/defences.ts): defences switched off for this in-process run. Absent: all on. */
  defencesOff?: ReadonlySet<string>;
  /**
   * Sim only (docs/SIM.md → Semantics): how a push from a device no longer active is judged. 'push'
   * (the product's, and the default): by the log as the relay holds it now. 'causal': by the log as its
   * author had it when sealing (the envelope's logIndex/logHead), so an edit made before the author
   * could know of its removal is accepted.
   */
  removalJudgement?: 'push' | 'causal';
  /** workspaceId → subscribed connections */
  subscribers: Map<string, Set<Subscriber>>;
  /** Who may create workspaces (relay/admission.ts). */
  admission: AdmissionMode;
}
