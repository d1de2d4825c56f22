// openRecordSession (src/docs/openSession.ts) for a profile holding one workspace, with the local
// clock injected: envelope claimed times, the session's own timestamps and the offline-lease clock read
// `now`. The clock-skew fault uses it. (A `now` option in OpenSessionOptions would make this redundant.)
import { fail, ok, type Result } from '../../crypto/result.ts';
import type { UnlockedVault } from '../../identity/vault/types.ts';
import { replayLog } from '../../identity/workspace/log.ts';
import { listWorkspaces } from '../../identity/workspace/store.ts';
import { docsDirOf, profileLockPath, type OpenSessionFailure, type RecordSession } from '../../docs/openSession.ts';
import { openNodeDocSession } from '../../docs/openNodeDocSession.ts';
import { LeaseClock } from '../../docs/sync/LeaseClock.ts';
import { LiveWorkspace } from '../../docs/sync/LiveWorkspace.ts';
import { openNodeSyncState } from '../../docs/sync/openNodeSyncState.ts';

export async function openSkewedSession(o: { home: string; vault: UnlockedVault; now: () => number }): Promise<Result<RecordSession, OpenSessionFailure>> {
  const stored = listWorkspaces(o.home, o.vault.dataKey);
  if (stored.length !== 1) return fail(stored.length === 0 ? 'no_workspace' : 'workspace_ambiguous');
  const ws = stored[0]!;
  const st = replayLog(ws.entries);
  if (!st.ok) return fail('workspace_unreadable');
  const state = st.value;
  const live = new LiveWorkspace(state, ws.epochKeys);
  const dir = docsDirOf(o.home, o.vault, ws.workspaceId);
  const syncState = await openNodeSyncState(dir, o.vault.dataKey);
  if (!syncState.ok) return syncState;
  const lease = await LeaseClock.load(syncState.value, o.now);
  const s = await openNodeDocSession({
    dir,
    lockPath: profileLockPath(o.home),
    dataKey: o.vault.dataKey,
    authority: live,
    device: { deviceId: o.vault.device.deviceId, userId: o.vault.userId, signingKey: o.vault.device.signingKey, signingPub: o.vault.device.signingPub },
    currentEpoch: () => live.epoch,
    leaseId: () => lease.leaseId(),
    editGate: () => lease.assertCanEdit(),
    flushWindowMs: 0,
    now: o.now,
  });
  if (!s.ok) return s;
  const closeDocs = s.value.close;
  return ok({
    ...s.value,
    async close() {
      await lease.persist(syncState.value).catch(() => undefined);
      await closeDocs();
    },
    workspace: { id: ws.workspaceId, name: state.name, state, epochKeys: ws.epochKeys, meta: ws.meta },
    live,
    syncState: syncState.value,
    lease,
  });
}
