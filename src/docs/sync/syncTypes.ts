// The sync engine's contract: what it needs from an open session, its options, what one pass
// reports, its events, and the one-line errors a person can act on.
import type { DeviceKeys } from '../../identity/workspace/signEntry.ts';
import type { WorkspaceState } from '../../identity/workspace/state.ts';
import type { StoredWorkspace } from '../../identity/workspace/store.ts';
import type { Lease } from '../../protocol/lease.ts';
import type { ApplyReport, DocSession } from '../DocSession.ts';
import type { LeaseClock } from './LeaseClock.ts';
import type { LiveWorkspace } from './LiveWorkspace.ts';
import type { RelayClientOptions } from './relayClient.ts';
import type { SyncStateStore } from './syncState.ts';

/** Where the engine keeps the workspace's log, epoch keys and metadata (Node: identity/workspace/store.ts). */
export interface WorkspaceStorePort {
  load(): Promise<StoredWorkspace | undefined>;
  save(ws: StoredWorkspace): Promise<void>;
}

/** Everything the engine needs about an open session (see syncSessionOf for the Node profile). */
export interface SyncSession {
  docs: DocSession;
  live: LiveWorkspace;
  syncState: SyncStateStore;
  lease: LeaseClock;
  device: DeviceKeys;
  workspaceStore: WorkspaceStorePort;
}

export interface SyncEngineOptions {
  /** ws://HOST:PORT of the relay (default: the workspace's stored `relay` metadata). */
  relayUrl?: string;
  /** WebSocket constructor (default: global WebSocket, else `ws`). Tests inject faulty sockets here. */
  WebSocketImpl?: RelayClientOptions['WebSocket'];
  /** Envelopes pushed without waiting for their acks (default 256; the relay closes beyond 1000 queued). */
  pushWindow?: number;
  /** Envelopes asked for per pull (default 1000, the relay's maximum). */
  pullLimit?: number;
  /** Envelopes handed to one DocSession.applyRemote call (default 10,000): Automerge wants large batches. */
  applyBatch?: number;
  /** Reconnect backoff (long-running mode): base and cap, ms (default 500 and 30,000). */
  backoff?: { baseMs?: number; maxMs?: number };
  /** Per-request timeout, ms (default 30,000). */
  timeoutMs?: number;
  /** Long-running mode: how often to look for envelopes other processes of this profile sealed (default 2000 ms). */
  outboxPollMs?: number;
  /** Long-running mode: how often to ping the relay while connected (default 4 min, 0: never), so a live
   *  subscription is not closed as idle (the relay's idleTimeoutMs, 15 min by default; close code 4002). */
  keepaliveMs?: number;
  /** Local clock (default Date.now): entry times, lease observation. */
  now?: () => number;
  /** Structured diagnostics (never secrets or payloads). */
  log?: (level: 'info' | 'warn' | 'error', msg: string, detail?: Record<string, unknown>) => void;
  /** Random source for jitter (default Math.random). */
  random?: () => number;
  /** Envelopes on one document between this device's snapshots of it (default 64, each 32 changes an envelope carries counting as one more; 0: never seal snapshots). */
  snapshotEvery?: number;
  /** A device that has never pulled starts from the relay's snapshots (default true). */
  loadSnapshots?: boolean;
  /** Called with each batch of pulled envelopes before it is applied (the browser pre-verifies signatures). */
  beforeApply?: (envelopes: readonly Uint8Array[]) => Promise<unknown>;
}

export interface SyncSummary {
  workspaceId: string;
  relay: string;
  /** Envelopes sent this pass, and how each ended. */
  pushed: number;
  acked: number;
  duplicates: number;
  held: number;
  /** Refused by the relay and moved to quarantine, by reason. */
  rejected: Record<string, number>;
  /** Refused for a passing reason (rate limit, gap behind a refused one): still in the outbox. */
  retry: number;
  /** Why local edits could not be sealed this pass (e.g. no key for the current epoch yet), if so. */
  unsealed?: string;
  /** Envelopes received (pull and live) and what became of them. */
  pulled: number;
  applied: number;
  /** Pulled envelopes this device already had (its own, or re-deliveries). */
  alreadyHad: number;
  heldRemote: number;
  quarantinedRemote: Record<string, number>;
  logReceived: number;
  logSent: number;
  logRejected: Record<string, number>;
  /** rotate_key entries this device appended so every active device holds the current key. */
  keysShared: number;
  /** 'member', or why the relay refused pull/subscribe (e.g. 'not_member' after a removal). */
  access: 'member' | 'not_member' | 'unknown_workspace';
  cursor: number;
  outbox: number;
  offlineRemainingMs: number;
  /** Snapshots (docs/SNAPSHOTS.md): adopted on a cold join, refused (by reason), sealed and stored this pass. */
  snapshots: { loaded: number; refused: Record<string, number>; sealed: number };
  ms: number;
}

export type SyncEvents = {
  connected: { relayId: string };
  disconnected: { code: number; reason: string };
  synced: SyncSummary;
  applied: ApplyReport;
  lease: Lease;
  membership: WorkspaceState;
  error: Error;
};

/** A failure a person can act on (one line), with a stable code. */
export class SyncError extends Error {
  constructor(
    readonly code: 'no_relay' | 'relay_key_mismatch' | 'log_invalid' | 'log_fork' | 'connect_failed' | 'closed',
    message: string,
  ) {
    super(message);
    this.name = 'SyncError';
  }
}

/** Add n to a by-reason counter of a summary. */
export const bump = (m: Record<string, number>, k: string, n = 1): void => {
  m[k] = (m[k] ?? 0) + n;
};
