// The agent's open profile: one workspace's record session, kept in memory between commands, and
// kept true to the disk. Other processes (a command run with --no-agent, `cloister sync`) write the
// same profile, so before each answer the agent stamps the storage folders and merges every document
// chunk that appeared since its last look into the document in memory. Automerge merges are
// idempotent, so the agent need not tell its own writes from others'. A changed workspace file
// reloads the membership, a changed sync state the lease; what can't be reloaded reopens the session.
import * as A from '@automerge/automerge';
import type { DocumentId } from '@automerge/automerge-repo';
import { join } from 'node:path';
import { INFO } from '../../crypto/domains.ts';
import { deriveSubkey } from '../../crypto/hkdf.ts';
import type { StorageNameKey } from '../../crypto/keys.ts';
import type { Result } from '../../crypto/result.ts';
import { docsDirOf, openRecordSession, type OpenSessionFailure, type RecordSession } from '../../docs/openSession.ts';
import { openNodeStorage } from '../../docs/storage/openNodeStorage.ts';
import { hashStorageKey } from '../../docs/storage/storageNames.ts';
import type { EncryptedStorageAdapter } from '../../docs/storage/EncryptedStorageAdapter.ts';
import type { UnlockedVault } from '../../identity/vault/types.ts';
import { replayLog } from '../../identity/workspace/log.ts';
import { withNames } from '../../identity/workspace/names.ts';
import { loadWorkspace } from '../../identity/workspace/store.ts';
import { LeaseClock } from '../../docs/sync/LeaseClock.ts';
import { addedPaths, sameStats, stampOf, statsOf, type DiskStamp } from './diskStamp.ts';

interface Stamps {
  repo: DiskStamp;
  /** The workspace files: a change reloads the membership (names, keys, roles). */
  workspaces: Map<string, string>;
  /** This workspace's sync state: every command's close writes it; a change reloads the lease. */
  sync: Map<string, string>;
}

export class ProfileView {
  #s: RecordSession;
  #known: Stamps;
  /** docId → its folder under repo/ ("xx/rest"), computed once per document. */
  readonly #folderOf = new Map<string, string>();
  readonly #nameKey: StorageNameKey;
  #reader: EncryptedStorageAdapter | undefined;
  #generation = 0;

  private constructor(
    private readonly home: string,
    private readonly vault: UnlockedVault,
    private readonly workspace: string | undefined,
    s: RecordSession,
    known: Stamps,
  ) {
    this.#s = s;
    this.#known = known;
    this.#nameKey = deriveSubkey<StorageNameKey>(vault.dataKey, INFO.storageNames);
  }

  /** Open the session and load every record once, so the first command is as fast as the next. */
  static async open(home: string, vault: UnlockedVault, workspace?: string): Promise<Result<ProfileView, OpenSessionFailure>> {
    const opened = await openStamped(home, vault, workspace);
    if (!opened.ok) return opened;
    const view = new ProfileView(home, vault, workspace, opened.value.s, opened.value.known);
    await view.#s.records.list({ includeDeleted: true });
    return { ok: true, value: view };
  }

  /** The session as it stands on disk now (merging what other processes wrote since the last call). */
  async fresh(): Promise<RecordSession> {
    const now = stampsOf(this.home, this.vault, this.#s.workspace.id);
    if (!sameStats(now.workspaces, this.#known.workspaces)) {
      this.#generation++;
      if (!this.#reloadWorkspace()) {
        await this.#reopen();
        return this.#s;
      }
    }
    if (!sameStats(now.sync, this.#known.sync)) await this.#reloadLease();
    const changed = addedPaths(this.#known.repo, now.repo);
    if (changed.length === 0) {
      this.#known = now;
      return this.#s;
    }
    this.#generation++;
    const unreadable = await this.#merge(changed);
    if (unreadable === 'reopen') {
      await this.#reopen();
      return this.#s;
    }
    // A chunk caught half-written (NodeFS writes in place) is looked at again next time.
    for (const p of unreadable) now.repo.delete(p);
    this.#known = now;
    return this.#s;
  }

  /** Changes whenever what the session shows may have changed (a merge, a reload, an edit through the agent): answers computed under one generation can be reused within it. */
  get generation(): number {
    return this.#generation;
  }

  get session(): RecordSession {
    return this.#s;
  }

  /** Flush every edit to disk and close. */
  async close(): Promise<void> {
    await this.#s.close();
  }

  /** Write the Repo's in-memory state of these documents to disk now (after an edit through the agent). */
  async persist(docIds: string[]): Promise<void> {
    this.#generation++;
    await this.#s.session.repo.flush(docIds.filter(id => id in this.#s.session.repo.handles) as DocumentId[]);
  }

  /** The membership as the workspace file has it now (another process synced or changed it); false when it no longer loads. */
  #reloadWorkspace(): boolean {
    const s = this.#s;
    const stored = loadWorkspace(this.home, this.vault.dataKey, s.workspace.id);
    if (!stored.ok) return false;
    const replayed = replayLog(stored.value.entries);
    if (!replayed.ok) return false;
    const state = withNames(replayed.value, stored.value.epochKeys);
    s.live.update(state, stored.value.epochKeys);
    s.workspace = { id: s.workspace.id, name: state.name, state, epochKeys: stored.value.epochKeys, meta: stored.value.meta };
    return true;
  }

  /** A lease another process received (cloister sync), and the latest time it saw. */
  async #reloadLease(): Promise<void> {
    const stored = await LeaseClock.load(this.#s.syncState);
    if (stored.lease && stored.leaseBytes) this.#s.lease.accept(stored.lease, stored.leaseBytes);
    this.#s.lease.observe(stored.lastSeen);
  }

  async #reopen(): Promise<void> {
    this.#generation++;
    await this.#s.close();
    const opened = await openStamped(this.home, this.vault, this.workspace, this.#s.workspace.id);
    if (!opened.ok) throw new Error(`the workspace could not be reopened: ${opened.reason}${opened.detail ? ` (${opened.detail})` : ''}`);
    this.#s = opened.value.s;
    this.#known = opened.value.known;
    this.#folderOf.clear();
  }

  /** Merge the changed chunk files of every loaded document; the paths that did not open, or 'reopen'. */
  async #merge(changed: string[]): Promise<string[] | 'reopen'> {
    const byFolder = new Map<string, Set<string>>();
    for (const p of changed) {
      const parts = p.split('/');
      if (parts.length < 4) continue; // the key check, not a document chunk
      const folder = `${parts[0]}/${parts[1]}`;
      let set = byFolder.get(folder);
      if (!set) byFolder.set(folder, (set = new Set()));
      set.add(p);
    }
    const repo = this.#s.session.repo;
    const unreadable: string[] = [];
    for (const docId of Object.keys(repo.handles)) {
      const folder = this.#folder(docId);
      const paths = byFolder.get(folder);
      if (!paths) continue; // unchanged, or not loaded here (it loads from disk when asked for)
      const handle = repo.handles[docId as DocumentId]!;
      if (!handle.isReady()) return 'reopen'; // e.g. listed before it arrived: let a fresh Repo find it
      const reader = await this.#storage();
      if (!reader) return 'reopen';
      const all = await reader.loadRange([docId]);
      const opened = new Set(all.map(c => pathOf(hashStorageKey(this.#nameKey, c.key))));
      const chunks = all.filter(c => c.key[1] !== 'sync-state' && paths.has(pathOf(hashStorageKey(this.#nameKey, c.key))));
      // Listed but not opened: half-written by another process (or removed by its compaction meanwhile).
      const bad = [...paths].filter(p => !opened.has(p));
      if (chunks.length) {
        try {
          handle.update(doc => chunks.reduce((d, c) => A.loadIncremental(d, c.data!), doc));
        } catch {
          return 'reopen';
        }
      }
      unreadable.push(...bad);
    }
    return unreadable;
  }

  #folder(docId: string): string {
    let f = this.#folderOf.get(docId);
    if (f === undefined) {
      const name = hashStorageKey(this.#nameKey, [docId])[0]!;
      f = `${name.slice(0, 2)}/${name.slice(2)}`;
      this.#folderOf.set(docId, f);
    }
    return f;
  }

  async #storage(): Promise<EncryptedStorageAdapter | undefined> {
    if (!this.#reader) {
      const r = await openNodeStorage(join(docsDirOf(this.home, this.vault, this.#s.workspace.id), 'repo'), this.vault.dataKey);
      if (!r.ok) return undefined;
      this.#reader = r.value;
    }
    return this.#reader;
  }
}

const pathOf = (name: string[]) => `${name[0]!.slice(0, 2)}/${name[0]!.slice(2)}/${name.slice(1).join('/')}`;

function stampsOf(home: string, vault: UnlockedVault, workspaceId: string): Stamps {
  const dir = docsDirOf(home, vault, workspaceId);
  return { workspaces: statsOf(join(home, 'workspaces')), sync: statsOf(join(dir, 'sync')), repo: stampOf(join(dir, 'repo')) };
}

/**
 * Stamps first, then the session: whatever is written meanwhile shows in the next comparison. The
 * workspace's folder is known only once it is chosen, so the first open chooses it with a session
 * that loads no record, and closes it.
 */
async function openStamped(home: string, vault: UnlockedVault, workspace: string | undefined, workspaceId?: string): Promise<Result<{ s: RecordSession; known: Stamps }, OpenSessionFailure>> {
  const choose = (w: string | undefined) => openRecordSession({ home, vault, ...(w !== undefined ? { workspace: w } : {}) });
  let id = workspaceId;
  if (id === undefined) {
    const probe = await choose(workspace);
    if (!probe.ok) return probe;
    id = probe.value.workspace.id;
    await probe.value.close();
  }
  const known = stampsOf(home, vault, id);
  const s = await choose(id);
  if (!s.ok) return s;
  return { ok: true, value: { s: s.value, known } };
}
