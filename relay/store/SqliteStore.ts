// RelayStore on SQLite (better-sqlite3 v12): WAL, one transaction per write, unique constraints on
// (workspace, device, doc, seq) and on the envelope hash so a re-send can never be stored twice.
import Database from 'better-sqlite3';
import type {
  HeldEnvelope, InsertEnvelopeResult, LeaseRecord, MailboxItem, NewEnvelope, NewHeldEnvelope, RelayStore, StoredEnvelope,
} from './RelayStore.ts';

const SCHEMA = `
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

interface EnvRow {
  workspace_id: string; relay_seq: number; device_id: string; doc_id: string; seq: number;
  hash: string; bytes: Buffer; received_at: number;
}
interface HeldRow {
  held_id: number; workspace_id: string; device_id: string; doc_id: string; seq: number;
  hash: string; bytes: Buffer; received_at: number; reason: string;
}

const toEnvelope = (r: EnvRow): StoredEnvelope => ({
  workspaceId: r.workspace_id, relaySeq: r.relay_seq, deviceId: r.device_id, docId: r.doc_id, seq: r.seq,
  hash: r.hash, bytes: new Uint8Array(r.bytes), receivedAt: r.received_at,
});
const toHeld = (r: HeldRow): HeldEnvelope => ({
  heldId: r.held_id, workspaceId: r.workspace_id, deviceId: r.device_id, docId: r.doc_id, seq: r.seq,
  hash: r.hash, bytes: new Uint8Array(r.bytes), receivedAt: r.received_at, reason: r.reason,
});

export class SqliteStore implements RelayStore {
  private readonly db: Database.Database;
  private closed = false;

  constructor(path: string) {
    this.db = new Database(path);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL'); // an acknowledged envelope survives power loss
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(SCHEMA);
  }

  async getOrCreateRelayKey(generate: () => Uint8Array): Promise<Uint8Array> {
    return this.db.transaction(() => {
      const row = this.db.prepare('SELECT value FROM relay_meta WHERE key = ?').get('relay_key') as { value: Buffer } | undefined;
      if (row) return new Uint8Array(row.value);
      const key = generate();
      this.db.prepare('INSERT INTO relay_meta (key, value) VALUES (?, ?)').run('relay_key', Buffer.from(key));
      return key;
    }).immediate();
  }

  async appendLogEntry(workspaceId: string, index: number, entry: Uint8Array): Promise<boolean> {
    return this.db.transaction(() => {
      const { n } = this.db.prepare('SELECT COUNT(*) AS n FROM log_entries WHERE workspace_id = ?').get(workspaceId) as { n: number };
      if (n !== index) return false;
      this.db.prepare('INSERT INTO log_entries (workspace_id, idx, entry) VALUES (?, ?, ?)').run(workspaceId, index, Buffer.from(entry));
      return true;
    }).immediate();
  }

  async listLogEntries(workspaceId: string): Promise<Uint8Array[]> {
    const rows = this.db.prepare('SELECT entry FROM log_entries WHERE workspace_id = ? ORDER BY idx').all(workspaceId) as { entry: Buffer }[];
    return rows.map((r) => new Uint8Array(r.entry));
  }

  private insertEnvelopeTx(e: NewEnvelope): InsertEnvelopeResult {
    const existing = this.db
      .prepare('SELECT relay_seq, hash FROM envelopes WHERE workspace_id = ? AND device_id = ? AND doc_id = ? AND seq = ?')
      .get(e.workspaceId, e.deviceId, e.docId, e.seq) as { relay_seq: number; hash: string } | undefined;
    if (existing) return existing.hash === e.hash ? { status: 'duplicate', relaySeq: existing.relay_seq } : { status: 'conflict' };
    const sameHash = this.db.prepare('SELECT 1 FROM envelopes WHERE hash = ?').get(e.hash);
    if (sameHash) return { status: 'conflict' };
    const { head } = this.db.prepare('SELECT COALESCE(MAX(relay_seq), 0) AS head FROM envelopes WHERE workspace_id = ?').get(e.workspaceId) as { head: number };
    const relaySeq = head + 1;
    this.db
      .prepare('INSERT INTO envelopes (workspace_id, relay_seq, device_id, doc_id, seq, hash, bytes, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
      .run(e.workspaceId, relaySeq, e.deviceId, e.docId, e.seq, e.hash, Buffer.from(e.bytes), e.receivedAt);
    return { status: 'inserted', relaySeq };
  }

  async insertEnvelope(e: NewEnvelope): Promise<InsertEnvelopeResult> {
    return this.db.transaction(() => this.insertEnvelopeTx(e)).immediate();
  }

  async getEnvelope(workspaceId: string, deviceId: string, docId: string, seq: number): Promise<StoredEnvelope | undefined> {
    const r = this.db
      .prepare('SELECT * FROM envelopes WHERE workspace_id = ? AND device_id = ? AND doc_id = ? AND seq = ?')
      .get(workspaceId, deviceId, docId, seq) as EnvRow | undefined;
    return r && toEnvelope(r);
  }

  async lastSeq(workspaceId: string, deviceId: string, docId: string): Promise<number> {
    const r = this.db
      .prepare('SELECT COALESCE(MAX(seq), 0) AS s FROM envelopes WHERE workspace_id = ? AND device_id = ? AND doc_id = ?')
      .get(workspaceId, deviceId, docId) as { s: number };
    return r.s;
  }

  async listEnvelopes(workspaceId: string, cursor: number, limit: number): Promise<StoredEnvelope[]> {
    const rows = this.db
      .prepare('SELECT * FROM envelopes WHERE workspace_id = ? AND relay_seq > ? ORDER BY relay_seq LIMIT ?')
      .all(workspaceId, cursor, limit) as EnvRow[];
    return rows.map(toEnvelope);
  }

  async headRelaySeq(workspaceId: string): Promise<number> {
    const r = this.db.prepare('SELECT COALESCE(MAX(relay_seq), 0) AS h FROM envelopes WHERE workspace_id = ?').get(workspaceId) as { h: number };
    return r.h;
  }

  async putLease(l: LeaseRecord): Promise<void> {
    this.db
      .prepare('INSERT OR REPLACE INTO leases (lease_id, workspace_id, device_id, issued_at, not_after, bytes) VALUES (?, ?, ?, ?, ?, ?)')
      .run(l.leaseId, l.workspaceId, l.deviceId, l.issuedAt, l.notAfter, Buffer.from(l.bytes));
  }

  async getLease(leaseId: string): Promise<LeaseRecord | undefined> {
    const r = this.db.prepare('SELECT * FROM leases WHERE lease_id = ?').get(leaseId) as
      | { lease_id: string; workspace_id: string; device_id: string; issued_at: number; not_after: number; bytes: Buffer }
      | undefined;
    return r && {
      leaseId: r.lease_id, workspaceId: r.workspace_id, deviceId: r.device_id, issuedAt: r.issued_at,
      notAfter: r.not_after, bytes: new Uint8Array(r.bytes),
    };
  }

  async insertHeld(h: NewHeldEnvelope): Promise<number> {
    return this.db.transaction(() => {
      const existing = this.db.prepare('SELECT held_id FROM held WHERE hash = ?').get(h.hash) as { held_id: number } | undefined;
      if (existing) return existing.held_id;
      const r = this.db
        .prepare('INSERT INTO held (workspace_id, device_id, doc_id, seq, hash, bytes, received_at, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)')
        .run(h.workspaceId, h.deviceId, h.docId, h.seq, h.hash, Buffer.from(h.bytes), h.receivedAt, h.reason);
      return Number(r.lastInsertRowid);
    }).immediate();
  }

  async listHeld(workspaceId: string): Promise<HeldEnvelope[]> {
    return (this.db.prepare('SELECT * FROM held WHERE workspace_id = ? ORDER BY held_id').all(workspaceId) as HeldRow[]).map(toHeld);
  }

  async getHeldAt(workspaceId: string, deviceId: string, docId: string, seq: number): Promise<HeldEnvelope | undefined> {
    const r = this.db
      .prepare('SELECT * FROM held WHERE workspace_id = ? AND device_id = ? AND doc_id = ? AND seq = ? ORDER BY held_id LIMIT 1')
      .get(workspaceId, deviceId, docId, seq) as HeldRow | undefined;
    return r && toHeld(r);
  }

  async lastHeldSeq(workspaceId: string, deviceId: string, docId: string): Promise<number> {
    const r = this.db
      .prepare('SELECT COALESCE(MAX(seq), 0) AS s FROM held WHERE workspace_id = ? AND device_id = ? AND doc_id = ?')
      .get(workspaceId, deviceId, docId) as { s: number };
    return r.s;
  }

  async releaseHeld(workspaceId: string, heldId: number): Promise<InsertEnvelopeResult | undefined> {
    return this.db.transaction(() => {
      const r = this.db.prepare('SELECT * FROM held WHERE workspace_id = ? AND held_id = ?').get(workspaceId, heldId) as HeldRow | undefined;
      if (!r) return undefined;
      const h = toHeld(r);
      const res = this.insertEnvelopeTx({
        workspaceId: h.workspaceId, deviceId: h.deviceId, docId: h.docId, seq: h.seq, hash: h.hash, bytes: h.bytes, receivedAt: h.receivedAt,
      });
      if (res.status !== 'conflict') this.db.prepare('DELETE FROM held WHERE held_id = ?').run(heldId);
      return res;
    }).immediate();
  }

  async putMailboxItem(item: MailboxItem, now: number): Promise<boolean> {
    return this.db.transaction(() => {
      this.db.prepare('DELETE FROM mailbox WHERE box_id = ? AND slot = ? AND expires_at <= ?').run(item.boxId, item.slot, now);
      const r = this.db
        .prepare('INSERT OR IGNORE INTO mailbox (box_id, slot, data, created_at, expires_at) VALUES (?, ?, ?, ?, ?)')
        .run(item.boxId, item.slot, Buffer.from(item.data), item.createdAt, item.expiresAt);
      return r.changes === 1;
    }).immediate();
  }

  async getMailboxItem(boxId: string, slot: string, now: number): Promise<MailboxItem | undefined> {
    const r = this.db.prepare('SELECT * FROM mailbox WHERE box_id = ? AND slot = ? AND expires_at > ?').get(boxId, slot, now) as
      | { box_id: string; slot: string; data: Buffer; created_at: number; expires_at: number }
      | undefined;
    return r && { boxId: r.box_id, slot: r.slot, data: new Uint8Array(r.data), createdAt: r.created_at, expiresAt: r.expires_at };
  }

  async deleteExpiredMailboxItems(now: number): Promise<number> {
    return this.db.prepare('DELETE FROM mailbox WHERE expires_at <= ?').run(now).changes;
  }

  async countMailboxItems(now: number): Promise<number> {
    return (this.db.prepare('SELECT COUNT(*) AS n FROM mailbox WHERE expires_at > ?').get(now) as { n: number }).n;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }
}
