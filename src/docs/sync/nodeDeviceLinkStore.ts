// The CLI profile behind device linking (DeviceLinkStore, deviceLinkStore.ts): workspaces in the
// profile's sealed file store, the sync state beside each workspace's documents, and a sync through
// the record session, as `cloister sync` does.
import type { UnlockedVault } from '../../identity/vault/types.ts';
import { listWorkspaces, saveWorkspace } from '../../identity/workspace/store.ts';
import { docsDirOf, openRecordSession } from '../openSession.ts';
import type { DeviceLinkStore } from './deviceLinkStore.ts';
import { syncSessionOf } from './nodeSyncSession.ts';
import { openNodeSyncState } from './openNodeSyncState.ts';
import { SyncEngine } from './SyncEngine.ts';

export function nodeDeviceLinkStore(home: string, vault: UnlockedVault): DeviceLinkStore {
  return {
    async list() {
      return listWorkspaces(home, vault.dataKey);
    },
    async save(ws) {
      saveWorkspace(home, vault.dataKey, ws);
    },
    async update(workspaceId, change) {
      const latest = listWorkspaces(home, vault.dataKey).find((w) => w.workspaceId === workspaceId);
      if (!latest) return false;
      saveWorkspace(home, vault.dataKey, change(latest));
      return true;
    },
    async pinnedRelayPub(workspaceId) {
      const s = await openRecordSession({ home, vault, workspace: workspaceId });
      if (!s.ok) return undefined;
      try {
        return (await s.value.syncState.load()).relayPub;
      } finally {
        await s.value.close().catch(() => undefined);
      }
    },
    async refresh(workspaceId, relayUrl) {
      const s = await openRecordSession({ home, vault, workspace: workspaceId });
      if (!s.ok) return;
      const engine = new SyncEngine(syncSessionOf(s.value, vault, home), { relayUrl });
      try {
        await engine.syncOnce();
      } finally {
        await engine.stop().catch(() => undefined);
        await s.value.close().catch(() => undefined);
      }
    },
    async afterLink(workspaceId, relay) {
      const ss = await openNodeSyncState(docsDirOf(home, vault, workspaceId), vault.dataKey);
      if (!ss.ok) return { ok: false, detail: ss.detail ?? ss.reason };
      await ss.value.update((x) => {
        x.relayPub ??= relay.relayPub;
        x.lastSeen = Math.max(x.lastSeen, relay.seenAt);
      });
      return { ok: true };
    },
  };
}
