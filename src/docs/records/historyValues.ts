// Old and new values for a record's history (issue 12): for one change group (an envelope's changes,
// or an unverified actor's), the record as its author saw it (at the group's dependencies) and the
// record with the group applied, both read with readRecord (so a damaged value never throws), compared
// path by path. Concurrent edits each show against what their own author saw, not against each other.
import * as A from '@automerge/automerge';
import diff from 'fast-diff';
import { readRecord, type ReadRecord } from './readRecord.ts';
import type { ValueChange } from './recordTypes.ts';

/** Notes longer than this (old and new together) are shown as lengths and a short diff. */
export const NOTES_IN_FULL = 400;
const SNIPPET = 80;

/** What `group` (changes of `doc`, decoded) changed, path by path; [] when it can't be read. */
export function valuesOfGroup(doc: A.Doc<unknown>, group: readonly A.DecodedChange[]): ValueChange[] {
  if (!group.length) return [];
  const inGroup = new Set(group.map(c => c.hash));
  const before = new Set<string>();
  for (const c of group) for (const d of c.deps) if (!inGroup.has(d)) before.add(d);
  try {
    const old = before.size ? readRecord('', A.view(doc, [...before])) : undefined;
    const now = readRecord('', A.view(doc, [...before, ...inGroup]));
    return compareRecords(old, now);
  } catch {
    return []; // heads this document doesn't hold: the paths touched are still listed
  }
}

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** Paths whose value differs between `old` (undefined: the record didn't exist yet) and `now`. */
export function compareRecords(old: ReadRecord | undefined, now: ReadRecord): ValueChange[] {
  const out: ValueChange[] = [];
  if (!old || old.title !== now.title) out.push({ path: 'title', ...(old ? { old: old.title } : {}), new: now.title });
  const keys = new Set([...Object.keys(old?.fields ?? {}), ...Object.keys(now.fields)]);
  for (const k of [...keys].sort((a, b) => a.localeCompare(b))) {
    const was = old?.fields[k];
    const is = now.fields[k];
    if (was === is) continue;
    out.push({ path: `fields.${k}`, ...(was !== undefined ? { old: was } : {}), ...(is !== undefined ? { new: is } : {}) });
  }
  const oldNotes = old?.notes ?? '';
  if (oldNotes !== now.notes) out.push(notesChange(oldNotes, now.notes));
  if (!old ? now.tags.length > 0 : !sameList(old.tags, now.tags)) out.push({ path: 'tags', old: old?.tags ?? [], new: now.tags });
  if (old ? old.deleted !== now.deleted : now.deleted) out.push({ path: 'deleted', old: old?.deleted ?? false, new: now.deleted });
  return out;
}

function notesChange(old: string, now: string): ValueChange {
  if (old.length + now.length <= NOTES_IN_FULL) return { path: 'notes', old, new: now };
  let removed = '';
  let added = '';
  for (const [op, text] of diff(old, now)) {
    if (op === diff.DELETE && removed.length < SNIPPET) removed += text;
    else if (op === diff.INSERT && added.length < SNIPPET) added += text;
  }
  return { path: 'notes', notesDiff: { oldLength: old.length, newLength: now.length, removed: removed.slice(0, SNIPPET), added: added.slice(0, SNIPPET) } };
}
