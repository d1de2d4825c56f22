// After unlock: the app's records. On first use it creates a personal workspace signed by this
// vault's device (its log and epoch-0 key sealed in IndexedDB); then it opens the encrypted browser
// DocSession for the chosen workspace, with the sync state and offline lease the sync engine uses.
// Every value written to IndexedDB is sealed under (a subkey of) the data key.
import { withNames } from '../identity/workspace/names.ts';
import type { DataKey } from '../crypto/keys.ts';
import { fail, ok, type Result } from '../crypto/result.ts';
import { openBrowserDocSession, type BrowserDocSession } from '../docs/openBrowserDocSession.ts';
import { LeaseClock } from '../docs/sync/LeaseClock.ts';
import { LiveWorkspace } from '../docs/sync/LiveWorkspace.ts';
import type { SyncSession } from '../docs/sync/SyncEngine.ts';
import type { SyncStateStore } from '../docs/sync/syncState.ts';
import { deviceKeysOfVault } from '../identity/vault/deviceKeys.ts';
import { idbBytesStore, type BytesStore } from '../identity/vault/idbBytes.ts';
import type { UnlockedVault } from '../identity/vault/types.ts';
import { createWorkspace } from '../identity/workspace/createWorkspace.ts';
import { replayLog } from '../identity/workspace/log.ts';
import { openBrowserSyncState } from './browserSyncState.ts';
import { listBrowserWorkspaces, saveBrowserWorkspace, workspaceStorageName, type BrowserStoredWorkspace } from './browserWorkspaceStore.ts';
import { TabSync } from './tabs/TabSync.ts';

export const WORKSPACES_DB = 'cloister-workspaces';
export const PERSONAL_WORKSPACE_NAME = 'Personal';
export const workspacesStore: BytesStore = idbBytesStore(WORKSPACES_DB);

export interface AppRecords extends BrowserDocSession {
  workspaceId: string;
  workspaceName: string;
  /** The relay this workspace syncs through (joined workspaces), if any. */
  relayUrl?: string;
  /** What the sync engine needs (src/docs/sync/SyncEngine.ts). */
  sync: SyncSession;
  /** This tab's part in the one sync engine per profile (leader or follower) and the status it shows. */
  tabs: TabSync;
}

export type AppRecordsFailure = 'workspace_unreadable' | 'storage_wrong_key' | 'storage_keycheck_corrupt' | 'storage_unavailable';

export interface WorkspaceChoice {
  workspaceId: string;
  name: string;
}


/** Every workspace stored in this browser, creating the personal one first if there is none. Under a
 * Web Lock, so two tabs (or React's double-run effects) opening at once don't each create one. */
export async function ensureWorkspaces(vault: UnlockedVault, store: BytesStore = workspacesStore): Promise<WorkspaceChoice[]> {
  const locks = (globalThis.navigator as Navigator | undefined)?.locks;
  const stored = locks ? await locks.request(`${WORKSPACES_DB}-create`, { mode: 'exclusive' }, () => findOrCreate(store, vault)) : await findOrCreate(store, vault);
  const out: WorkspaceChoice[] = [];
  for (const ws of stored) {
    const st = replayLog(ws.entries);
    if (st.ok) out.push({ workspaceId: ws.workspaceId, name: withNames(st.value, ws.epochKeys).name });
  }
  return out;
}

async function findOrCreate(store: BytesStore, vault: UnlockedVault): Promise<BrowserStoredWorkspace[]> {
  const existing = await listBrowserWorkspaces(store, vault.dataKey);
  if (existing.length > 0) return existing;
  const created = createWorkspace(deviceKeysOfVault(vault), PERSONAL_WORKSPACE_NAME, { now: Date.now() });
  const ws: BrowserStoredWorkspace = { workspaceId: created.workspaceId, entries: created.entries, epochKeys: new Map([[0, created.epochKey]]), meta: {} };
  await saveBrowserWorkspace(store, vault.dataKey, ws);
  return [ws];
}

/** Database name prefix for a workspace's documents: a keyed hash, never the workspace id. */
export function docsDbPrefix(dataKey: DataKey, workspaceId: string): string {
  return `cloister-docs-${workspaceStorageName(dataKey, workspaceId)}`;
}

export async function openAppRecords(vault: UnlockedVault, workspaceId: string, opts: { flushWindowMs?: number } = {}): Promise<Result<AppRecords, AppRecordsFailure>> {
  const store = workspacesStore;
  const ws = (await listBrowserWorkspaces(store, vault.dataKey)).find((w) => w.workspaceId === workspaceId);
  if (!ws) return fail('workspace_unreadable', 'not stored in this browser');
  const state = replayLog(ws.entries);
  if (!state.ok) return fail('workspace_unreadable', state.reason);
  const live = new LiveWorkspace(withNames(state.value, ws.epochKeys), ws.epochKeys);
  const prefix = docsDbPrefix(vault.dataKey, ws.workspaceId);
  const syncState = await openBrowserSyncState(prefix, vault.dataKey);
  if (!syncState.ok) return syncState;
  const lease = await LeaseClock.load(syncState.value);
  const opened = await openBrowserDocSession({
    name: prefix,
    dataKey: vault.dataKey,
    authority: live,
    // A linked browser belongs to the user that added it (docs/DEVICES.md), not the id its vault was made with.
    device: { deviceId: vault.device.deviceId, userId: state.value.devices.get(vault.device.deviceId)?.userId ?? vault.userId, signingKey: vault.device.signingKey, signingPub: vault.device.signingPub },
    currentEpoch: () => live.epoch,
    logPosition: () => live.logPosition(),
    leaseId: () => lease.leaseId(),
    editGate: () => lease.assertCanEdit(),
    ...(opts.flushWindowMs !== undefined ? { flushWindowMs: opts.flushWindowMs } : {}),
  });
  if (!opened.ok) return opened;
  const docs = opened.value;
  const sync: SyncSession = {
    docs: docs.session,
    live,
    syncState: syncState.value as SyncStateStore,
    lease,
    device: deviceKeysOfVault(vault),
    workspaceStore: {
      async load() {
        return (await listBrowserWorkspaces(store, vault.dataKey)).find((w) => w.workspaceId === workspaceId);
      },
      async save(next) {
        await saveBrowserWorkspace(store, vault.dataKey, next);
      },
    },
  };
  const tabs = new TabSync({ storageName: prefix, session: docs.session, repo: docs.repo, sync, ...(ws.meta.relay ? { relayUrl: ws.meta.relay } : {}) });
  return ok({
    ...docs,
    async close() {
      await tabs.close();
      await lease.persist(syncState.value).catch(() => undefined);
      await docs.close();
    },
    workspaceId: ws.workspaceId,
    workspaceName: state.value.name,
    ...(ws.meta.relay ? { relayUrl: ws.meta.relay } : {}),
    sync,
    tabs,
  });
}
