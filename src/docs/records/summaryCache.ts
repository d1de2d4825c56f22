// The record-summary cache (docs/VAULT.md → The record-summary cache): what `record list` shows of each
// record (title, deleted, conflicts, damage, tags, search text, who changed it last), kept so a list
// need not open every document. DESIGN: a cache of what a record owns is derived, never edited. Each
// entry is what RecordStore.summaries() read from the documents, stored beside the stamp of the
// document's files taken before that read (docStamps.ts); it is used only while the stamp is unchanged.
// The cache lives in the workspace's encrypted state storage (sealed under the vault's data key, its
// name a keyed hash), never in plaintext. A cache that does not open or parse is ignored and rebuilt.
import type { StorageAdapterInterface, StorageKey } from '@automerge/automerge-repo';
import { fromUtf8, utf8 } from '../../crypto/bytes.ts';
import type { DocPlaces } from './docStamps.ts';
import type { RecordSummary } from './recordTypes.ts';

/** The cache's key in the state storage. */
export const SUMMARY_CACHE_KEY: StorageKey = ['cloister-record-summaries'];
const VERSION = 1;

export interface CachedDoc {
  id: string;
  places: DocPlaces;
  /** The document's stamps (docStamps.ts), taken before `summary` was read. */
  stamp: string;
  provenanceStamp: string;
  /** Its summary with details; undefined when the profile did not hold the record (yet). */
  summary?: RecordSummary;
}

export interface SummaryCache {
  workspaceId: string;
  /** The workspace index document: its stamp before `ids` were read from it. */
  index: { places: DocPlaces; stamp: string; ids: string[] };
  docs: CachedDoc[];
}

export async function writeSummaryCache(state: StorageAdapterInterface, cache: SummaryCache): Promise<void> {
  const docs = cache.docs.map(d => [d.id, placesTuple(d.places), d.stamp, d.provenanceStamp, d.summary ?? null]);
  const body = { v: VERSION, workspaceId: cache.workspaceId, index: { ...cache.index, places: placesTuple(cache.index.places) }, docs };
  await state.save(SUMMARY_CACHE_KEY, utf8(JSON.stringify(body)));
}

/** The cache for `workspaceId`, or undefined when there is none or it does not open, parse or check. Never throws. */
export async function readSummaryCache(state: StorageAdapterInterface, workspaceId: string): Promise<SummaryCache | undefined> {
  try {
    const bytes = await state.load(SUMMARY_CACHE_KEY);
    if (!bytes) return undefined;
    return decode(JSON.parse(fromUtf8(bytes)) as unknown, workspaceId);
  } catch {
    return undefined;
  }
}

const placesTuple = (p: DocPlaces) => [p.repo, p.outbox, p.provenance, p.known];

const isString = (x: unknown): x is string => typeof x === 'string';
const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

function decode(x: unknown, workspaceId: string): SummaryCache | undefined {
  if (!isObject(x) || x.v !== VERSION || x.workspaceId !== workspaceId || !isObject(x.index) || !Array.isArray(x.docs)) return undefined;
  const { stamp, ids } = x.index;
  const indexPlaces = placesFrom(x.index.places);
  if (!isString(stamp) || !indexPlaces || !Array.isArray(ids) || !ids.every(isString)) return undefined;
  const docs: CachedDoc[] = [];
  for (const d of x.docs) {
    if (!Array.isArray(d) || d.length !== 5 || !isString(d[0]) || !isString(d[2]) || !isString(d[3])) return undefined;
    const places = placesFrom(d[1]);
    if (!places) return undefined;
    const entry: CachedDoc = { id: d[0], places, stamp: d[2], provenanceStamp: d[3] };
    if (d[4] !== null) {
      const summary = summaryFrom(d[4], d[0]);
      if (!summary) return undefined;
      entry.summary = summary;
    }
    docs.push(entry);
  }
  return { workspaceId, index: { places: indexPlaces, stamp, ids: ids as string[] }, docs };
}

function placesFrom(x: unknown): DocPlaces | undefined {
  if (!Array.isArray(x) || x.length !== 4 || !x.every(isString)) return undefined;
  const [repo, outbox, provenance, known] = x as [string, string, string, string];
  return { repo, outbox, provenance, known };
}

/** A summary with details, rebuilt property by property in RecordStore's order (the CLI prints it as JSON). */
function summaryFrom(x: unknown, id: string): RecordSummary | undefined {
  if (!isObject(x) || x.id !== id || !isString(x.title) || typeof x.deleted !== 'boolean') return undefined;
  if (!(x.conflicted === undefined || x.conflicted === true) || !(x.damaged === undefined || x.damaged === true)) return undefined;
  if (!Array.isArray(x.tags) || !x.tags.every(isString) || !isString(x.searchText)) return undefined;
  const updated = x.updatedAt === undefined && x.updatedBy === undefined;
  if (!updated && !(typeof x.updatedAt === 'number' && isString(x.updatedBy))) return undefined;
  const deleted = x.deletedAt === undefined && x.deletedBy === undefined;
  if (!deleted && !(typeof x.deletedAt === 'number' && isString(x.deletedBy))) return undefined;
  return {
    id, title: x.title, deleted: x.deleted,
    ...(x.conflicted ? { conflicted: true } : {}),
    ...(x.damaged ? { damaged: true } : {}),
    tags: [...x.tags] as string[], searchText: x.searchText,
    ...(!updated ? { updatedAt: x.updatedAt as number, updatedBy: x.updatedBy as string } : {}),
    ...(!deleted ? { deletedAt: x.deletedAt as number, deletedBy: x.deletedBy as string } : {}),
  };
}
