// Node glue: a SyncSession from an open record session (src/docs/openSession.ts) and the unlocked
// vault, with the workspace's log and keys persisted in the profile's workspace store.
import type { UnlockedVault } from '../../identity/vault/types.ts';
import { deviceKeysOfVault } from '../../identity/vault/deviceKeys.ts';
import { loadWorkspace, saveWorkspace } from '../../identity/workspace/store.ts';
import type { RecordSession } from '../openSession.ts';
import type { SyncSession, WorkspaceStorePort } from './SyncEngine.ts';

export { deviceKeysOfVault };

export function nodeWorkspaceStore(home: string, vault: UnlockedVault, workspaceId: string): WorkspaceStorePort {
  return {
    async load() {
      const r = loadWorkspace(home, vault.dataKey, workspaceId);
      return r.ok ? r.value : undefined;
    },
    async save(ws) {
      saveWorkspace(home, vault.dataKey, ws);
    },
  };
}

export function syncSessionOf(session: RecordSession, vault: UnlockedVault, home: string): SyncSession {
  return {
    docs: session.session,
    live: session.live,
    syncState: session.syncState,
    lease: session.lease,
    device: deviceKeysOfVault(vault),
    workspaceStore: nodeWorkspaceStore(home, vault, session.workspace.id),
  };
}
