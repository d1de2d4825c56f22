// The browser's copy of each workspace (log entries, opened epoch keys, small metadata), one value per
// workspace in a BytesStore (IndexedDB), in the same sealed form as the Node file store
// (src/identity/workspace/storeCodec.ts): stored under a keyed hash of the workspace id (no id in
// IndexedDB), with that name bound as associated data.
import type { DataKey } from '../crypto/keys.ts';
import type { BytesStore } from '../identity/vault/idbBytes.ts';
import { openStoredWorkspace, sealStoredWorkspace, workspaceStorageName, type StoredWorkspace } from '../identity/workspace/storeCodec.ts';

export type BrowserStoredWorkspace = StoredWorkspace;
export { workspaceStorageName };

export async function saveBrowserWorkspace(store: BytesStore, dataKey: DataKey, ws: StoredWorkspace): Promise<void> {
  const name = workspaceStorageName(dataKey, ws.workspaceId);
  await store.put(name, sealStoredWorkspace(dataKey, name, ws));
}

/** Every workspace this vault can open in `store`; values it can't open, or kept under another's name, are skipped. */
export async function listBrowserWorkspaces(store: BytesStore, dataKey: DataKey): Promise<StoredWorkspace[]> {
  const out: StoredWorkspace[] = [];
  for (const name of (await store.keys()).sort()) {
    const bytes = await store.get(name);
    if (!bytes) continue;
    const r = openStoredWorkspace(dataKey, name, bytes);
    if (r.ok && workspaceStorageName(dataKey, r.value.workspaceId) === name) out.push(r.value);
  }
  return out;
}

/** Read-modify-write of one stored workspace, one writer at a time across this origin's tabs (Web Locks). */
export async function withWorkspaceWriteLock<T>(workspaceId: string, fn: () => Promise<T>): Promise<T> {
  const locks = (globalThis.navigator as Navigator | undefined)?.locks;
  return locks ? locks.request(`cloister-workspace-write-${workspaceId}`, { mode: 'exclusive' }, fn) : fn();
}
