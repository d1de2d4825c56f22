// `record list` from the record-summary cache (summaryCache.ts): the same answer as RecordStore.list,
// without opening every document. When the stamp of the index and of every record it lists is as the
// cache has it, the list comes from the cache alone: no Repo, no Automerge, one sealed blob read. Else
// the session opens and reads only the documents whose stamp changed (and the index), and the cache
// is written again. Node only (the CLI); the agent keeps its own session in memory.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { INFO } from '../../crypto/domains.ts';
import { deriveSubkey } from '../../crypto/hkdf.ts';
import type { StorageNameKey } from '../../crypto/keys.ts';
import { ok, type Result } from '../../crypto/result.ts';
import type { UnlockedVault } from '../../identity/vault/types.ts';
import { replayLog } from '../../identity/workspace/log.ts';
import { withNames } from '../../identity/workspace/names.ts';
import type { WorkspaceState } from '../../identity/workspace/state.ts';
import { listWorkspaces, workspaceFileName } from '../../identity/workspace/store.ts';
import { AtomicFileStorageAdapter } from '../AtomicFileStorageAdapter.ts';
import type { OpenSessionFailure } from '../openSession.ts';
import { EncryptedStorageAdapter, KEYCHECK_NAME } from '../storage/EncryptedStorageAdapter.ts';
import { DocStamper, placesOf } from './docStamps.ts';
import type { NameOf } from './personLabel.ts';
import { selectSummaries, type ListOptions } from './selectSummaries.ts';
import type { RecordSummary } from './recordTypes.ts';
import { readSummaryCache, writeSummaryCache, type CachedDoc, type SummaryCache } from './summaryCache.ts';

export interface CachedListOptions {
  home: string;
  vault: UnlockedVault;
  /** Workspace name or id; may be omitted when the profile holds exactly one. */
  workspace?: string;
}

export interface CachedListing {
  records: RecordSummary[];
  /** Display names from the workspace's membership log. */
  nameOf: NameOf;
  /** 'cache' when no document was opened; else how many documents were read again. */
  read: 'cache' | number;
}

/** The workspace's folder of local documents: as openSession.ts's docsDirOf (which loads the whole session to import). */
const docsDirOf = (home: string, vault: UnlockedVault, workspaceId: string): string =>
  join(home, 'docs', workspaceFileName(vault.dataKey, workspaceId).replace(/\.ws$/, ''));

export async function listCached(o: CachedListOptions, options: ListOptions): Promise<Result<CachedListing, OpenSessionFailure>> {
  const chosen = chooseWorkspace(o);
  let cache: SummaryCache | undefined;
  if (chosen) {
    const dir = docsDirOf(o.home, o.vault, chosen.id);
    // A profile whose state storage was never opened has no cache; opening it here would write its key check outside the profile lock.
    const state = existsSync(join(dir, 'state', ...KEYCHECK_NAME)) ? await EncryptedStorageAdapter.open(new AtomicFileStorageAdapter(join(dir, 'state')), o.vault.dataKey) : undefined;
    cache = state?.ok ? await readSummaryCache(state.value, chosen.id) : undefined;
    if (cache && isFresh(cache, new DocStamper(dir), options.details === true)) {
      return ok({ records: selectSummaries(cache.docs.map(d => d.summary), options), nameOf: nameOfState(chosen.state), read: 'cache' });
    }
  }
  return rebuild(o, options, cache);
}

/**
 * Is every stamp (the index's and each listed record's) as the cache has it? Provenance is compared
 * where the answer reads it: for details (who changed it), and for a record not held or damaged
 * (provenance tells one that never arrived from one whose stored chunks went missing).
 */
function isFresh(cache: SummaryCache, stamper: DocStamper, details: boolean): boolean {
  if (stamper.stamp(cache.index.places) !== cache.index.stamp) return false;
  if (cache.docs.length !== cache.index.ids.length) return false;
  return cache.docs.every((d, k) =>
    d.id === cache.index.ids[k]
    && stamper.stamp(d.places) === d.stamp
    && (!(details || !d.summary || d.summary.damaged) || stamper.provenanceStamp(d.places) === d.provenanceStamp));
}

/**
 * Open the session, read the index and every record whose stamp changed, write the cache, answer.
 * Every stamp is taken before the read it vouches for: a write landing in between changes the stamp
 * the next list compares, so it is read again then.
 */
async function rebuild(o: CachedListOptions, options: ListOptions, cache: SummaryCache | undefined): Promise<Result<CachedListing, OpenSessionFailure>> {
  const { openRecordSession } = await import('../openSession.ts');
  const opened = await openRecordSession({ home: o.home, vault: o.vault, ...(o.workspace !== undefined ? { workspace: o.workspace } : {}) });
  if (!opened.ok) return opened;
  const s = opened.value;
  try {
    const workspaceId = s.workspace.id;
    const dir = docsDirOf(o.home, o.vault, workspaceId);
    const stamper = new DocStamper(dir);
    const nameKey = deriveSubkey<StorageNameKey>(o.vault.dataKey, INFO.storageNames);
    const prev = cache?.workspaceId === workspaceId ? cache : undefined;
    const indexPlaces = prev?.index.places ?? placesOf(nameKey, s.records.indexId);
    const indexStamp = stamper.stamp(indexPlaces);
    const ids = await s.records.ids();
    const before = new Map(prev?.docs.map(d => [d.id, d]));
    const docs: CachedDoc[] = ids.map(id => {
      const places = before.get(id)?.places ?? placesOf(nameKey, id);
      return { id, places, stamp: stamper.stamp(places), provenanceStamp: stamper.provenanceStamp(places) };
    });
    const stale = docs.filter(d => {
      const old = before.get(d.id);
      if (old?.stamp !== d.stamp || old.provenanceStamp !== d.provenanceStamp) return true;
      if (old.summary) d.summary = old.summary;
      return false;
    });
    const read = await s.records.summaries(stale.map(d => d.id));
    stale.forEach((d, k) => {
      if (read[k]) d.summary = read[k];
    });
    const next: SummaryCache = { workspaceId, index: { places: indexPlaces, stamp: indexStamp, ids }, docs };
    const state = await EncryptedStorageAdapter.open(new AtomicFileStorageAdapter(join(dir, 'state')), o.vault.dataKey);
    // The cache only saves time: a profile where it can't be written still lists.
    if (state.ok) await writeSummaryCache(state.value, next).catch(() => undefined);
    const nameOf: NameOf = userId => s.live.state.members.get(userId)?.name ?? s.workspace.state.members.get(userId)?.name;
    return ok({ records: selectSummaries(docs.map(d => d.summary), options), nameOf, read: stale.length });
  } finally {
    await s.close();
  }
}

/**
 * The workspace openRecordSession would choose, when the choice is clear (the only one, or the one
 * named); undefined otherwise, and the session then says why (ambiguous, unreadable, not found).
 */
function chooseWorkspace(o: CachedListOptions): { id: string; state: WorkspaceState } | undefined {
  const stored = listWorkspaces(o.home, o.vault.dataKey);
  if (o.workspace === undefined && stored.length !== 1) return undefined;
  const found: { id: string; state: WorkspaceState }[] = [];
  for (const ws of stored) {
    const st = replayLog(ws.entries);
    if (!st.ok) continue;
    const state = withNames(st.value, ws.epochKeys);
    if (o.workspace === undefined || state.name === o.workspace || ws.workspaceId === o.workspace) found.push({ id: ws.workspaceId, state });
  }
  return found.length === 1 ? found[0] : undefined;
}

const nameOfState = (state: WorkspaceState): NameOf => userId => state.members.get(userId)?.name;
