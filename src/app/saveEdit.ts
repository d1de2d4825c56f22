// Saving what one form changed (DESIGN → Documents, normative). The form remembers the heads of the
// record it started from; the edit is made as of those heads, so Automerge merges it with whatever
// arrived since: notes character by character (a teammate's text is never dropped), and a title or
// field someone else set meanwhile becomes a visible conflict instead of being overwritten.
import type { RecordPatch, RecordView } from '../docs/records/recordTypes.ts';
import type { RecordStore } from '../docs/records/RecordStore.ts';

export interface RecordDraft {
  title: string;
  fields: Record<string, string>;
  notes: string;
  /** Absent: the form doesn't edit tags. */
  tags?: string[];
}

/** What a form started from: the values it showed and the heads they were read at. */
export interface FormBase {
  draft: RecordDraft;
  heads: string[];
}

export const draftOf = (r?: RecordView): RecordDraft => ({ title: r?.title ?? '', fields: { ...(r?.fields ?? {}) }, notes: r?.notes ?? '', tags: [...(r?.tags ?? [])] });

const sameTags = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((t, i) => t === b[i]);

export const baseOf = (r?: RecordView): FormBase => ({ draft: draftOf(r), heads: r?.heads ?? [] });

/** Only what the form changed: an untouched value is not assigned again (it would conflict with a teammate's newer one). */
export function editPatch(base: RecordDraft, draft: RecordDraft): RecordPatch {
  const fields: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(draft.fields)) if (base.fields[k] !== v) fields[k] = v;
  for (const k of Object.keys(base.fields)) if (!(k in draft.fields)) fields[k] = null;
  return {
    ...(draft.title !== base.title ? { title: draft.title } : {}),
    ...(Object.keys(fields).length ? { fields } : {}),
    ...(draft.notes !== base.notes ? { notes: draft.notes } : {}),
    ...(draft.tags !== undefined && !sameTags(draft.tags, base.tags ?? []) ? { tags: draft.tags } : {}),
  };
}

/** Save the form's changes as of the heads it showed. False when there was nothing to save. */
export async function saveEdit(records: Pick<RecordStore, 'update'>, id: string, base: FormBase, draft: RecordDraft): Promise<boolean> {
  const patch = editPatch(base.draft, draft);
  if (!Object.keys(patch).length) return false;
  await records.update(id, patch, base.heads.length ? { baseHeads: base.heads } : {});
  return true;
}
