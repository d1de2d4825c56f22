// Shared state of one running relay, handed to every connection and handler.
import type { Logger } from 'pino';
import type { SigningSecretKey } from '../src/crypto/keys.ts';
import type { MembershipModel } from './membership.ts';
import type { RelayMetrics } from './metrics.ts';
import type { NonceRegistry } from './nonces.ts';
import type { TokenBuckets } from './rateLimit.ts';
import type { KeyedLock } from './keyedLock.ts';
import type { RelayStore } from './store/RelayStore.ts';
import type { WorkspaceCache } from './workspaceCache.ts';

export interface RelayLimits {
  /** Largest WebSocket frame accepted; a bigger one closes the connection with 1009. */
  maxFrameBytes: number;
  /** Token bucket per device for pushes. */
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
}

export const DEFAULT_LIMITS: RelayLimits = {
  maxFrameBytes: 1024 * 1024,
  pushBurst: 2000,
  pushPerSecond: 1000,
  maxPullLimit: 1000,
  maxBatchBytes: 4 * 1024 * 1024,
  maxQueuedFrames: 4096,
  maxQueuedBytes: 32 * 1024 * 1024,
  maxBufferedBytes: 64 * 1024 * 1024,
  authTimeoutMs: 60_000,
  mailboxTtlMs: 10 * 60_000,
  mailboxMaxBytes: 16 * 1024,
  mailboxBurst: 60,
  mailboxPerSecond: 5,
  mailboxMaxItems: 100_000,
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
  seqLock: KeyedLock;
  /** workspaceId → subscribed connections */
  subscribers: Map<string, Set<Subscriber>>;
}
