// The relay's storage contract. Everything it holds is ciphertext, public keys or signed metadata
// (DESIGN → Relay → Stores). Every backend passes test/relay/store/runRelayStoreTests.ts.
// All methods are async so that networked backends (PostgreSQL) fit the same interface.

export interface StoredEnvelope {
  workspaceId: string;
  deviceId: string;
  docId: string;
  seq: number;
  /** Per-workspace, gapless, starting at 1: the pull cursor. */
  relaySeq: number;
  /** SHA-256 of `bytes`, hex: identifies an identical re-send. */
  hash: string;
  bytes: Uint8Array;
  receivedAt: number;
}

export type NewEnvelope = Omit<StoredEnvelope, 'relaySeq'>;

export type InsertEnvelopeResult =
  | { status: 'inserted'; relaySeq: number }
  /** The same bytes are already stored at (workspace, device, doc, seq). */
  | { status: 'duplicate'; relaySeq: number }
  /** Different bytes already hold (workspace, device, doc, seq), or these bytes are stored elsewhere. */
  | { status: 'conflict' };

/** A stored snapshot (src/protocol/snapshot.ts): ciphertext plus the header fields the relay reads. */
export interface StoredSnapshot {
  workspaceId: string;
  docId: string;
  /** The author device. */
  deviceId: string;
  /** Per-workspace, ascending, starting at 1: the snapshot_list cursor (not gapless: old ones are dropped). */
  snapshotSeq: number;
  /** Hex of the header's snapshotId (a keyed hash of the heads): unique per (workspace, doc). */
  snapshotId: string;
  /** From the header: per device, the highest envelope seq the snapshot covers. */
  covers: { deviceId: string; seq: number }[];
  /** SHA-256 of `bytes`, hex. */
  hash: string;
  bytes: Uint8Array;
  receivedAt: number;
  /** When the envelopes it covers were pruned (relay clock); undefined while not yet. */
  prunedAt?: number;
}

export type NewSnapshot = Omit<StoredSnapshot, 'snapshotSeq' | 'prunedAt'>;

export type InsertSnapshotResult =
  | { status: 'inserted'; snapshotSeq: number }
  /** The same snapshotId (or the same bytes) is already stored for this document. */
  | { status: 'duplicate'; snapshotSeq: number };

export interface LeaseRecord {
  leaseId: string;
  workspaceId: string;
  deviceId: string;
  issuedAt: number;
  notAfter: number;
  /** The signed lease as issued. */
  bytes: Uint8Array;
}

export interface HeldEnvelope {
  heldId: number;
  workspaceId: string;
  deviceId: string;
  docId: string;
  seq: number;
  hash: string;
  bytes: Uint8Array;
  receivedAt: number;
  /** Why it was held, e.g. 'lease_expired'. */
  reason: string;
}

export type NewHeldEnvelope = Omit<HeldEnvelope, 'heldId'>;

/** One sealed item in a device-link mailbox (opaque to the relay). */
export interface MailboxItem {
  boxId: string;
  slot: string;
  data: Uint8Array;
  createdAt: number;
  /** Relay clock; after it the item is neither served nor kept. */
  expiresAt: number;
}

/** A signup token as stored: only the SHA-256 of the token, never the token (relay/admission.ts). */
export interface SignupTokenRecord {
  /** SHA-256 of the token, hex. */
  tokenHash: string;
  /** Workspace creations it still allows. */
  usesLeft: number;
  /** Relay clock; after it the token is refused. Undefined: never expires. */
  expiresAt?: number;
  createdAt: number;
}

/** Why a signup token was or was not accepted. */
export type SignupTokenUse = 'ok' | 'unknown' | 'used_up' | 'expired';

/** Storage use over all workspaces (for /metrics: no per-workspace series). */
export interface UsageTotals {
  /** Bytes of envelopes, held envelopes, snapshots and log links over all workspaces. */
  totalBytes: number;
  /** Workspaces with any stored bytes. */
  workspaces: number;
  /** Workspaces whose usage is at least the given threshold. */
  atOrAbove: number;
}

/** What opening the store did to its schema (numbered migrations, a `schema_version` table). */
export interface MigrationReport {
  from: number;
  to: number;
}

/**
 * Group commit (SqliteStore): insertEnvelope queues the insert synchronously, and inserts queued in one
 * event-loop turn commit in one transaction; each promise settles only after that commit. The queue is
 * visible to push.ts through these, and to nothing else (reads see committed rows only).
 */
export interface GroupCommit {
  /** The highest seq of (workspace, device, doc) queued and not yet committed, 0 if none. */
  queuedLastSeq(workspaceId: string, deviceId: string, docId: string): number;
  /** Bytes of the workspace's envelopes queued and not yet committed. */
  queuedBytes(workspaceId: string): number;
  /** Commits everything queued so far; resolves once it is committed (or failed). */
  settle(): Promise<void>;
  /** How many queued inserts have failed so far (a check that read queuedLastSeq before one failed is stale). */
  readonly failures: number;
}

export interface RelayStore {
  /** The relay's Ed25519 seed; on first call stores `generate()` and returns it, later calls return the stored one. */
  getOrCreateRelayKey(generate: () => Uint8Array): Promise<Uint8Array>;

  /** Appends `entry` at position `index` of the workspace's log; false if that position is taken or index > length. */
  appendLogEntry(workspaceId: string, index: number, entry: Uint8Array): Promise<boolean>;
  /** The workspace's log entries in order ([] if unknown). */
  listLogEntries(workspaceId: string): Promise<Uint8Array[]>;

  /**
   * Stores an envelope under the workspace's next relay seq; idempotent on identical bytes, unique per
   * (workspace, device, doc, seq). Resolves only once it is committed. With groupCommit, it is queued
   * before this returns, to commit with others.
   */
  insertEnvelope(e: NewEnvelope): Promise<InsertEnvelopeResult>;
  /** Present when envelope inserts are group-committed (see GroupCommit). */
  readonly groupCommit?: GroupCommit;
  /** The envelope at (workspace, device, doc, seq), if stored. */
  getEnvelope(workspaceId: string, deviceId: string, docId: string, seq: number): Promise<StoredEnvelope | undefined>;
  /** The highest stored seq for (workspace, device, doc), 0 if none. */
  lastSeq(workspaceId: string, deviceId: string, docId: string): Promise<number>;
  /** Envelopes with relaySeq > cursor, ascending, at most `limit`. */
  listEnvelopes(workspaceId: string, cursor: number, limit: number): Promise<StoredEnvelope[]>;
  /** The highest relay seq of the workspace, 0 if none. */
  headRelaySeq(workspaceId: string): Promise<number>;

  /**
   * Stores a snapshot under the workspace's next snapshot seq, then drops all but the newest `keepPerDoc`
   * of its document (counting usage in the same transaction). Idempotent per (workspace, doc, snapshotId).
   */
  insertSnapshot(s: NewSnapshot, keepPerDoc: number): Promise<InsertSnapshotResult>;
  /**
   * Without docId: the newest snapshot of each document whose snapshotSeq > after, ascending by
   * snapshotSeq, at most `limit`. With docId: every stored snapshot of that document, newest first.
   */
  listSnapshots(workspaceId: string, after: number, limit: number, docId?: string): Promise<StoredSnapshot[]>;
  /** Snapshots received at or before `receivedBefore` whose covered envelopes are not pruned yet, oldest first, at most `limit`. */
  snapshotsDueForPruning(receivedBefore: number, limit: number): Promise<StoredSnapshot[]>;
  /**
   * Deletes the envelopes of (workspace, snapshot's doc) that the snapshot covers (seq <= covers[device])
   * except the newest stored envelope of each (device, doc), and marks the snapshot pruned at `now`, in
   * one transaction (usage counted). Returns how many envelopes were deleted.
   * Also never deleted: an envelope a newer stored snapshot of the document does not cover (so the
   * newest snapshot holds everything pruned), and the workspace's highest relay seq. Only the call that
   * marks the snapshot deletes: a second (or concurrent) call for it, or one for a dropped snapshot, returns 0.
   */
  pruneCoveredEnvelopes(s: StoredSnapshot, now: number): Promise<number>;
  /** The highest seq of (workspace, device, doc) whose envelope was pruned, 0 if none (a re-send at or below it is covered, not a replay). */
  prunedThrough(workspaceId: string, deviceId: string, docId: string): Promise<number>;

  /** Records an issued lease. */
  putLease(lease: LeaseRecord): Promise<void>;
  /** The lease with this id, if issued. */
  getLease(leaseId: string): Promise<LeaseRecord | undefined>;

  /** Stores an envelope held for approval; returns its held id (idempotent on identical bytes). */
  insertHeld(h: NewHeldEnvelope): Promise<number>;
  /** Held envelopes of a workspace, oldest first. */
  listHeld(workspaceId: string): Promise<HeldEnvelope[]>;
  /** The held envelope at (workspace, device, doc, seq), if any. */
  getHeldAt(workspaceId: string, deviceId: string, docId: string, seq: number): Promise<HeldEnvelope | undefined>;
  /** The highest held seq for (workspace, device, doc), 0 if none. */
  lastHeldSeq(workspaceId: string, deviceId: string, docId: string): Promise<number>;
  /** Moves a held envelope into the envelope table atomically (approval); undefined if no such held id. */
  releaseHeld(workspaceId: string, heldId: number): Promise<InsertEnvelopeResult | undefined>;

  /** Stores a mailbox item; false if (boxId, slot) already holds an unexpired item (slots are written once). */
  putMailboxItem(item: MailboxItem, now: number): Promise<boolean>;
  /** The unexpired item at (boxId, slot), if any. */
  getMailboxItem(boxId: string, slot: string, now: number): Promise<MailboxItem | undefined>;
  /** Deletes every item expired at `now`; returns how many. */
  deleteExpiredMailboxItems(now: number): Promise<number>;
  /** How many unexpired mailbox items are stored (a global cap against filling the disk). */
  countMailboxItems(now: number): Promise<number>;

  /** Deletes every lease whose notAfter is before `before`; returns how many. */
  deleteExpiredLeases(before: number): Promise<number>;

  /**
   * Storage accounting: bytes of envelopes + held envelopes + snapshots + log links of one workspace, kept as a
   * counter updated in the same transaction as every insert and delete (0 if unknown).
   */
  workspaceUsage(workspaceId: string): Promise<number>;
  /** Totals over all workspaces; `atOrAbove` counts workspaces using at least `thresholdBytes`. */
  usageTotals(thresholdBytes: number): Promise<UsageTotals>;

  /** Stores a signup token (by hash); replaces one with the same hash. */
  putSignupToken(t: SignupTokenRecord): Promise<void>;
  /** Uses the token once, atomically: 'ok' (one use taken), or why not. */
  useSignupToken(tokenHash: string, now: number): Promise<SignupTokenUse>;
  /** Gives back a use taken by useSignupToken (the creation it was for did not happen). */
  refundSignupToken(tokenHash: string): Promise<void>;

  /** Admission by key allowlist: devices that may create workspaces. */
  allowDevice(deviceId: string, now: number): Promise<void>;
  /** Removes a device from the allowlist; false if it was not on it. */
  disallowDevice(deviceId: string): Promise<boolean>;
  isDeviceAllowed(deviceId: string): Promise<boolean>;
  listAllowedDevices(): Promise<string[]>;

  /** The schema version the database is at (the highest migration applied). */
  schemaVersion(): Promise<number>;
  /** What opening this store migrated. */
  readonly migration: MigrationReport;

  /** Flushes and closes; no call may follow. */
  close(): Promise<void>;
}
