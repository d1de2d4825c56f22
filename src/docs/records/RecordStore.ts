// The record API both the CLI and the React app use (DESIGN → Documents and changes, normative):
// create, list, get, update, resolve, remove and restore (a tombstone that merges), and history.
// Title and fields are registers (whole-value assignment, conflicts kept visible), notes are text.
// The index lists only which records exist; titles and the deleted flag are read from each record.
// Every mutating call resolves only once its envelopes are in the outbox (DocSession.change).
import * as A from '@automerge/automerge';
import diff from 'fast-diff';
import { isValidDocumentId, type DocumentId } from '@automerge/automerge-repo';
import { newDocumentId } from '../newDocumentId.ts';
import { DamagedDocumentError } from '../DamagedDocumentError.ts';
import type { DocSession } from '../DocSession.ts';
import { attribute, tombstoneSetters } from './attribution.ts';
import { indexDocIdFor } from './indexDocId.ts';
import { readRecord, registerText, type ReadRecord } from './readRecord.ts';
import type { Author, HistoryEntry, IndexDoc, RecordDoc, RecordInput, RecordPatch, RecordSummary, RecordView } from './recordTypes.ts';
import { touchedPathsByChange } from './summarizeChanges.ts';
import { searchTextOf } from './findRecords.ts';
import { valuesOfGroup } from './historyValues.ts';
import { sortSummaries, type ListOptions } from './selectSummaries.ts';

export type RecordErrorCode = 'record_not_found' | 'record_deleted' | 'record_not_deleted' | 'record_invalid';

export class RecordError extends Error {
  constructor(
    readonly code: RecordErrorCode,
    message: string,
  ) {
    super(message);
  }
}

const MAX_TITLE = 1000;
const MAX_FIELD_VALUE = 100_000;
const LIST_CONCURRENCY = 32;

type Loaded = { doc: A.Doc<unknown> } | { damaged: DamagedDocumentError };

/** What can be shown of a record whose stored document doesn't load: nothing but that it is damaged, and why. */
const damagedView = (id: string, e: DamagedDocumentError): ReadRecord => ({
  id, title: '', fields: {}, notes: '', tags: [], deleted: false, conflicts: {}, damaged: [`document: ${e.reason}`],
});
const FIELD_KEY = /^[^\s.=][^=]{0,127}$/;

/** One record's summary, its properties always in this order (the CLI prints it as JSON). */
function summaryOf(id: string, r: ReadRecord, withDetails: boolean, who: { latest?: Author; deleter?: Author } | undefined): RecordSummary {
  const by = who?.latest;
  const deleter = who?.deleter;
  return {
    id, title: r.title, deleted: r.deleted,
    ...(Object.keys(r.conflicts).length ? { conflicted: true } : {}),
    ...(r.damaged ? { damaged: true } : {}),
    ...(withDetails ? { tags: r.tags, searchText: searchTextOf(r), ...(by ? { updatedAt: by.claimedTime, updatedBy: by.userId } : {}) } : {}),
    ...(deleter ? { deletedAt: deleter.claimedTime, deletedBy: deleter.userId } : {}),
  };
}


export class RecordStore {
  private constructor(
    readonly session: DocSession,
    readonly indexId: DocumentId,
  ) {}

  static async open(session: DocSession): Promise<RecordStore> {
    const indexId = indexDocIdFor(session.workspaceId);
    // A reader never writes: its index arrives with the first sync instead.
    if (session.mayWrite && !(await session.has(indexId))) await session.create<IndexDoc>({}, indexId);
    return new RecordStore(session, indexId);
  }

  async create(input: RecordInput): Promise<string> {
    checkTitle(input.title);
    for (const [k, v] of Object.entries(input.fields ?? {})) checkField(k, v);
    const docId = newDocumentId();
    const fields: Record<string, A.ImmutableString> = {};
    for (const [k, v] of Object.entries(input.fields ?? {})) fields[k] = new A.ImmutableString(v);
    await this.session.create<RecordDoc & Record<string, unknown>>(
      { id: docId, title: new A.ImmutableString(input.title), fields, notes: input.notes ?? '', tags: [...new Set(input.tags ?? [])], deleted: false },
      docId,
    );
    const recordFlushed = this.session.whenFlushed(docId);
    // The index says only that the record exists: concurrent creations of the same entry agree.
    const indexed = this.session.change<IndexDoc>(this.indexId, d => {
      d[docId] = true;
    });
    await Promise.all([recordFlushed, indexed]);
    return docId;
  }

  /** Ids the index lists (valid document ids only; whatever else a member wrote there is ignored). */
  async ids(): Promise<string[]> {
    const handle = await this.session.open<IndexDoc>(this.indexId);
    const index = handle?.doc() ?? {};
    return Object.keys(index).filter(id => index[id] !== undefined && index[id] !== null && isValidDocumentId(id) && id !== this.indexId);
  }

  /**
   * Records this profile holds, live ones only unless asked (or only deleted ones); sorted by title. Read
   * from each record. With `details`, each also carries its tags, its latest verified change (claimed
   * time and user, from provenance: one more read per record) and its search text (findRecords).
   */
  async list(options: ListOptions = {}): Promise<RecordSummary[]> {
    const ids = await this.ids();
    const read = await this.#read(ids);
    const wanted: { id: string; r: ReadRecord; doc?: A.Doc<unknown> }[] = [];
    for (const [k, id] of ids.entries()) {
      const one = read[k];
      if (!one) continue; // listed before its record arrived: shown once it has
      if (options.onlyDeleted ? !one.r.deleted : one.r.deleted && !options.includeDeleted) continue;
      wanted.push({ id, ...one });
    }
    const details = options.details ? await this.#details(wanted) : [];
    return sortSummaries(wanted.map(({ id, r }, k) => summaryOf(id, r, options.details === true, details[k])));
  }

  /**
   * The summary with details of each of `ids` (deleted or not), or undefined for one this profile does
   * not hold (yet): what list() filters and sorts. The record-summary cache (summaryCache.ts) keeps these.
   */
  async summaries(ids: string[]): Promise<(RecordSummary | undefined)[]> {
    const read = await this.#read(ids);
    const present = read.flatMap((one, k) => (one ? [{ id: ids[k]!, ...one }] : []));
    const details = await this.#details(present);
    const byId = new Map(present.map((w, k) => [w.id, summaryOf(w.id, w.r, true, details[k])]));
    return ids.map(id => byId.get(id));
  }

  /** Each record read (undefined when not held yet). A stored record that no longer loads is read as damaged, never hidden. */
  async #read(ids: string[]): Promise<({ r: ReadRecord; doc?: A.Doc<unknown> } | undefined)[]> {
    // Records load with a few reads in flight at once: the storage reads overlap, the parsing doesn't.
    const docs: (Loaded | undefined)[] = [];
    for (let i = 0; i < ids.length; i += LIST_CONCURRENCY) docs.push(...(await Promise.all(ids.slice(i, i + LIST_CONCURRENCY).map(id => this.#load(id)))));
    return ids.map((id, k) => {
      const loaded = docs[k];
      if (!loaded) return undefined;
      return 'doc' in loaded ? { r: readRecord(id, loaded.doc), doc: loaded.doc } : { r: damagedView(id, loaded.damaged) };
    });
  }

  async #details(records: { id: string; r: ReadRecord; doc?: A.Doc<unknown> }[]): Promise<({ latest?: Author; deleter?: Author } | undefined)[]> {
    const details: ({ latest?: Author; deleter?: Author } | undefined)[] = [];
    for (let i = 0; i < records.length; i += LIST_CONCURRENCY) {
      details.push(...(await Promise.all(records.slice(i, i + LIST_CONCURRENCY).map(async w => (w.doc ? this.#whoChanged(w.doc, w.id, w.r.deleted) : undefined)))));
    }
    return details;
  }

  /** The latest verified change, and for a deleted record the latest verified envelope that set its tombstone. */
  async #whoChanged(doc: A.Doc<unknown>, id: string, deleted: boolean): Promise<{ latest?: Author; deleter?: Author }> {
    // A change and its envelope's provenance arrive together, so the answer holds while the heads do:
    // a list refresh after a sync reads provenance only for the records that changed.
    const heads = `${A.getHeads(doc).join(',')}:${deleted}`;
    const cached = this.#who.get(id);
    if (cached?.heads === heads) return cached.value;
    const provenance = await this.session.provenance.list(id);
    const latest = attribute(doc, provenance, { createdBy: false }).updatedBy[0];
    const setter = deleted ? tombstoneSetters(doc, provenance).sort((a, b) => b.claimedTime - a.claimedTime)[0] : undefined;
    const value = {
      ...(latest ? { latest } : {}),
      ...(setter ? { deleter: { userId: setter.userId, deviceId: setter.deviceId, claimedTime: setter.claimedTime } } : {}),
    };
    // Only a complete answer is kept (an own change's provenance may still be on its way).
    if (latest && (!deleted || setter)) this.#who.set(id, { heads, value });
    return value;
  }
  readonly #who = new Map<string, { heads: string; value: { latest?: Author; deleter?: Author } }>();
  /** Each record's first change, by hash (attribution.ts → rootChangeOf). */
  readonly #roots = new Map<string, string>();

  /** The record's document; `damaged` when it is stored but doesn't load; undefined when this profile doesn't hold it. */
  async #load(id: string): Promise<Loaded | undefined> {
    if (!isValidDocumentId(id) || id === this.indexId) return undefined;
    let handle;
    try {
      handle = await this.session.open<unknown>(id);
    } catch (e) {
      if (e instanceof DamagedDocumentError) return { damaged: e };
      throw e;
    }
    const doc = handle?.doc();
    // An empty document (every change still held for a dependency) isn't a record yet.
    return doc && A.getHeads(doc).length ? { doc } : undefined;
  }

  /** The record's document, or undefined; a damaged one throws DamagedDocumentError (edits must not touch it). */
  async #doc(id: string): Promise<A.Doc<unknown> | undefined> {
    const loaded = await this.#load(id);
    if (loaded && 'damaged' in loaded) throw loaded.damaged;
    return loaded?.doc;
  }

  /** The record as people see it, or undefined if this profile doesn't hold it. Deleted records come with deleted: true; one that no longer loads comes as damaged. */
  async get(id: string): Promise<RecordView | undefined> {
    const loaded = await this.#load(id);
    if (!loaded) return undefined;
    if ('damaged' in loaded) return { ...damagedView(id, loaded.damaged), updatedBy: [], heads: [] };
    const { doc } = loaded;
    return { ...readRecord(id, doc), ...attribute(doc, await this.session.provenance.list(id), { docId: id, roots: this.#roots }), heads: A.getHeads(doc) };
  }

  /**
   * Assign title and fields (registers), replace notes (merged as text) and tags. An assignment
   * replaces every value it has seen, so it also resolves a conflict on that value. With `baseHeads`
   * (the heads an editor showed) the edit is made as of then: it merges with whatever arrived since,
   * and a value someone else set meanwhile becomes a visible conflict rather than being overwritten.
   */
  async update(id: string, patch: RecordPatch, options: { baseHeads?: string[] } = {}): Promise<void> {
    const current = await this.get(id);
    if (!current) throw new RecordError('record_not_found', `no record ${id}`);
    if (current.deleted) throw new RecordError('record_deleted', `record ${id} is deleted (restore it first: cloister record restore ${id})`);
    if (patch.title !== undefined) checkTitle(patch.title);
    for (const [k, v] of Object.entries(patch.fields ?? {})) checkField(k, v);
    const at = options.baseHeads?.length ? options.baseHeads : undefined;
    // An editor's notes edit is the difference between what it showed and its draft, replayed by
    // character identity: text added since (even by this session) stays where it was put.
    const notesEdit = at && patch.notes !== undefined ? await this.#notesEditFrom(id, at, patch.notes) : undefined;
    // Registers: an editor assigns only what it changed from what it showed (so a value set since,
    // even by this session, is never reverted by an untouched field); otherwise a value is assigned
    // when it differs from the one standing or that one is in conflict (assigning settles it).
    const shown = at ? await this.#readAt(id, at) : undefined;
    const assignTitle = (d: Record<string, unknown>, v: string) =>
      shown ? v !== shown.title : registerText(d.title) !== v || current.conflicts.title !== undefined;
    const assignField = (fields: Record<string, unknown>, k: string, v: string) =>
      shown ? v !== shown.fields[k] : registerText(fields[k]) !== v || current.conflicts[`fields.${k}`] !== undefined;
    await this.session.change<Record<string, unknown>>(
      id,
      d => {
        if (patch.title !== undefined && assignTitle(d, patch.title)) d.title = new A.ImmutableString(patch.title);
        if (patch.fields && Object.keys(patch.fields).length) {
          if (!isPlainMap(d.fields)) d.fields = {};
          const fields = d.fields as Record<string, unknown>;
          for (const [k, v] of Object.entries(patch.fields)) {
            if (v === null) {
              if (k in fields) delete fields[k];
            } else if (assignField(fields, k, v)) fields[k] = new A.ImmutableString(v);
          }
        }
        if (patch.notes !== undefined) {
          if (typeof d.notes !== 'string') d.notes = patch.notes;
          else if (notesEdit) notesEdit(d);
          else A.updateText(d, ['notes'], patch.notes);
        }
        if (patch.tags !== undefined) {
          const want = [...new Set(patch.tags)];
          if (!Array.isArray(d.tags)) d.tags = [];
          const tags = d.tags as unknown[];
          for (let i = tags.length - 1; i >= 0; i--) if (!want.includes(String(tags[i]))) tags.splice(i, 1);
          const have = new Set(tags.map(String));
          for (const tag of want) if (!have.has(tag)) tags.push(tag);
        }
      },
      at ? { at } : {},
    );
  }

  /** The record as it was at `heads` (what an editor showed). */
  async #readAt(id: string, heads: string[]): Promise<ReadRecord | undefined> {
    const doc = await this.#doc(id);
    return doc ? readRecord(id, A.view(doc, heads)) : undefined;
  }

  /**
   * The edit turning the notes as shown at `baseHeads` into `draft`, as a function that applies it to
   * any later version: the characters it removes are named by identity (Automerge cursors) and removed
   * only if still there, and its text goes before the base character that followed it.
   */
  async #notesEditFrom(id: string, baseHeads: string[], draft: string): Promise<((d: A.Doc<unknown>) => void) | undefined> {
    const doc = await this.#doc(id);
    if (!doc) return undefined;
    const base = A.view(doc, baseHeads) as Record<string, unknown>;
    if (typeof base.notes !== 'string') return undefined;
    const path = ['notes'];
    const before = base.notes;
    // The form's edit as regions of the base text (a character diff), each named by base characters.
    const removed: A.Cursor[] = [];
    const inserts: { text: string; next?: A.Cursor; prev?: A.Cursor }[] = [];
    let i = 0;
    for (const [op, text] of diff(before, draft)) {
      if (op === diff.EQUAL) i += text.length;
      else if (op === diff.DELETE) {
        for (let k = 0; k < text.length; k++) removed.push(A.getCursor(base, path, i + k));
        i += text.length;
      } else {
        inserts.push({
          text,
          ...(i < before.length ? { next: A.getCursor(base, path, i) } : {}),
          ...(i > 0 ? { prev: A.getCursor(base, path, i - 1) } : {}),
        });
      }
    }
    return d => {
      // Where a base character is now, or undefined if it is gone (Automerge refuses cursors to some deleted ones).
      const present = (c: A.Cursor | undefined): number | undefined => {
        if (c === undefined) return undefined;
        try {
          const at = A.getCursorPosition(d, path, c);
          return at < (d as { notes: string }).notes.length && A.getCursor(d, path, at) === c ? at : undefined;
        } catch {
          return undefined;
        }
      };
      for (const c of removed) {
        const at = present(c);
        if (at !== undefined) A.splice(d, path, at, 1);
      }
      // Each insertion goes right before the base character that followed it (or after the one before it).
      for (const ins of inserts) {
        const n = present(ins.next);
        const b = n === undefined ? present(ins.prev) : undefined;
        const at = n ?? (b !== undefined ? b + 1 : ins.prev === undefined ? 0 : (d as { notes: string }).notes.length);
        A.splice(d, path, at, 0, ins.text);
      }
    };
  }

  /** Settle conflicts by assigning the value that should stand (any value; often one of the conflicting ones). */
  async resolve(id: string, values: { title?: string; fields?: Record<string, string> }): Promise<void> {
    const current = await this.get(id);
    if (!current) throw new RecordError('record_not_found', `no record ${id}`);
    const patch: RecordPatch = {};
    if (values.title !== undefined) patch.title = values.title;
    if (values.fields) patch.fields = values.fields;
    if (current.deleted) throw new RecordError('record_deleted', `record ${id} is deleted (restore it first: cloister record restore ${id})`);
    await this.update(id, patch);
  }

  /** Edit the notes in place (a keystroke: insert and/or delete at a position); merges with concurrent edits. */
  async spliceNotes(id: string, index: number, deleteCount: number, insert = ''): Promise<void> {
    const current = await this.get(id);
    if (!current) throw new RecordError('record_not_found', `no record ${id}`);
    if (current.deleted) throw new RecordError('record_deleted', `record ${id} is deleted`);
    if (!Number.isInteger(index) || index < 0 || index > current.notes.length || !Number.isInteger(deleteCount) || deleteCount < 0)
      throw new RecordError('record_invalid', 'splice position out of range');
    await this.session.change<Record<string, unknown>>(id, d => {
      if (typeof d.notes !== 'string') d.notes = '';
      A.splice(d, ['notes'], index, deleteCount, insert);
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

  /** Delete as a tombstone: concurrent edits stay inside the record and come back with restore(). */
  async remove(id: string): Promise<void> {
    const current = await this.get(id);
    if (!current) throw new RecordError('record_not_found', `no record ${id}`);
    if (current.deleted) return;
    await this.session.change<Record<string, unknown>>(id, d => {
      d.deleted = true;
    });
  }

  /**
   * Records that the given applied envelopes deleted, by another member: sync tells the people who
   * had them (their edits stay inside, and restore brings them back).
   */
  async deletedIn(applied: readonly { docId: string; deviceId: string; seq: number }[]): Promise<{ id: string; title: string; by: Author }[]> {
    const out: { id: string; title: string; by: Author }[] = [];
    for (const docId of new Set(applied.map(a => a.docId))) {
      const doc = await this.#doc(docId);
      if (!doc) continue;
      const r = readRecord(docId, doc);
      if (!r.deleted) continue;
      const mine = this.session.device.userId;
      const candidates = (await this.session.provenance.list(docId)).filter(
        p => p.userId !== mine && applied.some(a => a.docId === docId && a.deviceId === p.deviceId && a.seq === p.seq),
      );
      const setter = candidates.length ? tombstoneSetters(doc, candidates)[0] : undefined;
      if (setter) out.push({ id: docId, title: r.title, by: { userId: setter.userId, deviceId: setter.deviceId, claimedTime: setter.claimedTime } });
    }
    return out;
  }

  /** Undelete (the trash): an explicit action. A delete concurrent with it still wins. */
  async restore(id: string): Promise<void> {
    const current = await this.get(id);
    if (!current) throw new RecordError('record_not_found', `no record ${id}`);
    if (!current.deleted) throw new RecordError('record_not_deleted', `record ${id} is not deleted`);
    await this.session.change<Record<string, unknown>>(id, d => {
      d.deleted = false;
    });
  }

  /** Who changed what: one entry per envelope (verified device/user, claimed time); changes seen in no envelope are listed as unverified, per actor. */
  async history(id: string): Promise<HistoryEntry[]> {
    if (!isValidDocumentId(id)) throw new RecordError('record_not_found', `no record ${id}`);
    const handle = await this.session.open<RecordDoc>(id);
    if (!handle) throw new RecordError('record_not_found', `no record ${id}`);
    await this.session.flushDoc(id);
    const doc = handle.doc();
    const decoded = A.getAllChanges(doc).map(c => A.decodeChange(c));
    const touched = touchedPathsByChange(decoded);
    const byActorSeq = new Map(decoded.map(c => [`${c.actor}:${c.seq}`, c]));
    const entries: HistoryEntry[] = [];
    const covered = new Set<string>();
    // Envelope provenance first: changes a checked envelope carried are never attributed by a snapshot.
    const provenance = (await this.session.provenance.list(id)).sort((a, b) => Number(Boolean(a.viaSnapshot)) - Number(Boolean(b.viaSnapshot)));
    for (const p of provenance) {
      const fields = new Set<string>();
      const group: A.DecodedChange[] = [];
      for (const seq of p.seqs ?? []) {
        const c = byActorSeq.get(`${p.actor}:${seq}`);
        if (!c || covered.has(c.hash)) continue;
        covered.add(c.hash);
        group.push(c);
        for (const f of touched.get(c.hash) ?? []) fields.add(f);
      }
      if (group.length === 0) continue;
      entries.push({
        verified: !p.viaSnapshot, deviceId: p.deviceId, userId: p.userId, claimedTime: p.claimedTime, seq: p.seq,
        envelopeHash: p.envelopeHash, actor: p.actor, changes: group.length, fields: [...fields].sort(),
        values: valuesOfGroup(doc, group), ...(p.viaSnapshot ? { viaSnapshot: p.viaSnapshot } : {}),
      });
    }
    const unverified = new Map<string, HistoryEntry>();
    const unverifiedGroups = new Map<string, A.DecodedChange[]>();
    for (const c of decoded) {
      if (covered.has(c.hash)) continue;
      const e = unverified.get(c.actor) ?? { verified: false, actor: c.actor, changes: 0, fields: [] };
      e.changes++;
      e.fields = [...new Set([...e.fields, ...(touched.get(c.hash) ?? [])])].sort();
      unverified.set(c.actor, e);
      unverifiedGroups.set(c.actor, [...(unverifiedGroups.get(c.actor) ?? []), c]);
    }
    for (const [actor, e] of unverified) e.values = valuesOfGroup(doc, unverifiedGroups.get(actor) ?? []);
    entries.sort((a, b) => (a.claimedTime ?? 0) - (b.claimedTime ?? 0) || (a.deviceId ?? '').localeCompare(b.deviceId ?? '') || (a.seq ?? 0) - (b.seq ?? 0));
    return [...entries, ...unverified.values()];
  }
}

function checkTitle(title: string): void {
  if (typeof title !== 'string' || !title.trim() || title.length > MAX_TITLE) throw new RecordError('record_invalid', 'a title must be 1–1000 characters');
}

function checkField(k: string, v: string | null): void {
  if (!FIELD_KEY.test(k)) throw new RecordError('record_invalid', `bad field name ${JSON.stringify(k)}`);
  if (v !== null && (typeof v !== 'string' || v.length > MAX_FIELD_VALUE)) throw new RecordError('record_invalid', `field ${k} must be text of at most ${MAX_FIELD_VALUE} characters`);
}

const isPlainMap = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v) && !A.isImmutableString(v);
