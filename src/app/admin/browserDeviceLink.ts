// Device linking in the browser (docs/DEVICES.md): the same exchange as `cloister device link` and
// `cloister device approve` (src/docs/sync/linkThisDevice.ts, approveDeviceLink.ts), kept in this
// browser's encrypted IndexedDB: the workspace store of openAppRecords.ts and each workspace's sync
// state, stored as a join stores them (joinInBrowser.ts). A linked browser writes as the user that
// approved it, not its vault's own user id (openSession.ts does the same for the CLI).
import type { BytesStore } from '../../identity/vault/idbBytes.ts';
import type { UnlockedVault } from '../../identity/vault/types.ts';
import type { DeviceLinkStore } from '../../docs/sync/deviceLinkStore.ts';
import { SyncEngine } from '../../docs/sync/SyncEngine.ts';
import { openBrowserSyncState } from '../browserSyncState.ts';
import { listBrowserWorkspaces, saveBrowserWorkspace, withWorkspaceWriteLock } from '../browserWorkspaceStore.ts';
import { docsDbPrefix, openAppRecords, workspacesStore } from '../openAppRecords.ts';

const exclusive = withWorkspaceWriteLock;

export function browserDeviceLinkStore(vault: UnlockedVault, store: BytesStore = workspacesStore): DeviceLinkStore {
  const find = async (workspaceId: string) => (await listBrowserWorkspaces(store, vault.dataKey)).find((w) => w.workspaceId === workspaceId);
  return {
    list: () => listBrowserWorkspaces(store, vault.dataKey),
    save: (ws) => exclusive(ws.workspaceId, () => saveBrowserWorkspace(store, vault.dataKey, ws)),
    update: (workspaceId, change) =>
      exclusive(workspaceId, async () => {
        const latest = await find(workspaceId);
        if (!latest) return false;
        await saveBrowserWorkspace(store, vault.dataKey, change(latest));
        return true;
      }),
    async pinnedRelayPub(workspaceId) {
      const ss = await openBrowserSyncState(docsDbPrefix(vault.dataKey, workspaceId), vault.dataKey);
      return ss.ok ? (await ss.value.load()).relayPub : undefined;
    },
    // One pass of the sync engine over the app's copy, as `cloister device approve` does before offering
    // (openAppRecords reads the app's own store, so another store, a test's, is not refreshed).
    ...(store === workspacesStore ? { refresh: (workspaceId: string, relayUrl: string) => syncOnce(vault, workspaceId, relayUrl) } : {}),
    async afterLink(workspaceId, relay) {
      const ss = await openBrowserSyncState(docsDbPrefix(vault.dataKey, workspaceId), vault.dataKey);
      if (!ss.ok) return { ok: false, detail: ss.detail ?? ss.reason };
      await ss.value.update((x) => {
        x.relayPub ??= relay.relayPub;
        x.lastSeen = Math.max(x.lastSeen, relay.seenAt);
      });
      return { ok: true };
    },
  };
}

async function syncOnce(vault: UnlockedVault, workspaceId: string, relayUrl: string): Promise<void> {
  const r = await openAppRecords(vault, workspaceId);
  if (!r.ok) return;
  const engine = new SyncEngine(r.value.sync, { relayUrl });
  try {
    await engine.syncOnce();
  } finally {
    await engine.stop().catch(() => undefined);
    await r.value.close().catch(() => undefined);
  }
}
