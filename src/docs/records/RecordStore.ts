// The record API both the CLI and the React app use: create, list, get, update, remove (a tombstone
// that merges), and history (verified device and user per envelope). Every mutating call resolves
// only once its envelopes are in the outbox (DocSession.change).
import * as A from '@automerge/automerge';
import { generateAutomergeUrl, isValidDocumentId, parseAutomergeUrl, type DocumentId } from '@automerge/automerge-repo';
import type { DocSession } from '../DocSession.ts';
import { indexDocIdFor } from './indexDocId.ts';
import type { HistoryEntry, IndexDoc, RecordDoc, RecordInput, RecordPatch, RecordSummary } from './recordTypes.ts';
import { touchedPathsByChange } from './summarizeChanges.ts';

export type RecordErrorCode = 'record_not_found' | 'record_deleted' | 'record_invalid';

export class RecordError extends Error {
  constructor(
    readonly code: RecordErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const MAX_TITLE = 1000;
const FIELD_KEY = /^[^\s.=][^=]{0,127}$/;

export class RecordStore {
  private constructor(
    readonly session: DocSession,
    readonly indexId: DocumentId,
    private readonly now: () => number,
  ) {}

  static async open(session: DocSession, options: { now?: () => number } = {}): Promise<RecordStore> {
    const indexId = indexDocIdFor(session.workspaceId);
    // A reader never writes: its index arrives with the first sync instead.
    if (session.mayWrite && !(await session.has(indexId))) await session.create<IndexDoc>({}, indexId);
    return new RecordStore(session, indexId, options.now ?? Date.now);
  }

  async create(input: RecordInput): Promise<string> {
    checkTitle(input.title);
    for (const k of Object.keys(input.fields ?? {})) checkFieldKey(k);
    const t = this.now();
    const user = this.session.device.userId;
    const docId = parseAutomergeUrl(generateAutomergeUrl()).documentId;
    await this.session.create<RecordDoc & Record<string, unknown>>(
      {
        id: docId,
        title: input.title,
        fields: { ...(input.fields ?? {}) },
        notes: input.notes ?? '',
        tags: [...(input.tags ?? [])],
        createdAt: t,
        createdBy: user,
        updatedAt: t,
        updatedBy: user,
        deleted: false,
      },
      docId,
    );
    const recordFlushed = this.session.whenFlushed(docId);
    const indexed = this.session.change<IndexDoc>(this.indexId, d => {
      d[docId] = { title: input.title, deleted: false };
    });
    await Promise.all([recordFlushed, indexed]);
    return docId;
  }

  /** Records in the index, live ones only unless asked; sorted by title. */
  async list(options: { includeDeleted?: boolean } = {}): Promise<RecordSummary[]> {
    const handle = await this.session.open<IndexDoc>(this.indexId);
    const index = handle?.doc() ?? {};
    return Object.entries(index)
      .filter(([, e]) => e && (options.includeDeleted || !e.deleted))
      .map(([id, e]) => ({ id, title: String(e.title ?? ''), deleted: Boolean(e.deleted) }))
      .sort((a, b) => a.title.localeCompare(b.title) || (a.id < b.id ? -1 : 1));
  }

  /** The record as a plain object, or undefined if this profile doesn't hold it. Deleted records are returned with deleted: true. */
  async get(id: string): Promise<RecordDoc | undefined> {
    if (!isValidDocumentId(id) || id === this.indexId) return undefined;
    const handle = await this.session.open<RecordDoc>(id);
    const doc = handle?.doc();
    if (!doc || typeof doc.title !== 'string') return undefined;
    return {
      id,
      title: String(doc.title),
      fields: Object.fromEntries(Object.entries(doc.fields ?? {}).map(([k, v]) => [k, String(v)])),
      notes: String(doc.notes ?? ''),
      tags: [...(doc.tags ?? [])].map(String),
      createdAt: doc.createdAt,
      createdBy: doc.createdBy,
      updatedAt: doc.updatedAt,
      updatedBy: doc.updatedBy,
      deleted: Boolean(doc.deleted),
    };
  }

  async update(id: string, patch: RecordPatch): Promise<void> {
    const current = await this.get(id);
    if (!current) throw new RecordError('record_not_found', `no record ${id}`);
    if (current.deleted) throw new RecordError('record_deleted', `record ${id} is deleted`);
    if (patch.title !== undefined) checkTitle(patch.title);
    for (const k of Object.keys(patch.fields ?? {})) checkFieldKey(k);
    const user = this.session.device.userId;
    const t = this.now();
    const waits: Promise<void>[] = [
      this.session.change<RecordDoc>(id, d => {
        if (patch.title !== undefined && patch.title !== d.title) A.updateText(d, ['title'], patch.title);
        for (const [k, v] of Object.entries(patch.fields ?? {})) {
          if (v === null) delete d.fields[k];
          else if (typeof d.fields[k] === 'string') A.updateText(d, ['fields', k], v);
          else d.fields[k] = v;
        }
        if (patch.notes !== undefined) A.updateText(d, ['notes'], patch.notes);
        if (patch.tags !== undefined) {
          const want = [...new Set(patch.tags)];
          for (let i = d.tags.length - 1; i >= 0; i--) if (!want.includes(String(d.tags[i]))) d.tags.splice(i, 1);
          const have = new Set(d.tags.map(String));
          for (const tag of want) if (!have.has(tag)) d.tags.push(tag);
        }
        d.updatedAt = t;
        d.updatedBy = user;
      }),
    ];
    if (patch.title !== undefined && patch.title !== current.title) {
      waits.push(
        this.session.change<IndexDoc>(this.indexId, d => {
          if (d[id]) A.updateText(d, [id, 'title'], patch.title!);
          else d[id] = { title: patch.title!, deleted: false };
        }),
      );
    }
    await Promise.all(waits);
  }

  /** Edit the notes in place (a keystroke: insert and/or delete at a position); merges with concurrent edits. */
  async spliceNotes(id: string, index: number, deleteCount: number, insert = ''): Promise<void> {
    const current = await this.get(id);
    if (!current) throw new RecordError('record_not_found', `no record ${id}`);
    if (current.deleted) throw new RecordError('record_deleted', `record ${id} is deleted`);
    if (!Number.isInteger(index) || index < 0 || index > current.notes.length || !Number.isInteger(deleteCount) || deleteCount < 0)
      throw new RecordError('record_invalid', 'splice position out of range');
    const user = this.session.device.userId;
    const t = this.now();
    await this.session.change<RecordDoc>(id, d => {
      A.splice(d, ['notes'], index, deleteCount, insert);
      d.updatedAt = t;
      d.updatedBy = user;
    });
  }

  /**
   * Call `cb` whenever a record (or, with 'index', the list) changes, by a local edit or by sync.
   * Returns the unsubscribe function. For UIs: re-read with get()/list() in the callback.
   */
  async subscribe(id: string | 'index', cb: () => void): Promise<() => void> {
    const handle = await this.session.open<unknown>(id === 'index' ? this.indexId : id);
    if (!handle) throw new RecordError('record_not_found', `no record ${id}`);
    const listener = () => cb();
    handle.on('change', listener);
    return () => {
      handle.off('change', listener);
    };
  }

  /** Delete as a tombstone: the flag only ever goes true, so it wins a merge; concurrent edits are kept. */
  async remove(id: string): Promise<void> {
    const current = await this.get(id);
    if (!current) throw new RecordError('record_not_found', `no record ${id}`);
    if (current.deleted) return;
    const user = this.session.device.userId;
    const t = this.now();
    await Promise.all([
      this.session.change<RecordDoc>(id, d => {
        d.deleted = true;
        d.updatedAt = t;
        d.updatedBy = user;
      }),
      this.session.change<IndexDoc>(this.indexId, d => {
        if (d[id]) d[id].deleted = true;
        else d[id] = { title: current.title, deleted: true };
      }),
    ]);
  }

  /** Who changed what: one entry per envelope (verified device/user, claimed time); changes seen in no envelope are listed as unverified, per actor. */
  async history(id: string): Promise<HistoryEntry[]> {
    if (!isValidDocumentId(id)) throw new RecordError('record_not_found', `no record ${id}`);
    const handle = await this.session.open<RecordDoc>(id);
    if (!handle) throw new RecordError('record_not_found', `no record ${id}`);
    await this.session.flushDoc(id);
    const decoded = A.getAllChanges(handle.doc()).map(c => A.decodeChange(c));
    const touched = touchedPathsByChange(decoded);
    const byActorSeq = new Map(decoded.map(c => [`${c.actor}:${c.seq}`, c]));
    const entries: HistoryEntry[] = [];
    const covered = new Set<string>();
    for (const p of await this.session.provenance.list(id)) {
      const fields = new Set<string>();
      let n = 0;
      for (const seq of p.seqs ?? []) {
        const c = byActorSeq.get(`${p.actor}:${seq}`);
        if (!c) continue;
        covered.add(c.hash);
        n++;
        for (const f of touched.get(c.hash) ?? []) fields.add(f);
      }
      if (n === 0) continue;
      entries.push({
        verified: true, deviceId: p.deviceId, userId: p.userId, claimedTime: p.claimedTime, seq: p.seq,
        envelopeHash: p.envelopeHash, actor: p.actor, changes: n, fields: [...fields].sort(),
      });
    }
    const unverified = new Map<string, HistoryEntry>();
    for (const c of decoded) {
      if (covered.has(c.hash)) continue;
      const e = unverified.get(c.actor) ?? { verified: false, actor: c.actor, changes: 0, fields: [] };
      e.changes++;
      e.fields = [...new Set([...e.fields, ...(touched.get(c.hash) ?? [])])].sort();
      unverified.set(c.actor, e);
    }
    entries.sort((a, b) => (a.claimedTime ?? 0) - (b.claimedTime ?? 0) || (a.deviceId ?? '').localeCompare(b.deviceId ?? '') || (a.seq ?? 0) - (b.seq ?? 0));
    return [...entries, ...unverified.values()];
  }
}

function checkTitle(title: string): void {
  if (typeof title !== 'string' || !title.trim() || title.length > MAX_TITLE) throw new RecordError('record_invalid', 'a title must be 1–1000 characters');
}

function checkFieldKey(k: string): void {
  if (!FIELD_KEY.test(k)) throw new RecordError('record_invalid', `bad field name ${JSON.stringify(k)}`);
}
