// After unlock: the app's records. On first use it creates a personal workspace signed by this
// vault's device (its log and epoch-0 key sealed in IndexedDB), then opens the encrypted browser
// DocSession for it. Every value written to IndexedDB is sealed under (a subkey of) the data key.
import type { DataKey } from '../crypto/keys.ts';
import { fail, ok, type Result } from '../crypto/result.ts';
import { openBrowserDocSession, type BrowserDocSession } from '../docs/openBrowserDocSession.ts';
import { LiveWorkspace } from '../docs/sync/LiveWorkspace.ts';
import { idbBytesStore, type BytesStore } from '../identity/vault/idbBytes.ts';
import type { UnlockedVault } from '../identity/vault/types.ts';
import { createWorkspace } from '../identity/workspace/createWorkspace.ts';
import { replayLog } from '../identity/workspace/log.ts';
import type { DeviceKeys } from '../identity/workspace/signEntry.ts';
import { listBrowserWorkspaces, saveBrowserWorkspace, workspaceStorageName, type BrowserStoredWorkspace } from './browserWorkspaceStore.ts';

export const WORKSPACES_DB = 'cloister-workspaces';
export const PERSONAL_WORKSPACE_NAME = 'Personal';

export interface AppRecords extends BrowserDocSession {
  workspaceName: string;
}

export type AppRecordsFailure = 'workspace_unreadable' | 'storage_wrong_key' | 'storage_keycheck_corrupt' | 'storage_unavailable';

function deviceKeysOf(vault: UnlockedVault): DeviceKeys {
  return {
    userId: vault.userId,
    deviceId: vault.device.deviceId,
    signingKey: vault.device.signingKey,
    signingPub: vault.device.signingPub,
    boxKey: vault.device.boxKey,
    boxPub: vault.device.boxPub,
    userSigningPub: vault.user.signingPub,
  };
}

/** The workspace the app shows: the first one stored, or a new personal one. Under a Web Lock, so
 * two tabs (or React's double-run effects) opening at once don't each create one. */
async function ensureWorkspace(store: BytesStore, vault: UnlockedVault): Promise<BrowserStoredWorkspace> {
  const locks = (globalThis.navigator as Navigator | undefined)?.locks;
  return locks ? locks.request(`${WORKSPACES_DB}-create`, { mode: 'exclusive' }, () => findOrCreate(store, vault)) : findOrCreate(store, vault);
}

async function findOrCreate(store: BytesStore, vault: UnlockedVault): Promise<BrowserStoredWorkspace> {
  const existing = await listBrowserWorkspaces(store, vault.dataKey);
  if (existing.length > 0) return existing[0]!;
  const created = createWorkspace(deviceKeysOf(vault), PERSONAL_WORKSPACE_NAME, { now: Date.now() });
  const ws: BrowserStoredWorkspace = { workspaceId: created.workspaceId, entries: created.entries, epochKeys: new Map([[0, created.epochKey]]), meta: {} };
  await saveBrowserWorkspace(store, vault.dataKey, ws);
  return ws;
}

/** Database name prefix for a workspace's documents: a keyed hash, never the workspace id. */
export function docsDbPrefix(dataKey: DataKey, workspaceId: string): string {
  return `cloister-docs-${workspaceStorageName(dataKey, workspaceId)}`;
}

export async function openAppRecords(vault: UnlockedVault, opts: { flushWindowMs?: number } = {}): Promise<Result<AppRecords, AppRecordsFailure>> {
  const store = idbBytesStore(WORKSPACES_DB);
  const ws = await ensureWorkspace(store, vault);
  const state = replayLog(ws.entries);
  if (!state.ok) return fail('workspace_unreadable', state.reason);
  const live = new LiveWorkspace(state.value, ws.epochKeys);
  const opened = await openBrowserDocSession({
    name: docsDbPrefix(vault.dataKey, ws.workspaceId),
    dataKey: vault.dataKey,
    authority: live,
    device: { deviceId: vault.device.deviceId, userId: vault.userId, signingKey: vault.device.signingKey, signingPub: vault.device.signingPub },
    currentEpoch: () => live.epoch,
    ...(opts.flushWindowMs !== undefined ? { flushWindowMs: opts.flushWindowMs } : {}),
  });
  if (!opened.ok) return opened;
  return ok({ ...opened.value, workspaceName: state.value.name });
}
