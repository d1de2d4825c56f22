// Find records on this device (issue 12): search over decrypted titles, field keys and values, notes
// and tags, filter by tag, sort by title, updated time or author. Pure and local: nothing leaves the
// device. The search text is built once per list (RecordStore.list({ details: true })), so a query
// over 1,000 records is a substring test per record, fast enough to run on every keystroke.
import type { RecordSummary } from './recordTypes.ts';

export type RecordSort = 'title' | 'updated' | 'author';
export const RECORD_SORTS: readonly RecordSort[] = ['title', 'updated', 'author'];

export interface FindOptions {
  /** Words that must all appear (case- and accent-insensitive), anywhere in the record. */
  query?: string;
  /** Only records carrying this tag (compared like the query: case- and accent-insensitive). */
  tag?: string;
  sort?: RecordSort;
  /** The author's display name, when sorting by author (default: the user id). */
  nameOf?: (userId: string) => string | undefined;
}

// Combining marks left after NFD decomposition ("é" → "e" + U+0301).
const MARKS = /\p{M}/gu;

/** Text as search compares it: accents removed, lower case, runs of space as one. */
export function normalizeForSearch(text: string): string {
  return text.normalize('NFD').replace(MARKS, '').toLowerCase().replace(/\s+/g, ' ').trim();
}

/** The one string a record is searched in: every part it shows, normalised, separated by newlines. */
export function searchTextOf(r: { title: string; fields: Record<string, string>; notes: string; tags: readonly string[] }): string {
  const parts = [r.title];
  for (const [k, v] of Object.entries(r.fields)) parts.push(k, v);
  parts.push(r.notes, ...r.tags);
  return parts.map(normalizeForSearch).join('\n');
}

/** The words of a query, normalised; empty when the query has none. */
export const queryWords = (query: string | undefined): string[] => (query ? normalizeForSearch(query).split(' ').filter(Boolean) : []);

/** Every tag in use, sorted, one spelling per tag as the filter compares them (the first seen). */
export function tagsIn(records: readonly RecordSummary[]): string[] {
  const out = new Map<string, string>();
  for (const r of records) for (const t of r.tags ?? []) if (!out.has(normalizeForSearch(t))) out.set(normalizeForSearch(t), t);
  return [...out.values()].sort((a, b) => a.localeCompare(b));
}

const byTitle = (a: RecordSummary, b: RecordSummary) => a.title.localeCompare(b.title) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * The records matching `options`, sorted. A summary without a search text (listed without details)
 * is searched in its title only. Newest first for 'updated' (records with no verified change last);
 * by the latest verified author's name for 'author' (unattributed last); ties by title.
 */
export function findRecords(records: readonly RecordSummary[], options: FindOptions = {}): RecordSummary[] {
  const words = queryWords(options.query);
  const tag = options.tag ? normalizeForSearch(options.tag) : '';
  const out = records.filter(r => {
    if (tag && !(r.tags ?? []).some(t => normalizeForSearch(t) === tag)) return false;
    if (!words.length) return true;
    const text = r.searchText ?? normalizeForSearch(r.title);
    return words.every(w => text.includes(w));
  });
  const sort = options.sort ?? 'title';
  if (sort === 'title') return out.sort(byTitle);
  if (sort === 'updated') return out.sort((a, b) => (b.updatedAt ?? -Infinity) - (a.updatedAt ?? -Infinity) || byTitle(a, b));
  const who = (r: RecordSummary) => (r.updatedBy ? (options.nameOf?.(r.updatedBy) ?? r.updatedBy) : undefined);
  const keyed = out.map(r => ({ r, k: who(r) }));
  keyed.sort((a, b) => (a.k === undefined ? (b.k === undefined ? 0 : 1) : b.k === undefined ? -1 : a.k.localeCompare(b.k)) || byTitle(a.r, b.r));
  return keyed.map(x => x.r);
}
