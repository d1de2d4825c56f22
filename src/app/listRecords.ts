// The list the app shows: live records and the trash in one read. RecordStore.list() fails as a whole
// when one stored record no longer loads (DamagedDocumentError); then the records are read one by one,
// and each one that doesn't load is listed as damaged (nothing of it can be read) beside the others.
import { DamagedDocumentError } from '../docs/DamagedDocumentError.ts';
import type { RecordStore } from '../docs/records/RecordStore.ts';
import type { RecordSummary } from '../docs/records/recordTypes.ts';

export async function listRecords(records: Pick<RecordStore, 'list' | 'ids' | 'get'>): Promise<RecordSummary[]> {
  try {
    return await records.list({ includeDeleted: true });
  } catch (e) {
    if (!(e instanceof DamagedDocumentError)) throw e;
  }
  const out: RecordSummary[] = [];
  for (const id of await records.ids()) {
    try {
      const r = await records.get(id);
      if (r) out.push({ id, title: r.title, deleted: r.deleted, ...(Object.keys(r.conflicts).length ? { conflicted: true } : {}), ...(r.damaged ? { damaged: true } : {}) });
    } catch (e) {
      if (!(e instanceof DamagedDocumentError)) throw e;
      out.push({ id, title: '', deleted: false, damaged: true });
    }
  }
  return out.sort((a, b) => a.title.localeCompare(b.title) || (a.id < b.id ? -1 : 1));
}
