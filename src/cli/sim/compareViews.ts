// What users see, compared (docs/SIM.md → Compare): every replica's list agrees with its records, no
// deleted record is listed, no title, field or conflict value is one nobody typed, and the remaining
// replicas show identical records, conflicts included (a content hash over the materialized records).
// Snapshots are read through the real RecordStore; the checks are plain functions over them, so a test
// can also hand them a snapshot that breaks a property.
import { sha256 } from '@noble/hashes/sha2.js';
import { toHex, utf8 } from '../../crypto/bytes.ts';
import type { RecordSummary, RecordView } from '../../docs/records/recordTypes.ts';
import type { TypedValues } from './typedValues.ts';

export type ViewCheck =
  | 'list_ids' // list({ includeDeleted }) and list() name the records get() returns, no more, no fewer
  | 'list_title' // a listed title is the record's title
  | 'list_deleted' // a listed deleted flag is the record's
  | 'list_conflicted' // the list marks a record conflicted exactly when it has conflicts
  | 'deleted_listed' // list() shows no deleted record
  | 'trash' // list({ onlyDeleted }) is exactly the deleted records
  | 'untyped_value' // a title, field or conflict value nobody typed there
  | 'damaged' // honest users never damage a record
  | 'conflicts_differ' // conflicts are identical on every remaining replica
  | 'records_differ'; // and so is everything else a user sees

export const VIEW_CHECKS: readonly ViewCheck[] = ['list_ids', 'list_title', 'list_deleted', 'list_conflicted', 'deleted_listed', 'trash', 'untyped_value', 'damaged', 'conflicts_differ', 'records_differ'];

/** One broken property, with where and what. The report carries the first one found. */
export interface Counterexample {
  check: ViewCheck;
  replica: string;
  recordId: string;
  /** The record's creation index (as in the trace), when the run created it. */
  record?: number;
  /** 'title', 'fields.KEY', 'conflicts.PATH', 'notes', 'tags', 'deleted', or '(record)' for the whole record. */
  path?: string;
  value?: unknown;
  /** What it should have been: the record's own value, or the first remaining replica's. */
  expected?: unknown;
  /** The op after which a mid-run check found it; absent for the end-of-run comparison. */
  i?: number;
  detail: string;
}

/** A record as a user sees it: attribution and heads are left out (heads have their own comparison). */
export type MaterializedRecord = Pick<RecordView, 'id' | 'title' | 'fields' | 'notes' | 'tags' | 'deleted' | 'conflicts' | 'damaged'>;

export interface ReplicaViews {
  replica: string;
  removed: boolean;
  /** list(), list({ includeDeleted: true }), list({ onlyDeleted: true }). */
  listed: RecordSummary[];
  listedAll: RecordSummary[];
  trash: RecordSummary[];
  /** Ids the index lists. */
  indexed: string[];
  /** get(id) for every id the index lists or the run created that this replica holds. */
  records: Map<string, MaterializedRecord>;
}

/** The part of RecordStore the snapshot reads. */
export interface RecordReader {
  ids(): Promise<string[]>;
  list(options?: { includeDeleted?: boolean; onlyDeleted?: boolean }): Promise<RecordSummary[]>;
  get(id: string): Promise<RecordView | undefined>;
}

export const materialize = (v: RecordView): MaterializedRecord => ({
  id: v.id,
  title: v.title,
  fields: v.fields,
  notes: v.notes,
  tags: v.tags,
  deleted: v.deleted,
  conflicts: v.conflicts,
  ...(v.damaged ? { damaged: v.damaged } : {}),
});

export async function snapshotViews(replica: string, removed: boolean, store: RecordReader, created: readonly string[]): Promise<ReplicaViews> {
  const indexed = await store.ids();
  const records = new Map<string, MaterializedRecord>();
  for (const id of [...new Set([...indexed, ...created])].sort()) {
    const v = await store.get(id);
    if (v) records.set(id, materialize(v));
  }
  return {
    replica,
    removed,
    listed: await store.list(),
    listedAll: await store.list({ includeDeleted: true }),
    trash: await store.list({ onlyDeleted: true }),
    indexed,
    records,
  };
}

/** Every (path, value) a user is shown in a record: title, fields, and each conflict value under its path. */
export function shownValues(r: Pick<MaterializedRecord, 'title' | 'fields' | 'conflicts'>): [path: string, value: string][] {
  const out: [string, string][] = [['title', r.title]];
  for (const [k, v] of Object.entries(r.fields)) out.push([`fields.${k}`, v]);
  for (const [path, vs] of Object.entries(r.conflicts)) for (const v of vs) out.push([path, v]);
  return out;
}

/** Shown values nobody typed at that path of that record. */
export function untypedValues(r: Pick<MaterializedRecord, 'id' | 'title' | 'fields' | 'conflicts'>, typed: TypedValues): [path: string, value: string][] {
  return shownValues(r).filter(([path, value]) => !typed.has(r.id, path, value));
}

/**
 * One replica on its own: list against get, no deleted record listed, the trash, shown values against
 * the typed log, damage. With `complete` (the end of the run, after the final sync), every record the
 * replica holds must also be listed; mid-run a record may arrive before its index entry.
 */
export function checkReplica(v: ReplicaViews, typed: TypedValues, o: { complete: boolean; recordIndex?: ReadonlyMap<string, number> }): Counterexample[] {
  const out: Counterexample[] = [];
  const at = (check: ViewCheck, recordId: string, detail: string, extra: Partial<Counterexample> = {}) => {
    const record = o.recordIndex?.get(recordId);
    out.push({ check, replica: v.replica, recordId, ...(record !== undefined ? { record } : {}), ...extra, detail });
  };
  const indexed = new Set(v.indexed);
  const listedAll = new Map(v.listedAll.map(s => [s.id, s]));
  const listed = new Set(v.listed.map(s => s.id));
  const trash = new Set(v.trash.map(s => s.id));

  for (const s of v.listedAll) {
    const r = v.records.get(s.id);
    if (!r) {
      at('list_ids', s.id, 'listed, but get() finds no record', { value: s.title });
      continue;
    }
    if (s.title !== r.title) at('list_title', s.id, 'the list shows a title the record does not have', { path: 'title', value: s.title, expected: r.title });
    if (s.deleted !== r.deleted) at('list_deleted', s.id, 'the list and the record disagree on deleted', { path: 'deleted', value: s.deleted, expected: r.deleted });
    const conflicted = Object.keys(r.conflicts).length > 0;
    if (!!s.conflicted !== conflicted) at('list_conflicted', s.id, conflicted ? 'the list does not mark a conflicted record' : 'the list marks a record conflicted that has no conflict', { path: 'conflicts', value: !!s.conflicted, expected: conflicted });
  }
  for (const s of v.listed) {
    const r = v.records.get(s.id);
    if (s.deleted || r?.deleted) at('deleted_listed', s.id, 'a deleted record is listed', { path: 'deleted', value: true });
    if (!listedAll.has(s.id)) at('list_ids', s.id, 'in list() but not in list({ includeDeleted })');
  }
  for (const [id, r] of v.records) {
    if (!o.complete && !indexed.has(id)) continue; // not in the index yet: listed once it is
    if (!listedAll.has(id)) at('list_ids', id, o.complete && !indexed.has(id) ? 'held, but not in the index after the final sync' : 'held and indexed, but not listed', { value: r.title });
    else if (!r.deleted && !listed.has(id)) at('list_ids', id, 'a live record missing from list()', { value: r.title });
    if (r.deleted !== trash.has(id)) at('trash', id, r.deleted ? 'a deleted record missing from the trash' : 'a live record in the trash', { path: 'deleted', value: trash.has(id), expected: r.deleted });
  }
  for (const s of v.trash) if (!v.records.has(s.id)) at('list_ids', s.id, 'in the trash, but get() finds no record');

  for (const r of v.records.values()) {
    for (const [path, value] of untypedValues(r, typed)) at('untyped_value', r.id, `shows a value nobody typed at ${path}`, { path, value });
    if (r.damaged) at('damaged', r.id, `damaged: ${r.damaged.join(', ')}`, { path: r.damaged[0], value: r.damaged });
  }
  return out;
}

/** JSON with sorted keys at every level, so equal records hash equal. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .filter(k => (v as Record<string, unknown>)[k] !== undefined)
      .map(k => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

/** A digest of everything users see on a replica: every record it holds, conflicts included. */
export function contentHash(records: ReadonlyMap<string, MaterializedRecord>): string {
  const sorted = [...records.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return toHex(sha256(utf8(canonicalJson(sorted)))).slice(0, 32);
}

/** Where two materialized records first differ: [path, value here, value on the reference]. */
function firstDifference(a: MaterializedRecord, ref: MaterializedRecord): [string, unknown, unknown] | undefined {
  if (a.title !== ref.title) return ['title', a.title, ref.title];
  for (const k of [...new Set([...Object.keys(a.fields), ...Object.keys(ref.fields)])].sort())
    if (a.fields[k] !== ref.fields[k]) return [`fields.${k}`, a.fields[k] ?? null, ref.fields[k] ?? null];
  if (a.notes !== ref.notes) return ['notes', a.notes, ref.notes];
  if (a.deleted !== ref.deleted) return ['deleted', a.deleted, ref.deleted];
  if (canonicalJson(a.tags) !== canonicalJson(ref.tags)) return ['tags', a.tags, ref.tags];
  if (canonicalJson(a.damaged ?? null) !== canonicalJson(ref.damaged ?? null)) return ['damaged', a.damaged ?? null, ref.damaged ?? null];
  return undefined;
}

/**
 * The remaining replicas against the first of them: the same records, the same conflicts, the same
 * values. (Conflicts are compared first, so a differing conflict set is named as such.)
 */
export function checkAcross(views: readonly ReplicaViews[], o: { recordIndex?: ReadonlyMap<string, number> } = {}): Counterexample[] {
  const out: Counterexample[] = [];
  const ref = views[0];
  if (!ref) return out;
  for (const v of views.slice(1)) {
    const ids = [...new Set([...ref.records.keys(), ...v.records.keys()])].sort();
    for (const id of ids) {
      const record = o.recordIndex?.get(id);
      const base = { replica: v.replica, recordId: id, ...(record !== undefined ? { record } : {}) };
      const a = v.records.get(id);
      const b = ref.records.get(id);
      if (!a || !b) {
        out.push({ ...base, check: 'records_differ', path: '(record)', value: !!a, expected: !!b, detail: `${a ? v.replica : ref.replica} holds a record ${a ? ref.replica : v.replica} does not` });
        continue;
      }
      for (const path of [...new Set([...Object.keys(a.conflicts), ...Object.keys(b.conflicts)])].sort()) {
        const x = a.conflicts[path] ?? [];
        const y = b.conflicts[path] ?? [];
        if (canonicalJson(x) !== canonicalJson(y))
          out.push({ ...base, check: 'conflicts_differ', path, value: x, expected: y, detail: `conflicts at ${path} differ from ${ref.replica}'s` });
      }
      const d = firstDifference(a, b);
      if (d) out.push({ ...base, check: 'records_differ', path: d[0], value: d[1], expected: d[2], detail: `${d[0]} differs from ${ref.replica}'s` });
    }
  }
  return out;
}

/** Conflicts on one replica: paths in conflict, and losing values shown. */
export function countConflicts(records: ReadonlyMap<string, MaterializedRecord>): { paths: number; values: number; records: number } {
  let paths = 0;
  let values = 0;
  let recs = 0;
  for (const r of records.values()) {
    const n = Object.keys(r.conflicts).length;
    if (n) recs++;
    paths += n;
    for (const vs of Object.values(r.conflicts)) values += vs.length;
  }
  return { paths, values, records: recs };
}
