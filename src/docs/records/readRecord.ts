// Reads a record document as people see it, without trusting its shape: any member can write
// anything into it. Registers (title, field values) report the values that lost a concurrent
// assignment; anything of the wrong type is named in `damaged` and the rest is still shown.
import * as A from '@automerge/automerge';
import type { RecordView } from './recordTypes.ts';

export type ReadRecord = Omit<RecordView, 'createdBy' | 'updatedBy' | 'heads'>;

/** A register's value as text, or undefined when it isn't a string (plain, text or immutable). */
export function registerText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (A.isImmutableString(v)) return (v as A.ImmutableString).val;
  return undefined;
}

/** The values of `obj[key]` that lost a concurrent assignment, distinct, as text. */
function losers(obj: A.Doc<unknown>, key: string, winner: string | undefined): string[] {
  const all = A.getConflicts(obj, key);
  if (!all) return [];
  const out = new Set<string>();
  for (const v of Object.values(all)) {
    const t = registerText(v);
    if (t !== undefined && t !== winner) out.add(t);
  }
  return [...out].sort();
}

const isMap = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !A.isImmutableString(v);

export function readRecord(id: string, doc: A.Doc<unknown>): ReadRecord {
  const d = doc as Record<string, unknown>;
  const damaged: string[] = [];
  const conflicts: Record<string, string[]> = {};

  const title = registerText(d.title);
  if (title === undefined) damaged.push('title');
  else {
    const lost = losers(doc, 'title', title);
    if (lost.length) conflicts.title = lost;
  }

  const fields: Record<string, string> = {};
  if (isMap(d.fields)) {
    const fieldsObj = d.fields as A.Doc<unknown>;
    for (const [k, v] of Object.entries(d.fields)) {
      const t = registerText(v);
      if (t === undefined) {
        damaged.push(`fields.${k}`);
        continue;
      }
      fields[k] = t;
      const lost = losers(fieldsObj, k, t);
      if (lost.length) conflicts[`fields.${k}`] = lost;
    }
  } else if (d.fields !== undefined) damaged.push('fields');

  let notes = '';
  if (typeof d.notes === 'string') notes = d.notes;
  else if (d.notes !== undefined) {
    const t = registerText(d.notes);
    if (t !== undefined) notes = t;
    else damaged.push('notes');
  }

  const tags: string[] = [];
  if (Array.isArray(d.tags)) {
    for (const t of d.tags) {
      const s = registerText(t);
      if (s !== undefined) tags.push(s);
      else if (!damaged.includes('tags')) damaged.push('tags');
    }
  } else if (d.tags !== undefined) damaged.push('tags');

  // Delete wins over a concurrent restore: any concurrent `true` keeps the record deleted.
  const tomb = A.getConflicts(doc, 'deleted');
  const deleted = d.deleted === true || (tomb !== undefined && Object.values(tomb).some(v => v === true));
  if (d.deleted !== undefined && typeof d.deleted !== 'boolean') damaged.push('deleted');

  return {
    id,
    title: title ?? '',
    fields,
    notes,
    tags,
    deleted,
    conflicts,
    ...(damaged.length ? { damaged } : {}),
  };
}
