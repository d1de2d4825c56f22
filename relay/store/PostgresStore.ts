// RelayStore on PostgreSQL (pg): the same contract as SQLite, for operators who run a database
// server. Unique constraints on (workspace, device, doc, seq) and on the envelope hash make a re-send
// idempotent; a per-workspace head row, locked by its upsert, hands out gapless relay seqs.
// One relay instance per database for now: live fan-out across instances (LISTEN/NOTIFY) is not built.
// The schema is built by numbered migrations (PG_MIGRATIONS), recorded in `schema_version` and run at
// connect under an advisory lock (concurrent starts migrate once); `cloister relay migrate` only
// connects and closes.
import pg from 'pg';
import type {
  HeldEnvelope, InsertEnvelopeResult, InsertSnapshotResult, LeaseRecord, MailboxItem, MigrationReport, NewEnvelope, NewHeldEnvelope,
  NewSnapshot, RelayStore, SignupTokenRecord, SignupTokenUse, StoredEnvelope, StoredSnapshot, UsageTotals,
} from './RelayStore.ts';
import { decodeCovers, effectiveCovers } from './snapshotCovers.ts';

/** Migration 1: the original schema (CREATE … IF NOT EXISTS, so a database from before migrations adopts it). */
const M1 = `
CREATE TABLE IF NOT EXISTS relay_meta (key TEXT PRIMARY KEY, value BYTEA NOT NULL);
CREATE TABLE IF NOT EXISTS log_entries (
  workspace_id TEXT NOT NULL, idx INTEGER NOT NULL, entry BYTEA NOT NULL,
  PRIMARY KEY (workspace_id, idx));
CREATE TABLE IF NOT EXISTS relay_heads (workspace_id TEXT PRIMARY KEY, head BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS envelopes (
  workspace_id TEXT NOT NULL, relay_seq BIGINT NOT NULL,
  device_id TEXT NOT NULL, doc_id TEXT NOT NULL, seq BIGINT NOT NULL,
  hash TEXT NOT NULL UNIQUE, bytes BYTEA NOT NULL, received_at BIGINT NOT NULL,
  PRIMARY KEY (workspace_id, relay_seq),
  UNIQUE (workspace_id, device_id, doc_id, seq));
CREATE TABLE IF NOT EXISTS leases (
  lease_id TEXT PRIMARY KEY, workspace_id TEXT NOT NULL, device_id TEXT NOT NULL,
  issued_at BIGINT NOT NULL, not_after BIGINT NOT NULL, bytes BYTEA NOT NULL);
CREATE TABLE IF NOT EXISTS held (
  held_id BIGSERIAL PRIMARY KEY, workspace_id TEXT NOT NULL,
  device_id TEXT NOT NULL, doc_id TEXT NOT NULL, seq BIGINT NOT NULL,
  hash TEXT NOT NULL UNIQUE, bytes BYTEA NOT NULL, received_at BIGINT NOT NULL, reason TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS held_by_seq ON held (workspace_id, device_id, doc_id, seq);
CREATE TABLE IF NOT EXISTS mailbox (
  box_id TEXT NOT NULL, slot TEXT NOT NULL, data BYTEA NOT NULL,
  created_at BIGINT NOT NULL, expires_at BIGINT NOT NULL,
  PRIMARY KEY (box_id, slot));
CREATE INDEX IF NOT EXISTS mailbox_by_expiry ON mailbox (expires_at);
`;

/** Migration 2: storage accounting (backfilled), lease pruning index, admission (signup tokens, key allowlist). */
const M2 = `
CREATE TABLE workspace_usage (workspace_id TEXT PRIMARY KEY, bytes BIGINT NOT NULL);
INSERT INTO workspace_usage (workspace_id, bytes)
  SELECT workspace_id, SUM(n) FROM (
    SELECT workspace_id, octet_length(bytes) AS n FROM envelopes
    UNION ALL SELECT workspace_id, octet_length(bytes) FROM held
    UNION ALL SELECT workspace_id, octet_length(entry) FROM log_entries) AS s
  GROUP BY workspace_id;
CREATE INDEX leases_by_expiry ON leases (not_after);
CREATE TABLE signup_tokens (
  token_hash TEXT PRIMARY KEY, uses_left INTEGER NOT NULL, expires_at BIGINT, created_at BIGINT NOT NULL);
CREATE TABLE admission_keys (device_id TEXT PRIMARY KEY, added_at BIGINT NOT NULL);
`;

/**
 * Migration 3: document snapshots (issue 13). snapshot_heads hands out the per-workspace snapshot seq
 * (row-locked by its upsert, as relay_heads does for envelopes); pruned_through remembers, per
 * (workspace, device, doc), the highest envelope seq pruned under a snapshot.
 */
const M3 = `
CREATE TABLE snapshots (
  workspace_id TEXT NOT NULL, snapshot_seq BIGINT NOT NULL,
  doc_id TEXT NOT NULL, device_id TEXT NOT NULL, snapshot_id TEXT NOT NULL,
  covers TEXT NOT NULL, hash TEXT NOT NULL, bytes BYTEA NOT NULL,
  received_at BIGINT NOT NULL, pruned_at BIGINT,
  PRIMARY KEY (workspace_id, snapshot_seq),
  UNIQUE (workspace_id, doc_id, snapshot_id));
CREATE INDEX snapshots_by_doc ON snapshots (workspace_id, doc_id, snapshot_seq);
CREATE INDEX snapshots_due ON snapshots (received_at) WHERE pruned_at IS NULL;
CREATE TABLE snapshot_heads (workspace_id TEXT PRIMARY KEY, head BIGINT NOT NULL);
CREATE TABLE pruned_through (
  workspace_id TEXT NOT NULL, device_id TEXT NOT NULL, doc_id TEXT NOT NULL, seq BIGINT NOT NULL,
  PRIMARY KEY (workspace_id, device_id, doc_id));
`;

/** Numbered migrations: PG_MIGRATIONS[i] takes the schema from version i to i + 1. Append only. */
export const PG_MIGRATIONS: readonly string[] = [M1, M2, M3];
export const PG_SCHEMA_VERSION = PG_MIGRATIONS.length;
const MIGRATION_LOCK = 724311;

/** Runs the migrations the schema lacks (the client's search_path names it), under an advisory lock. */
async function migratePostgres(c: pg.PoolClient, schema: string, now = Date.now()): Promise<MigrationReport> {
  await c.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]); // concurrent first starts migrate once
  try {
    await c.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`); // under the lock: racing IF NOT EXISTS can still collide
    await c.query('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, applied_at BIGINT NOT NULL)');
    const current = async () => num((await c.query('SELECT COALESCE(MAX(version), 0) AS v FROM schema_version')).rows[0].v);
    const from = await current();
    if (from > PG_MIGRATIONS.length)
      throw new Error(`the database is at schema version ${from}, newer than this relay knows (${PG_MIGRATIONS.length}); upgrade the relay`);
    for (let v = from; v < PG_MIGRATIONS.length; v++) {
      await c.query('BEGIN');
      try {
        await c.query(PG_MIGRATIONS[v]!);
        await c.query('INSERT INTO schema_version (version, applied_at) VALUES ($1, $2)', [v + 1, now]);
        await c.query('COMMIT');
      } catch (e) {
        await c.query('ROLLBACK').catch(() => undefined);
        throw new Error(`schema migration ${v + 1} failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    }
    return { from, to: await current() };
  } finally {
    await c.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
  }
}

type Row = Record<string, unknown>;
const num = (v: unknown): number => Number(v);
const bytes = (v: unknown): Uint8Array => new Uint8Array(v as Buffer);
const buf = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

const toEnvelope = (r: Row): StoredEnvelope => ({
  workspaceId: r.workspace_id as string, relaySeq: num(r.relay_seq), deviceId: r.device_id as string, docId: r.doc_id as string,
  seq: num(r.seq), hash: r.hash as string, bytes: bytes(r.bytes), receivedAt: num(r.received_at),
});
const toHeld = (r: Row): HeldEnvelope => ({
  heldId: num(r.held_id), workspaceId: r.workspace_id as string, deviceId: r.device_id as string, docId: r.doc_id as string,
  seq: num(r.seq), hash: r.hash as string, bytes: bytes(r.bytes), receivedAt: num(r.received_at), reason: r.reason as string,
});

const toSnapshot = (r: Row): StoredSnapshot => ({
  workspaceId: r.workspace_id as string, docId: r.doc_id as string, deviceId: r.device_id as string, snapshotSeq: num(r.snapshot_seq),
  snapshotId: r.snapshot_id as string, covers: decodeCovers(r.covers as string), hash: r.hash as string, bytes: bytes(r.bytes),
  receivedAt: num(r.received_at), ...(r.pruned_at !== null && r.pruned_at !== undefined ? { prunedAt: num(r.pruned_at) } : {}),
});

/** Adds `delta` bytes to a workspace's usage counter, inside the caller's transaction. */
async function addUsage(c: pg.PoolClient, workspaceId: string, delta: number): Promise<void> {
  if (delta === 0) return;
  await c.query(
    'INSERT INTO workspace_usage (workspace_id, bytes) VALUES ($1, $2) ON CONFLICT (workspace_id) DO UPDATE SET bytes = workspace_usage.bytes + EXCLUDED.bytes',
    [workspaceId, delta],
  );
}

const UNIQUE_VIOLATION = '23505';
const isUniqueViolation = (e: unknown) => (e as { code?: string }).code === UNIQUE_VIOLATION;

export interface PostgresStoreOptions {
  /** postgres://user@host:port/db */
  connectionString: string;
  /** Schema for the relay's tables (created if missing). Default 'public'. */
  schema?: string;
  /** Pool size. Default 10. */
  max?: number;
}

export class PostgresStore implements RelayStore {
  private closed = false;

  private constructor(
    private readonly pool: pg.Pool,
    readonly migration: MigrationReport,
  ) {}

  /** Connect, create the schema and tables if needed. */
  static async connect(opts: PostgresStoreOptions): Promise<PostgresStore> {
    const schema = opts.schema ?? 'public';
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`invalid schema name "${schema}"`);
    const pool = new pg.Pool({ connectionString: opts.connectionString, max: opts.max ?? 10, options: `-c search_path=${schema}` });
    pool.on('error', () => undefined); // idle-client errors surface on the next query instead
    let migration: MigrationReport;
    try {
      const c = await pool.connect();
      try {
        migration = await migratePostgres(c, schema);
      } finally {
        c.release();
      }
    } catch (e) {
      await pool.end();
      throw e;
    }
    return new PostgresStore(pool, migration);
  }

  private async tx<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      const r = await fn(c);
      await c.query('COMMIT');
      return r;
    } catch (e) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw e;
    } finally {
      c.release();
    }
  }

  async getOrCreateRelayKey(generate: () => Uint8Array): Promise<Uint8Array> {
    await this.pool.query('INSERT INTO relay_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', ['relay_key', buf(generate())]);
    const r = await this.pool.query('SELECT value FROM relay_meta WHERE key = $1', ['relay_key']);
    return bytes(r.rows[0].value);
  }

  async appendLogEntry(workspaceId: string, index: number, entry: Uint8Array): Promise<boolean> {
    try {
      return await this.tx(async (c) => {
        const n = await c.query('SELECT COUNT(*) AS n FROM log_entries WHERE workspace_id = $1', [workspaceId]);
        if (num(n.rows[0].n) !== index) return false;
        await c.query('INSERT INTO log_entries (workspace_id, idx, entry) VALUES ($1, $2, $3)', [workspaceId, index, buf(entry)]);
        await addUsage(c, workspaceId, entry.length);
        return true;
      });
    } catch (e) {
      if (isUniqueViolation(e)) return false;
      throw e;
    }
  }

  async listLogEntries(workspaceId: string): Promise<Uint8Array[]> {
    const r = await this.pool.query('SELECT entry FROM log_entries WHERE workspace_id = $1 ORDER BY idx', [workspaceId]);
    return r.rows.map((row: Row) => bytes(row.entry));
  }

  /** What is stored at e's position or under e's hash, read in one statement (one snapshot). */
  private async existing(c: pg.PoolClient | pg.Pool, e: NewEnvelope): Promise<InsertEnvelopeResult | undefined> {
    const r = await c.query(
      `SELECT relay_seq, hash, (workspace_id = $1 AND device_id = $2 AND doc_id = $3 AND seq = $4) AS same_place
       FROM envelopes WHERE (workspace_id = $1 AND device_id = $2 AND doc_id = $3 AND seq = $4) OR hash = $5`,
      [e.workspaceId, e.deviceId, e.docId, e.seq, e.hash],
    );
    if (!r.rows.length) return undefined;
    const here = r.rows.find((row: Row) => row.same_place === true);
    if (here && here.hash === e.hash) return { status: 'duplicate', relaySeq: num(here.relay_seq) };
    return { status: 'conflict' };
  }

  /** Inside a transaction: take the next relay seq (row-locked until commit) and insert. */
  private async insertIn(c: pg.PoolClient, e: NewEnvelope): Promise<InsertEnvelopeResult> {
    const prior = await this.existing(c, e);
    if (prior) return prior;
    const head = await c.query(
      'INSERT INTO relay_heads (workspace_id, head) VALUES ($1, 1) ON CONFLICT (workspace_id) DO UPDATE SET head = relay_heads.head + 1 RETURNING head',
      [e.workspaceId],
    );
    const relaySeq = num(head.rows[0].head);
    await c.query(
      'INSERT INTO envelopes (workspace_id, relay_seq, device_id, doc_id, seq, hash, bytes, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)',
      [e.workspaceId, relaySeq, e.deviceId, e.docId, e.seq, e.hash, buf(e.bytes), e.receivedAt],
    );
    await addUsage(c, e.workspaceId, e.bytes.length);
    return { status: 'inserted', relaySeq };
  }

  async insertEnvelope(e: NewEnvelope): Promise<InsertEnvelopeResult> {
    try {
      return await this.tx((c) => this.insertIn(c, e));
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      // Lost a race with an identical or conflicting insert: report what is stored now.
      return (await this.existing(this.pool, e)) ?? { status: 'conflict' };
    }
  }

  async getEnvelope(workspaceId: string, deviceId: string, docId: string, seq: number): Promise<StoredEnvelope | undefined> {
    const r = await this.pool.query('SELECT * FROM envelopes WHERE workspace_id = $1 AND device_id = $2 AND doc_id = $3 AND seq = $4', [
      workspaceId, deviceId, docId, seq,
    ]);
    return r.rows.length ? toEnvelope(r.rows[0]) : undefined;
  }

  async lastSeq(workspaceId: string, deviceId: string, docId: string): Promise<number> {
    const r = await this.pool.query('SELECT COALESCE(MAX(seq), 0) AS s FROM envelopes WHERE workspace_id = $1 AND device_id = $2 AND doc_id = $3', [
      workspaceId, deviceId, docId,
    ]);
    return num(r.rows[0].s);
  }

  async listEnvelopes(workspaceId: string, cursor: number, limit: number): Promise<StoredEnvelope[]> {
    const r = await this.pool.query('SELECT * FROM envelopes WHERE workspace_id = $1 AND relay_seq > $2 ORDER BY relay_seq LIMIT $3', [
      workspaceId, cursor, limit,
    ]);
    return r.rows.map(toEnvelope);
  }

  async headRelaySeq(workspaceId: string): Promise<number> {
    const r = await this.pool.query('SELECT COALESCE(MAX(relay_seq), 0) AS h FROM envelopes WHERE workspace_id = $1', [workspaceId]);
    return num(r.rows[0].h);
  }

  /** The stored snapshot of s's document with s's snapshot id or bytes, if any. */
  private async sameSnapshot(c: pg.PoolClient | pg.Pool, s: NewSnapshot): Promise<InsertSnapshotResult | undefined> {
    const r = await c.query('SELECT snapshot_seq FROM snapshots WHERE workspace_id = $1 AND doc_id = $2 AND (snapshot_id = $3 OR hash = $4) LIMIT 1', [
      s.workspaceId, s.docId, s.snapshotId, s.hash,
    ]);
    return r.rows.length ? { status: 'duplicate', snapshotSeq: num(r.rows[0].snapshot_seq) } : undefined;
  }

  async insertSnapshot(s: NewSnapshot, keepPerDoc: number): Promise<InsertSnapshotResult> {
    try {
      return await this.tx(async (c) => {
        const prior = await this.sameSnapshot(c, s);
        if (prior) return prior;
        // Row-locked until commit: concurrent inserts into one workspace take seqs (and drop old ones) in turn.
        const head = await c.query(
          'INSERT INTO snapshot_heads (workspace_id, head) VALUES ($1, 1) ON CONFLICT (workspace_id) DO UPDATE SET head = snapshot_heads.head + 1 RETURNING head',
          [s.workspaceId],
        );
        const snapshotSeq = num(head.rows[0].head);
        await c.query(
          'INSERT INTO snapshots (workspace_id, snapshot_seq, doc_id, device_id, snapshot_id, covers, hash, bytes, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)',
          [s.workspaceId, snapshotSeq, s.docId, s.deviceId, s.snapshotId, JSON.stringify(s.covers), s.hash, buf(s.bytes), s.receivedAt],
        );
        await addUsage(c, s.workspaceId, s.bytes.length);
        const dropped = await c.query(
          `DELETE FROM snapshots WHERE workspace_id = $1 AND doc_id = $2 AND snapshot_seq IN (
             SELECT snapshot_seq FROM snapshots WHERE workspace_id = $1 AND doc_id = $2 ORDER BY snapshot_seq DESC OFFSET $3)
           RETURNING octet_length(bytes) AS n`,
          [s.workspaceId, s.docId, Math.max(1, keepPerDoc)],
        );
        await addUsage(c, s.workspaceId, -dropped.rows.reduce((a: number, r: Row) => a + num(r.n), 0));
        return { status: 'inserted' as const, snapshotSeq };
      });
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      // Lost a race with the same snapshot: report the stored one.
      const prior = await this.sameSnapshot(this.pool, s);
      if (prior) return prior;
      throw err;
    }
  }

  async listSnapshots(workspaceId: string, after: number, limit: number, docId?: string): Promise<StoredSnapshot[]> {
    if (docId !== undefined)
      return (await this.pool.query('SELECT * FROM snapshots WHERE workspace_id = $1 AND doc_id = $2 ORDER BY snapshot_seq DESC LIMIT $3', [
        workspaceId, docId, limit,
      ])).rows.map(toSnapshot);
    const r = await this.pool.query(
      `SELECT * FROM snapshots s WHERE s.workspace_id = $1 AND s.snapshot_seq > $2
         AND NOT EXISTS (SELECT 1 FROM snapshots t WHERE t.workspace_id = s.workspace_id AND t.doc_id = s.doc_id AND t.snapshot_seq > s.snapshot_seq)
       ORDER BY s.snapshot_seq LIMIT $3`,
      [workspaceId, after, limit],
    );
    return r.rows.map(toSnapshot);
  }

  async snapshotsDueForPruning(receivedBefore: number, limit: number): Promise<StoredSnapshot[]> {
    const r = await this.pool.query(
      'SELECT * FROM snapshots WHERE pruned_at IS NULL AND received_at <= $1 ORDER BY received_at, workspace_id, snapshot_seq LIMIT $2',
      [receivedBefore, limit],
    );
    return r.rows.map(toSnapshot);
  }

  async pruneCoveredEnvelopes(s: StoredSnapshot, now: number): Promise<number> {
    return this.tx(async (c) => {
      // Several instances may prune the same snapshot: the UPDATE row-locks it, and only the transaction
      // that flips pruned_at from NULL deletes; the other waits, re-reads, matches nothing and returns 0.
      const flipped = await c.query(
        'UPDATE snapshots SET pruned_at = $1 WHERE workspace_id = $2 AND snapshot_seq = $3 AND pruned_at IS NULL RETURNING doc_id, covers',
        [now, s.workspaceId, s.snapshotSeq],
      );
      if (!flipped.rows.length) return 0;
      const docId = flipped.rows[0].doc_id as string;
      const newer = (await c.query('SELECT covers FROM snapshots WHERE workspace_id = $1 AND doc_id = $2 AND snapshot_seq > $3', [
        s.workspaceId, docId, s.snapshotSeq,
      ])).rows.map((r: Row) => decodeCovers(r.covers as string));
      let deleted = 0;
      for (const cv of effectiveCovers(decodeCovers(flipped.rows[0].covers as string), newer)) {
        // Never the newest envelope of (device, doc) (lastSeq stays right for the push checks), nor the
        // workspace's highest relay seq (headRelaySeq must not move back).
        const gone = await c.query(
          `DELETE FROM envelopes WHERE workspace_id = $1 AND device_id = $2 AND doc_id = $3 AND seq <= $4
             AND seq < (SELECT MAX(seq) FROM envelopes WHERE workspace_id = $1 AND device_id = $2 AND doc_id = $3)
             AND relay_seq < (SELECT MAX(relay_seq) FROM envelopes WHERE workspace_id = $1)
           RETURNING seq, octet_length(bytes) AS n`,
          [s.workspaceId, cv.deviceId, docId, cv.seq],
        );
        if (!gone.rows.length) continue;
        deleted += gone.rows.length;
        await addUsage(c, s.workspaceId, -gone.rows.reduce((a: number, r: Row) => a + num(r.n), 0));
        await c.query(
          `INSERT INTO pruned_through (workspace_id, device_id, doc_id, seq) VALUES ($1, $2, $3, $4)
           ON CONFLICT (workspace_id, device_id, doc_id) DO UPDATE SET seq = GREATEST(pruned_through.seq, EXCLUDED.seq)`,
          [s.workspaceId, cv.deviceId, docId, gone.rows.reduce((m: number, r: Row) => Math.max(m, num(r.seq)), 0)],
        );
      }
      return deleted;
    });
  }

  async prunedThrough(workspaceId: string, deviceId: string, docId: string): Promise<number> {
    const r = await this.pool.query('SELECT seq FROM pruned_through WHERE workspace_id = $1 AND device_id = $2 AND doc_id = $3', [workspaceId, deviceId, docId]);
    return r.rows.length ? num(r.rows[0].seq) : 0;
  }

  async putLease(l: LeaseRecord): Promise<void> {
    await this.pool.query(
      `INSERT INTO leases (lease_id, workspace_id, device_id, issued_at, not_after, bytes) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (lease_id) DO UPDATE SET workspace_id = EXCLUDED.workspace_id, device_id = EXCLUDED.device_id,
         issued_at = EXCLUDED.issued_at, not_after = EXCLUDED.not_after, bytes = EXCLUDED.bytes`,
      [l.leaseId, l.workspaceId, l.deviceId, l.issuedAt, l.notAfter, buf(l.bytes)],
    );
  }

  async getLease(leaseId: string): Promise<LeaseRecord | undefined> {
    const r = await this.pool.query('SELECT * FROM leases WHERE lease_id = $1', [leaseId]);
    if (!r.rows.length) return undefined;
    const row = r.rows[0] as Row;
    return {
      leaseId: row.lease_id as string, workspaceId: row.workspace_id as string, deviceId: row.device_id as string,
      issuedAt: num(row.issued_at), notAfter: num(row.not_after), bytes: bytes(row.bytes),
    };
  }

  async insertHeld(h: NewHeldEnvelope): Promise<number> {
    const id = await this.tx(async (c) => {
      const r = await c.query(
        `INSERT INTO held (workspace_id, device_id, doc_id, seq, hash, bytes, received_at, reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (hash) DO NOTHING RETURNING held_id`,
        [h.workspaceId, h.deviceId, h.docId, h.seq, h.hash, buf(h.bytes), h.receivedAt, h.reason],
      );
      if (!r.rows.length) return undefined;
      await addUsage(c, h.workspaceId, h.bytes.length);
      return num(r.rows[0].held_id);
    });
    if (id !== undefined) return id;
    const e = await this.pool.query('SELECT held_id FROM held WHERE hash = $1', [h.hash]);
    return num(e.rows[0].held_id);
  }

  async listHeld(workspaceId: string): Promise<HeldEnvelope[]> {
    const r = await this.pool.query('SELECT * FROM held WHERE workspace_id = $1 ORDER BY held_id', [workspaceId]);
    return r.rows.map(toHeld);
  }

  async getHeldAt(workspaceId: string, deviceId: string, docId: string, seq: number): Promise<HeldEnvelope | undefined> {
    const r = await this.pool.query(
      'SELECT * FROM held WHERE workspace_id = $1 AND device_id = $2 AND doc_id = $3 AND seq = $4 ORDER BY held_id LIMIT 1',
      [workspaceId, deviceId, docId, seq],
    );
    return r.rows.length ? toHeld(r.rows[0]) : undefined;
  }

  async lastHeldSeq(workspaceId: string, deviceId: string, docId: string): Promise<number> {
    const r = await this.pool.query('SELECT COALESCE(MAX(seq), 0) AS s FROM held WHERE workspace_id = $1 AND device_id = $2 AND doc_id = $3', [
      workspaceId, deviceId, docId,
    ]);
    return num(r.rows[0].s);
  }

  async releaseHeld(workspaceId: string, heldId: number): Promise<InsertEnvelopeResult | undefined> {
    return this.tx(async (c) => {
      const r = await c.query('SELECT * FROM held WHERE workspace_id = $1 AND held_id = $2 FOR UPDATE', [workspaceId, heldId]);
      if (!r.rows.length) return undefined;
      const h = toHeld(r.rows[0]);
      const res = await this.insertIn(c, {
        workspaceId: h.workspaceId, deviceId: h.deviceId, docId: h.docId, seq: h.seq, hash: h.hash, bytes: h.bytes, receivedAt: h.receivedAt,
      });
      if (res.status !== 'conflict') {
        await c.query('DELETE FROM held WHERE held_id = $1', [heldId]);
        await addUsage(c, h.workspaceId, -h.bytes.length);
      }
      return res;
    });
  }

  async putMailboxItem(item: MailboxItem, now: number): Promise<boolean> {
    return this.tx(async (c) => {
      await c.query('DELETE FROM mailbox WHERE box_id = $1 AND slot = $2 AND expires_at <= $3', [item.boxId, item.slot, now]);
      const r = await c.query(
        'INSERT INTO mailbox (box_id, slot, data, created_at, expires_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (box_id, slot) DO NOTHING',
        [item.boxId, item.slot, buf(item.data), item.createdAt, item.expiresAt],
      );
      return r.rowCount === 1;
    });
  }

  async getMailboxItem(boxId: string, slot: string, now: number): Promise<MailboxItem | undefined> {
    const r = await this.pool.query('SELECT * FROM mailbox WHERE box_id = $1 AND slot = $2 AND expires_at > $3', [boxId, slot, now]);
    if (!r.rows.length) return undefined;
    const row = r.rows[0] as Row;
    return { boxId: row.box_id as string, slot: row.slot as string, data: bytes(row.data), createdAt: num(row.created_at), expiresAt: num(row.expires_at) };
  }

  async deleteExpiredMailboxItems(now: number): Promise<number> {
    return (await this.pool.query('DELETE FROM mailbox WHERE expires_at <= $1', [now])).rowCount ?? 0;
  }

  async countMailboxItems(now: number): Promise<number> {
    return num((await this.pool.query('SELECT COUNT(*) AS n FROM mailbox WHERE expires_at > $1', [now])).rows[0].n);
  }

  async deleteExpiredLeases(before: number): Promise<number> {
    return (await this.pool.query('DELETE FROM leases WHERE not_after < $1', [before])).rowCount ?? 0;
  }

  async workspaceUsage(workspaceId: string): Promise<number> {
    const r = await this.pool.query('SELECT bytes FROM workspace_usage WHERE workspace_id = $1', [workspaceId]);
    return r.rows.length ? num(r.rows[0].bytes) : 0;
  }

  async usageTotals(thresholdBytes: number): Promise<UsageTotals> {
    const r = await this.pool.query(
      'SELECT COALESCE(SUM(bytes), 0) AS total, COUNT(*) AS n, COUNT(*) FILTER (WHERE bytes >= $1) AS above FROM workspace_usage WHERE bytes > 0',
      [thresholdBytes],
    );
    const row = r.rows[0] as Row;
    return { totalBytes: num(row.total), workspaces: num(row.n), atOrAbove: num(row.above) };
  }

  async putSignupToken(t: SignupTokenRecord): Promise<void> {
    await this.pool.query(
      `INSERT INTO signup_tokens (token_hash, uses_left, expires_at, created_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (token_hash) DO UPDATE SET uses_left = EXCLUDED.uses_left, expires_at = EXCLUDED.expires_at, created_at = EXCLUDED.created_at`,
      [t.tokenHash, t.usesLeft, t.expiresAt ?? null, t.createdAt],
    );
  }

  async useSignupToken(tokenHash: string, now: number): Promise<SignupTokenUse> {
    const taken = await this.pool.query(
      'UPDATE signup_tokens SET uses_left = uses_left - 1 WHERE token_hash = $1 AND uses_left > 0 AND (expires_at IS NULL OR expires_at >= $2) RETURNING uses_left',
      [tokenHash, now],
    );
    if (taken.rows.length) return 'ok';
    const r = await this.pool.query('SELECT uses_left, expires_at FROM signup_tokens WHERE token_hash = $1', [tokenHash]);
    if (!r.rows.length) return 'unknown';
    const row = r.rows[0] as Row;
    return row.expires_at !== null && now > num(row.expires_at) ? 'expired' : 'used_up';
  }

  async refundSignupToken(tokenHash: string): Promise<void> {
    await this.pool.query('UPDATE signup_tokens SET uses_left = uses_left + 1 WHERE token_hash = $1', [tokenHash]);
  }

  async allowDevice(deviceId: string, now: number): Promise<void> {
    await this.pool.query('INSERT INTO admission_keys (device_id, added_at) VALUES ($1, $2) ON CONFLICT (device_id) DO NOTHING', [deviceId, now]);
  }

  async disallowDevice(deviceId: string): Promise<boolean> {
    return ((await this.pool.query('DELETE FROM admission_keys WHERE device_id = $1', [deviceId])).rowCount ?? 0) === 1;
  }

  async isDeviceAllowed(deviceId: string): Promise<boolean> {
    return (await this.pool.query('SELECT 1 FROM admission_keys WHERE device_id = $1', [deviceId])).rows.length > 0;
  }

  async listAllowedDevices(): Promise<string[]> {
    return (await this.pool.query('SELECT device_id FROM admission_keys ORDER BY device_id')).rows.map((r: Row) => r.device_id as string);
  }

  async schemaVersion(): Promise<number> {
    return num((await this.pool.query('SELECT COALESCE(MAX(version), 0) AS v FROM schema_version')).rows[0].v);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}
