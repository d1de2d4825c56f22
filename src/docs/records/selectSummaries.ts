// Which record summaries a list shows, and in what order: shared by RecordStore.list and the
// record-summary cache (cachedList.ts), so both give the same answer. Loads no Automerge.
import type { RecordSummary } from './recordTypes.ts';

export interface ListOptions {
  includeDeleted?: boolean;
  onlyDeleted?: boolean;
  details?: boolean;
}

/** By title, then id: the order list() gives. One collator (what localeCompare uses) is much faster than a localeCompare per comparison. */
export function sortSummaries(list: RecordSummary[]): RecordSummary[] {
  const byTitle = new Intl.Collator().compare;
  return list.sort((a, b) => byTitle(a.title, b.title) || (a.id < b.id ? -1 : 1));
}

/**
 * What list(options) gives, from summaries with details (summaries()): the same records, the same
 * order, the same properties in the same order. The record-summary cache answers list() with it.
 */
export function selectSummaries(all: readonly (RecordSummary | undefined)[], options: ListOptions = {}): RecordSummary[] {
  const out: RecordSummary[] = [];
  for (const s of all) {
    if (!s) continue;
    if (options.onlyDeleted ? !s.deleted : s.deleted && !options.includeDeleted) continue;
    if (options.details) {
      out.push({ ...s });
      continue;
    }
    out.push({ id: s.id, title: s.title, deleted: s.deleted, ...(s.conflicted ? { conflicted: true } : {}), ...(s.damaged ? { damaged: true } : {}) });
  }
  return sortSummaries(out);
}
