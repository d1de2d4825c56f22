// "Restore this value" (issue 12): an earlier value from a record's history written back as a new
// ordinary edit (RecordStore.update), so it merges like any other edit and shows in the history as
// its own change. Only values history holds whole can be restored: title, a field (an absent old
// value removes the field), tags, and notes shown in full. The tombstone has its own restore.
import type { RecordPatch, RecordView, ValueChange } from './recordTypes.ts';

const sameTags = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((t, i) => t === b[i]);

/** The edit that puts `change.old` back, or undefined when it can't be restored or already stands. */
export function restorePatch(change: ValueChange, current: Pick<RecordView, 'title' | 'fields' | 'notes' | 'tags'>): RecordPatch | undefined {
  const old = change.old;
  if (change.path === 'title') return typeof old === 'string' && old.trim() && old !== current.title ? { title: old } : undefined;
  if (change.path.startsWith('fields.')) {
    const key = change.path.slice('fields.'.length);
    if (old === undefined) return key in current.fields ? { fields: { [key]: null } } : undefined;
    return typeof old === 'string' && old !== current.fields[key] ? { fields: { [key]: old } } : undefined;
  }
  if (change.path === 'notes') return typeof old === 'string' && !change.notesDiff && old !== current.notes ? { notes: old } : undefined;
  if (change.path === 'tags') return Array.isArray(old) && !sameTags(old, current.tags) ? { tags: [...old] } : undefined;
  return undefined;
}
