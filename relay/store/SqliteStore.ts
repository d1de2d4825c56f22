// RelayStore on SQLite (better-sqlite3 v12): WAL, one transaction per write, unique constraints on
// (workspace, device, doc, seq) and on the envelope hash so a re-send can never be stored twice.
// Envelope inserts are group-committed: those queued in one event-loop turn share one transaction
// and one fsync, each in its own savepoint, and each promise settles only after the commit.
// The schema is built by numbered migrations (MIGRATIONS), recorded in `schema_version` and run
// when the store opens; `cloister relay migrate` only opens and closes it.
import Database from 'better-sqlite3';
import type {
  GroupCommit, HeldEnvelope, InsertEnvelopeResult, InsertSnapshotResult, LeaseRecord, MailboxItem, MigrationReport, NewEnvelope, NewHeldEnvelope,
  NewSnapshot, RelayStore, SignupTokenRecord, SignupTokenUse, StoredEnvelope, StoredSnapshot, UsageTotals,
} from './RelayStore.ts';
import { decodeCovers, effectiveCovers } from './snapshotCovers.ts';

/** Migration 1: the original schema (CREATE … IF NOT EXISTS, so a database from before migrations adopts it). */
const M1 = `
CREATE TABLE IF NOT EXISTS relay_meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS log_entries (
  workspace_id TEXT NOT NULL, idx INTEGER NOT NULL, entry BLOB NOT NULL,
  PRIMARY KEY (workspace_id, idx));
CREATE TABLE IF NOT EXISTS envelopes (
  workspace_id TEXT NOT NULL, relay_seq INTEGER NOT NULL,
  device_id TEXT NOT NULL, doc_id TEXT NOT NULL, seq INTEGER NOT NULL,
  hash TEXT NOT NULL UNIQUE, bytes BLOB NOT NULL, received_at INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, relay_seq),
  UNIQUE (workspace_id, device_id, doc_id, seq));
CREATE TABLE IF NOT EXISTS leases (
  lease_id TEXT PRIMARY KEY, workspace_id TEXT NOT NULL, device_id TEXT NOT NULL,
  issued_at INTEGER NOT NULL, not_after INTEGER NOT NULL, bytes BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS held (
  held_id INTEGER PRIMARY KEY AUTOINCREMENT, workspace_id TEXT NOT NULL,
  device_id TEXT NOT NULL, doc_id TEXT NOT NULL, seq INTEGER NOT NULL,
  hash TEXT NOT NULL UNIQUE, bytes BLOB NOT NULL, received_at INTEGER NOT NULL, reason TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS held_by_seq ON held (workspace_id, device_id, doc_id, seq);
CREATE TABLE IF NOT EXISTS mailbox (
  box_id TEXT NOT NULL, slot TEXT NOT NULL, data BLOB NOT NULL,
  created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
  PRIMARY KEY (box_id, slot));
CREATE INDEX IF NOT EXISTS mailbox_by_expiry ON mailbox (expires_at);
`;

/** Migration 2: storage accounting (backfilled), lease pruning index, admission (signup tokens, key allowlist). */
const M2 = `
CREATE TABLE workspace_usage (workspace_id TEXT PRIMARY KEY, bytes INTEGER NOT NULL);
INSERT INTO workspace_usage (workspace_id, bytes)
  SELECT workspace_id, SUM(n) FROM (
    SELECT workspace_id, LENGTH(bytes) AS n FROM envelopes
    UNION ALL SELECT workspace_id, LENGTH(bytes) FROM held
    UNION ALL SELECT workspace_id, LENGTH(entry) FROM log_entries)
  GROUP BY workspace_id;
CREATE INDEX leases_by_expiry ON leases (not_after);
CREATE TABLE signup_tokens (
  token_hash TEXT PRIMARY KEY, uses_left INTEGER NOT NULL, expires_at INTEGER, created_at INTEGER NOT NULL);
CREATE TABLE admission_keys (device_id TEXT PRIMARY KEY, added_at INTEGER NOT NULL);
`;

/**
 * Migration 3: document snapshots (issue 13). snapshot_heads hands out the per-workspace snapshot seq;
 * pruned_through remembers, per (workspace, device, doc), the highest envelope seq pruned under a
 * snapshot, so a re-send of it is told covered_by_snapshot rather than seq_replay.
 */
const M3 = `
CREATE TABLE snapshots (
  workspace_id TEXT NOT NULL, snapshot_seq INTEGER NOT NULL,
  doc_id TEXT NOT NULL, device_id TEXT NOT NULL, snapshot_id TEXT NOT NULL,
  covers TEXT NOT NULL, hash TEXT NOT NULL, bytes BLOB NOT NULL,
  received_at INTEGER NOT NULL, pruned_at INTEGER,
  PRIMARY KEY (workspace_id, snapshot_seq),
  UNIQUE (workspace_id, doc_id, snapshot_id));
CREATE INDEX snapshots_by_doc ON snapshots (workspace_id, doc_id, snapshot_seq);
CREATE INDEX snapshots_due ON snapshots (received_at) WHERE pruned_at IS NULL;
CREATE TABLE snapshot_heads (workspace_id TEXT PRIMARY KEY, head INTEGER NOT NULL);
CREATE TABLE pruned_through (
  workspace_id TEXT NOT NULL, device_id TEXT NOT NULL, doc_id TEXT NOT NULL, seq INTEGER NOT NULL,
  PRIMARY KEY (workspace_id, device_id, doc_id));
`;

/** Numbered migrations: MIGRATIONS[i] takes the schema from version i to i + 1. Append only. */
export const SQLITE_MIGRATIONS: readonly string[] = [M1, M2, M3];
export const SQLITE_SCHEMA_VERSION = SQLITE_MIGRATIONS.length;

/** Runs the migrations the database lacks, each in its own transaction with its version row. */
export function migrateSqlite(db: Database.Database, now = Date.now()): MigrationReport {
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
  const current = () => (db.prepare('SELECT COALESCE(MAX(version), 0) AS v FROM schema_version').get() as { v: number }).v;
  const from = current();
  if (from > SQLITE_MIGRATIONS.length)
    throw new Error(`the database is at schema version ${from}, newer than this relay knows (${SQLITE_MIGRATIONS.length}); upgrade the relay`);
  for (let v = from; v < SQLITE_MIGRATIONS.length; v++) {
    db.transaction(() => {
      if (current() !== v) return; // another process migrated meanwhile
      db.exec(SQLITE_MIGRATIONS[v]!);
      db.prepare('INSERT INTO schema_version (version, applied_at) VALUES (?, ?)').run(v + 1, now);
    }).immediate();
  }
  return { from, to: current() };
}

interface EnvRow {
  workspace_id: string; relay_seq: number; device_id: string; doc_id: string; seq: number;
  hash: string; bytes: Buffer; received_at: number;
}
interface HeldRow {
  held_id: number; workspace_id: string; device_id: string; doc_id: string; seq: number;
  hash: string; bytes: Buffer; received_at: number; reason: string;
}

interface SnapRow {
  workspace_id: string; snapshot_seq: number; doc_id: string; device_id: string; snapshot_id: string;
  covers: string; hash: string; bytes: Buffer; received_at: number; pruned_at: number | null;
}

const toSnapshot = (r: SnapRow): StoredSnapshot => ({
  workspaceId: r.workspace_id, docId: r.doc_id, deviceId: r.device_id, snapshotSeq: r.snapshot_seq, snapshotId: r.snapshot_id,
  covers: decodeCovers(r.covers), hash: r.hash, bytes: new Uint8Array(r.bytes), receivedAt: r.received_at,
  ...(r.pruned_at !== null ? { prunedAt: r.pruned_at } : {}),
});

const toEnvelope = (r: EnvRow): StoredEnvelope => ({
  workspaceId: r.workspace_id, relaySeq: r.relay_seq, deviceId: r.device_id, docId: r.doc_id, seq: r.seq,
  hash: r.hash, bytes: new Uint8Array(r.bytes), receivedAt: r.received_at,
});
const toHeld = (r: HeldRow): HeldEnvelope => ({
  heldId: r.held_id, workspaceId: r.workspace_id, deviceId: r.device_id, docId: r.doc_id, seq: r.seq,
  hash: r.hash, bytes: new Uint8Array(r.bytes), receivedAt: r.received_at, reason: r.reason,
});

/** An envelope insert waiting for the next group commit. */
interface QueuedInsert {
  e: NewEnvelope;
  /** The queued insert of the same (workspace, device, doc) at seq - 1: this one was sequenced behind it. */
  after: QueuedInsert | undefined;
  /** Set by the commit: its result, or why it failed. */
  result?: InsertEnvelopeResult;
  error?: unknown;
  resolve: (r: InsertEnvelopeResult) => void;
  reject: (e: unknown) => void;
}

export interface SqliteStoreOptions {
  /** Envelope inserts queued in one event-loop turn share one transaction (default true; false: one each, as before). */
  groupCommit?: boolean;
  /** A queue this long commits at once rather than at the end of the turn (default 256). */
  maxBatch?: number;
  /** …or holding this many bytes (default 16 MiB). */
  maxBatchBytes?: number;
}

const seqKey = (workspaceId: string, deviceId: string, docId: string) => `${workspaceId}\u0000${deviceId}\u0000${docId}`;

export class SqliteStore implements RelayStore {
  private readonly db: Database.Database;
  private closed = false;
  readonly migration: MigrationReport;
  readonly groupCommit: GroupCommit | undefined;
  readonly #maxBatch: number;
  readonly #maxBatchBytes: number;
  #queue: QueuedInsert[] = [];
  #queueBytes = 0;
  /** Per (workspace, device, doc): the last queued insert (the highest seq, as push.ts queues them in order). */
  readonly #queuedByKey = new Map<string, QueuedInsert>();
  /** Per workspace: bytes of queued inserts (push.ts counts them against the quota). */
  readonly #queuedBytesByWorkspace = new Map<string, number>();
  #flushTimer: NodeJS.Immediate | undefined;
  #failures = 0;
  /** One insert; called inside the batch's transaction, better-sqlite3 runs it in a savepoint. */
  readonly #insertInSavepoint: (e: NewEnvelope) => InsertEnvelopeResult;
  /** Every queued insert in one transaction, in queue order. */
  readonly #commitBatch: Database.Transaction<(batch: QueuedInsert[]) => void>;

  constructor(path: string, opts: SqliteStoreOptions = {}) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL'); // an acknowledged envelope survives power loss
    this.db.pragma('busy_timeout = 5000');
    this.migration = migrateSqlite(this.db);
    this.#insertInSavepoint = this.db.transaction((e: NewEnvelope) => this.insertEnvelopeTx(e));
    this.#commitBatch = this.db.transaction((batch: QueuedInsert[]) => {
      for (const q of batch) {
        if (q.after && (!q.after.result || q.after.result.status === 'conflict')) {
          q.error = new Error(`envelope ${q.e.seq - 1} of this document, queued before it, was not stored`);
          continue;
        }
        try {
          q.result = this.#insertInSavepoint(q.e);
        } catch (err) {
          q.error = err;
        }
      }
    });
    this.#maxBatch = Math.max(1, opts.maxBatch ?? 256);
    this.#maxBatchBytes = opts.maxBatchBytes ?? 16 * 1024 * 1024;
    const store = this;
    this.groupCommit = opts.groupCommit === false ? undefined : {
      queuedLastSeq: (w, d, doc) => this.#queuedByKey.get(seqKey(w, d, doc))?.e.seq ?? 0,
      queuedBytes: (w) => this.#queuedBytesByWorkspace.get(w) ?? 0,
      settle: async () => this.#flush(),
      get failures() {
        return store.#failures;
      },
    };
  }

  readonly #statements = new Map<string, Database.Statement>();

  /** The statement for this SQL, compiled once per store (better-sqlite3 compiles on every prepare(): ≈250 ms of a 2,000-envelope push). */
  private sql(text: string): Database.Statement {
    let st = this.#statements.get(text);
    if (!st) this.#statements.set(text, (st = this.db.prepare(text)));
    return st;
  }

  /** Adds `delta` bytes to a workspace's usage counter (inside the caller's transaction). */
  private addUsage(workspaceId: string, delta: number): void {
    if (delta === 0) return;
    this
      .sql('INSERT INTO workspace_usage (workspace_id, bytes) VALUES (?, ?) ON CONFLICT (workspace_id) DO UPDATE SET bytes = bytes + excluded.bytes')
      .run(workspaceId, delta);
  }

  async getOrCreateRelayKey(generate: () => Uint8Array): Promise<Uint8Array> {
    return this.db.transaction(() => {
      const row = this.sql('SELECT value FROM relay_meta WHERE key = ?').get('relay_key') as { value: Buffer } | undefined;
      if (row) return new Uint8Array(row.value);
      const key = generate();
      this.sql('INSERT INTO relay_meta (key, value) VALUES (?, ?)').run('relay_key', Buffer.from(key));
      return key;
    }).immediate();
  }

  async appendLogEntry(workspaceId: string, index: number, entry: Uint8Array): Promise<boolean> {
    return this.db.transaction(() => {
      const { n } = this.sql('SELECT COUNT(*) AS n FROM log_entries WHERE workspace_id = ?').get(workspaceId) as { n: number };
      if (n !== index) return false;
      this.sql('INSERT INTO log_entries (workspace_id, idx, entry) VALUES (?, ?, ?)').run(workspaceId, index, Buffer.from(entry));
      this.addUsage(workspaceId, entry.length);
      return true;
    }).immediate();
  }

  async listLogEntries(workspaceId: string): Promise<Uint8Array[]> {
    const rows = this.sql('SELECT entry FROM log_entries WHERE workspace_id = ? ORDER BY idx').all(workspaceId) as { entry: Buffer }[];
    return rows.map((r) => new Uint8Array(r.entry));
  }

  private insertEnvelopeTx(e: NewEnvelope): InsertEnvelopeResult {
    const existing = this
      .sql('SELECT relay_seq, hash FROM envelopes WHERE workspace_id = ? AND device_id = ? AND doc_id = ? AND seq = ?')
      .get(e.workspaceId, e.deviceId, e.docId, e.seq) as { relay_seq: number; hash: string } | undefined;
    if (existing) return existing.hash === e.hash ? { status: 'duplicate', relaySeq: existing.relay_seq } : { status: 'conflict' };
    const sameHash = this.sql('SELECT 1 FROM envelopes WHERE hash = ?').get(e.hash);
    if (sameHash) return { status: 'conflict' };
    const { head } = this.sql('SELECT COALESCE(MAX(relay_seq), 0) AS head FROM envelopes WHERE workspace_id = ?').get(e.workspaceId) as { head: number };
    const relaySeq = head + 1;
    this
      .sql('INSERT INTO envelopes (workspace_id, relay_seq, device_id, doc_id, seq, hash, bytes, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(e.workspaceId, relaySeq, e.deviceId, e.docId, e.seq, e.hash, Buffer.from(e.bytes), e.receivedAt);
    this.addUsage(e.workspaceId, e.bytes.length);
    return { status: 'inserted', relaySeq };
  }

  insertEnvelope(e: NewEnvelope): Promise<InsertEnvelopeResult> {
    if (this.closed) return Promise.reject(new Error('the store is closed'));
    if (!this.groupCommit) return new Promise((resolve) => resolve(this.db.transaction(() => this.insertEnvelopeTx(e)).immediate()));
    // Queued now (synchronously: push.ts reads queuedLastSeq right after); settled after the commit.
    return new Promise<InsertEnvelopeResult>((resolve, reject) => {
      const key = seqKey(e.workspaceId, e.deviceId, e.docId);
      const prev = this.#queuedByKey.get(key);
      const q: QueuedInsert = { e, after: prev && prev.e.seq === e.seq - 1 ? prev : undefined, resolve, reject };
      this.#queue.push(q);
      if (!prev || prev.e.seq <= e.seq) this.#queuedByKey.set(key, q);
      this.#queueBytes += e.bytes.length;
      this.#queuedBytesByWorkspace.set(e.workspaceId, (this.#queuedBytesByWorkspace.get(e.workspaceId) ?? 0) + e.bytes.length);
      if (this.#queue.length >= this.#maxBatch || this.#queueBytes >= this.#maxBatchBytes) this.#flush();
      else this.#flushTimer ??= setImmediate(() => this.#flush());
    });
  }

  /**
   * Commits every queued insert in one IMMEDIATE transaction (one WAL fsync), each in its own savepoint
   * so that one failing rolls back alone; then settles each promise with its own result. An insert
   * sequenced behind a queued one of the same document (seq - 1) fails if that one was not stored:
   * it must not be stored with a gap below it.
   */
  #flush(): void {
    if (this.#flushTimer) clearImmediate(this.#flushTimer);
    this.#flushTimer = undefined;
    const batch = this.#queue;
    if (batch.length === 0) return;
    this.#queue = [];
    this.#queueBytes = 0;
    this.#queuedByKey.clear();
    this.#queuedBytesByWorkspace.clear();
    try {
      this.#commitBatch.immediate(batch);
    } catch (err) {
      // BEGIN or COMMIT failed: nothing of the batch is stored.
      this.#failures += batch.length;
      for (const q of batch) q.reject(err);
      return;
    }
    for (const q of batch) {
      if (q.result) {
        if (q.result.status === 'conflict') this.#failures++;
        q.resolve(q.result);
      } else {
        this.#failures++;
        q.reject(q.error);
      }
    }
  }

  async getEnvelope(workspaceId: string, deviceId: string, docId: string, seq: number): Promise<StoredEnvelope | undefined> {
    const r = this
      .sql('SELECT * FROM envelopes WHERE workspace_id = ? AND device_id = ? AND doc_id = ? AND seq = ?')
      .get(workspaceId, deviceId, docId, seq) as EnvRow | undefined;
    return r && toEnvelope(r);
  }

  async lastSeq(workspaceId: string, deviceId: string, docId: string): Promise<number> {
    const r = this
      .sql('SELECT COALESCE(MAX(seq), 0) AS s FROM envelopes WHERE workspace_id = ? AND device_id = ? AND doc_id = ?')
      .get(workspaceId, deviceId, docId) as { s: number };
    return r.s;
  }

  async listEnvelopes(workspaceId: string, cursor: number, limit: number): Promise<StoredEnvelope[]> {
    const rows = this
      .sql('SELECT * FROM envelopes WHERE workspace_id = ? AND relay_seq > ? ORDER BY relay_seq LIMIT ?')
      .all(workspaceId, cursor, limit) as EnvRow[];
    return rows.map(toEnvelope);
  }

  async headRelaySeq(workspaceId: string): Promise<number> {
    const r = this.sql('SELECT COALESCE(MAX(relay_seq), 0) AS h FROM envelopes WHERE workspace_id = ?').get(workspaceId) as { h: number };
    return r.h;
  }

  async insertSnapshot(s: NewSnapshot, keepPerDoc: number): Promise<InsertSnapshotResult> {
    return this.db.transaction((): InsertSnapshotResult => {
      const existing = this
        .sql('SELECT snapshot_seq FROM snapshots WHERE workspace_id = ? AND doc_id = ? AND (snapshot_id = ? OR hash = ?) LIMIT 1')
        .get(s.workspaceId, s.docId, s.snapshotId, s.hash) as { snapshot_seq: number } | undefined;
      if (existing) return { status: 'duplicate', snapshotSeq: existing.snapshot_seq };
      const { head } = this
        .sql('INSERT INTO snapshot_heads (workspace_id, head) VALUES (?, 1) ON CONFLICT (workspace_id) DO UPDATE SET head = head + 1 RETURNING head')
        .get(s.workspaceId) as { head: number };
      this
        .sql('INSERT INTO snapshots (workspace_id, snapshot_seq, doc_id, device_id, snapshot_id, covers, hash, bytes, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
        .run(s.workspaceId, head, s.docId, s.deviceId, s.snapshotId, JSON.stringify(s.covers), s.hash, Buffer.from(s.bytes), s.receivedAt);
      this.addUsage(s.workspaceId, s.bytes.length);
      // Keep the newest `keepPerDoc` of the document (never fewer than the one just stored).
      const old = this
        .sql('SELECT snapshot_seq, LENGTH(bytes) AS n FROM snapshots WHERE workspace_id = ? AND doc_id = ? ORDER BY snapshot_seq DESC LIMIT -1 OFFSET ?')
        .all(s.workspaceId, s.docId, Math.max(1, keepPerDoc)) as { snapshot_seq: number; n: number }[];
      const drop = this.sql('DELETE FROM snapshots WHERE workspace_id = ? AND snapshot_seq = ?');
      for (const o of old) drop.run(s.workspaceId, o.snapshot_seq);
      this.addUsage(s.workspaceId, -old.reduce((a, o) => a + o.n, 0));
      return { status: 'inserted', snapshotSeq: head };
    }).immediate();
  }

  async listSnapshots(workspaceId: string, after: number, limit: number, docId?: string): Promise<StoredSnapshot[]> {
    if (docId !== undefined)
      return (this.sql('SELECT * FROM snapshots WHERE workspace_id = ? AND doc_id = ? ORDER BY snapshot_seq DESC LIMIT ?').all(workspaceId, docId, limit) as SnapRow[]).map(toSnapshot);
    const rows = this
      .sql(
        `SELECT * FROM snapshots s WHERE s.workspace_id = ? AND s.snapshot_seq > ?
           AND NOT EXISTS (SELECT 1 FROM snapshots t WHERE t.workspace_id = s.workspace_id AND t.doc_id = s.doc_id AND t.snapshot_seq > s.snapshot_seq)
         ORDER BY s.snapshot_seq LIMIT ?`,
      )
      .all(workspaceId, after, limit) as SnapRow[];
    return rows.map(toSnapshot);
  }

  async snapshotsDueForPruning(receivedBefore: number, limit: number): Promise<StoredSnapshot[]> {
    const rows = this
      .sql('SELECT * FROM snapshots WHERE pruned_at IS NULL AND received_at <= ? ORDER BY received_at, workspace_id, snapshot_seq LIMIT ?')
      .all(receivedBefore, limit) as SnapRow[];
    return rows.map(toSnapshot);
  }

  async pruneCoveredEnvelopes(s: StoredSnapshot, now: number): Promise<number> {
    return this.db.transaction((): number => {
      // Only the transaction that marks the snapshot pruned deletes (a second call, or a dropped snapshot: 0).
      const row = this
        .sql('UPDATE snapshots SET pruned_at = ? WHERE workspace_id = ? AND snapshot_seq = ? AND pruned_at IS NULL RETURNING doc_id, covers')
        .get(now, s.workspaceId, s.snapshotSeq) as { doc_id: string; covers: string } | undefined;
      if (!row) return 0;
      const newer = (this
        .sql('SELECT covers FROM snapshots WHERE workspace_id = ? AND doc_id = ? AND snapshot_seq > ?')
        .all(s.workspaceId, row.doc_id, s.snapshotSeq) as { covers: string }[]).map((r) => decodeCovers(r.covers));
      const { head } = this.sql('SELECT COALESCE(MAX(relay_seq), 0) AS head FROM envelopes WHERE workspace_id = ?').get(s.workspaceId) as { head: number };
      let deleted = 0;
      for (const c of effectiveCovers(decodeCovers(row.covers), newer)) {
        // Never the newest envelope of (device, doc): lastSeq stays right for the push checks. Never the
        // workspace's highest relay seq either: relay seqs are allocated above it and must not be reused.
        const gone = this
          .sql(
            `DELETE FROM envelopes WHERE workspace_id = ? AND device_id = ? AND doc_id = ? AND seq <= ? AND relay_seq < ?
               AND seq < (SELECT MAX(seq) FROM envelopes WHERE workspace_id = ? AND device_id = ? AND doc_id = ?)
             RETURNING seq, LENGTH(bytes) AS n`,
          )
          .all(s.workspaceId, c.deviceId, row.doc_id, c.seq, head, s.workspaceId, c.deviceId, row.doc_id) as { seq: number; n: number }[];
        if (!gone.length) continue;
        deleted += gone.length;
        this.addUsage(s.workspaceId, -gone.reduce((a, g) => a + g.n, 0));
        this
          .sql('INSERT INTO pruned_through (workspace_id, device_id, doc_id, seq) VALUES (?, ?, ?, ?) ON CONFLICT (workspace_id, device_id, doc_id) DO UPDATE SET seq = MAX(seq, excluded.seq)')
          .run(s.workspaceId, c.deviceId, row.doc_id, gone.reduce((m, g) => Math.max(m, g.seq), 0));
      }
      return deleted;
    }).immediate();
  }

  async prunedThrough(workspaceId: string, deviceId: string, docId: string): Promise<number> {
    const r = this.sql('SELECT seq FROM pruned_through WHERE workspace_id = ? AND device_id = ? AND doc_id = ?').get(workspaceId, deviceId, docId) as
      | { seq: number }
      | undefined;
    return r?.seq ?? 0;
  }

  async putLease(l: LeaseRecord): Promise<void> {
    this
      .sql('INSERT OR REPLACE INTO leases (lease_id, workspace_id, device_id, issued_at, not_after, bytes) VALUES (?, ?, ?, ?, ?, ?)')
      .run(l.leaseId, l.workspaceId, l.deviceId, l.issuedAt, l.notAfter, Buffer.from(l.bytes));
  }

  async getLease(leaseId: string): Promise<LeaseRecord | undefined> {
    const r = this.sql('SELECT * FROM leases WHERE lease_id = ?').get(leaseId) as
      | { lease_id: string; workspace_id: string; device_id: string; issued_at: number; not_after: number; bytes: Buffer }
      | undefined;
    return r && {
      leaseId: r.lease_id, workspaceId: r.workspace_id, deviceId: r.device_id, issuedAt: r.issued_at,
      notAfter: r.not_after, bytes: new Uint8Array(r.bytes),
    };
  }

  async insertHeld(h: NewHeldEnvelope): Promise<number> {
    return this.db.transaction(() => {
      const existing = this.sql('SELECT held_id FROM held WHERE hash = ?').get(h.hash) as { held_id: number } | undefined;
      if (existing) return existing.held_id;
      const r = this
        .sql('INSERT INTO held (workspace_id, device_id, doc_id, seq, hash, bytes, received_at, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
        .run(h.workspaceId, h.deviceId, h.docId, h.seq, h.hash, Buffer.from(h.bytes), h.receivedAt, h.reason);
      this.addUsage(h.workspaceId, h.bytes.length);
      return Number(r.lastInsertRowid);
    }).immediate();
  }

  async listHeld(workspaceId: string): Promise<HeldEnvelope[]> {
    return (this.sql('SELECT * FROM held WHERE workspace_id = ? ORDER BY held_id').all(workspaceId) as HeldRow[]).map(toHeld);
  }

  async getHeldAt(workspaceId: string, deviceId: string, docId: string, seq: number): Promise<HeldEnvelope | undefined> {
    const r = this
      .sql('SELECT * FROM held WHERE workspace_id = ? AND device_id = ? AND doc_id = ? AND seq = ? ORDER BY held_id LIMIT 1')
      .get(workspaceId, deviceId, docId, seq) as HeldRow | undefined;
    return r && toHeld(r);
  }

  async lastHeldSeq(workspaceId: string, deviceId: string, docId: string): Promise<number> {
    const r = this
      .sql('SELECT COALESCE(MAX(seq), 0) AS s FROM held WHERE workspace_id = ? AND device_id = ? AND doc_id = ?')
      .get(workspaceId, deviceId, docId) as { s: number };
    return r.s;
  }

  async releaseHeld(workspaceId: string, heldId: number): Promise<InsertEnvelopeResult | undefined> {
    return this.db.transaction(() => {
      const r = this.sql('SELECT * FROM held WHERE workspace_id = ? AND held_id = ?').get(workspaceId, heldId) as HeldRow | undefined;
      if (!r) return undefined;
      const h = toHeld(r);
      const res = this.insertEnvelopeTx({
        workspaceId: h.workspaceId, deviceId: h.deviceId, docId: h.docId, seq: h.seq, hash: h.hash, bytes: h.bytes, receivedAt: h.receivedAt,
      });
      if (res.status !== 'conflict') {
        this.sql('DELETE FROM held WHERE held_id = ?').run(heldId);
        this.addUsage(h.workspaceId, -h.bytes.length);
      }
      return res;
    }).immediate();
  }

  async putMailboxItem(item: MailboxItem, now: number): Promise<boolean> {
    return this.db.transaction(() => {
      this.sql('DELETE FROM mailbox WHERE box_id = ? AND slot = ? AND expires_at <= ?').run(item.boxId, item.slot, now);
      const r = this
        .sql('INSERT OR IGNORE INTO mailbox (box_id, slot, data, created_at, expires_at) VALUES (?, ?, ?, ?, ?)')
        .run(item.boxId, item.slot, Buffer.from(item.data), item.createdAt, item.expiresAt);
      return r.changes === 1;
    }).immediate();
  }

  async getMailboxItem(boxId: string, slot: string, now: number): Promise<MailboxItem | undefined> {
    const r = this.sql('SELECT * FROM mailbox WHERE box_id = ? AND slot = ? AND expires_at > ?').get(boxId, slot, now) as
      | { box_id: string; slot: string; data: Buffer; created_at: number; expires_at: number }
      | undefined;
    return r && { boxId: r.box_id, slot: r.slot, data: new Uint8Array(r.data), createdAt: r.created_at, expiresAt: r.expires_at };
  }

  async deleteExpiredMailboxItems(now: number): Promise<number> {
    return this.sql('DELETE FROM mailbox WHERE expires_at <= ?').run(now).changes;
  }

  async countMailboxItems(now: number): Promise<number> {
    return (this.sql('SELECT COUNT(*) AS n FROM mailbox WHERE expires_at > ?').get(now) as { n: number }).n;
  }

  async deleteExpiredLeases(before: number): Promise<number> {
    return this.sql('DELETE FROM leases WHERE not_after < ?').run(before).changes;
  }

  async workspaceUsage(workspaceId: string): Promise<number> {
    const r = this.sql('SELECT bytes FROM workspace_usage WHERE workspace_id = ?').get(workspaceId) as { bytes: number } | undefined;
    return r?.bytes ?? 0;
  }

  async usageTotals(thresholdBytes: number): Promise<UsageTotals> {
    const r = this
      .sql('SELECT COALESCE(SUM(bytes), 0) AS total, COUNT(*) AS n, COALESCE(SUM(bytes >= ?), 0) AS above FROM workspace_usage WHERE bytes > 0')
      .get(thresholdBytes) as { total: number; n: number; above: number };
    return { totalBytes: r.total, workspaces: r.n, atOrAbove: r.above };
  }

  async putSignupToken(t: SignupTokenRecord): Promise<void> {
    this
      .sql('INSERT OR REPLACE INTO signup_tokens (token_hash, uses_left, expires_at, created_at) VALUES (?, ?, ?, ?)')
      .run(t.tokenHash, t.usesLeft, t.expiresAt ?? null, t.createdAt);
  }

  async useSignupToken(tokenHash: string, now: number): Promise<SignupTokenUse> {
    return this.db.transaction((): SignupTokenUse => {
      const r = this.sql('SELECT uses_left, expires_at FROM signup_tokens WHERE token_hash = ?').get(tokenHash) as
        | { uses_left: number; expires_at: number | null }
        | undefined;
      if (!r) return 'unknown';
      if (r.expires_at !== null && now > r.expires_at) return 'expired';
      if (r.uses_left <= 0) return 'used_up';
      this.sql('UPDATE signup_tokens SET uses_left = uses_left - 1 WHERE token_hash = ?').run(tokenHash);
      return 'ok';
    }).immediate();
  }

  async refundSignupToken(tokenHash: string): Promise<void> {
    this.sql('UPDATE signup_tokens SET uses_left = uses_left + 1 WHERE token_hash = ?').run(tokenHash);
  }

  async allowDevice(deviceId: string, now: number): Promise<void> {
    this.sql('INSERT OR IGNORE INTO admission_keys (device_id, added_at) VALUES (?, ?)').run(deviceId, now);
  }

  async disallowDevice(deviceId: string): Promise<boolean> {
    return this.sql('DELETE FROM admission_keys WHERE device_id = ?').run(deviceId).changes === 1;
  }

  async isDeviceAllowed(deviceId: string): Promise<boolean> {
    return !!this.sql('SELECT 1 FROM admission_keys WHERE device_id = ?').get(deviceId);
  }

  async listAllowedDevices(): Promise<string[]> {
    return (this.sql('SELECT device_id FROM admission_keys ORDER BY device_id').all() as { device_id: string }[]).map((r) => r.device_id);
  }

  async schemaVersion(): Promise<number> {
    return (this.sql('SELECT COALESCE(MAX(version), 0) AS v FROM schema_version').get() as { v: number }).v;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.#flush(); // queued inserts are committed (and settled) before the database closes
    this.closed = true;
    this.db.close();
  }
}
