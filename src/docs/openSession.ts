// Open a profile's records for one workspace: vault (already unlocked) + the workspace store's log
// and epoch keys + encrypted local storage → RecordStore. Used by the record/history commands; the
// sync command can use the same session (outbox, applyRemote). Node only.
import { withNames } from '../identity/workspace/names.ts';
import { describeRejection } from '../identity/workspace/rejections.ts';
import { join } from 'node:path';
import type { EpochKey } from '../crypto/keys.ts';
import { fail, ok, type Result } from '../crypto/result.ts';
import type { UnlockedVault } from '../identity/vault/types.ts';
import { replayLog } from '../identity/workspace/log.ts';
import type { WorkspaceState } from '../identity/workspace/state.ts';
import { listWorkspaces, workspaceFileName } from '../identity/workspace/store.ts';
import { openNodeDocSession, type NodeDocSession } from './openNodeDocSession.ts';
import { LeaseClock } from './sync/LeaseClock.ts';
import { LiveWorkspace } from './sync/LiveWorkspace.ts';
import { openNodeSyncState } from './sync/openNodeSyncState.ts';
import type { SyncStateStore } from './sync/syncState.ts';

export type OpenSessionFailure =
  | 'no_workspace' // the profile has no workspace yet
  | 'workspace_ambiguous' // several workspaces and none named
  | 'workspace_not_found' // no workspace has that name or id
  | 'workspace_unreadable' // the stored log does not replay
  | 'storage_wrong_key' // local storage was sealed under another data key
  | 'storage_keycheck_corrupt'
  | 'storage_unavailable';

export interface RecordSession extends NodeDocSession {
  workspace: { id: string; name: string; state: WorkspaceState; epochKeys: ReadonlyMap<number, EpochKey>; meta: Record<string, string> };
  /** The membership state and keys the session judges with; the sync engine swaps in newer ones. */
  live: LiveWorkspace;
  /** Relay cursor, pinned relay key, lease (src/docs/sync/syncState.ts). */
  syncState: SyncStateStore;
  /** Offline lease: the lease id new envelopes carry, and the edit lock after notAfter. */
  lease: LeaseClock;
}

export interface OpenSessionOptions {
  home: string;
  vault: UnlockedVault;
  /** Workspace name or id; may be omitted when the profile holds exactly one. */
  workspace?: string;
  flushWindowMs?: number;
  /** The local clock (default Date.now): claimed times, the session's timestamps, the lease clock. The simulator skews it. */
  now?: () => number;
}

/** The directory holding one workspace's local documents: named by a keyed hash, never the id. */
export const docsDirOf = (home: string, vault: UnlockedVault, workspaceId: string): string =>
  join(home, 'docs', workspaceFileName(vault.dataKey, workspaceId).replace(/\.ws$/, ''));

export const profileLockPath = (home: string): string => join(home, 'docs', 'profile.lock');

export async function openRecordSession(o: OpenSessionOptions): Promise<Result<RecordSession, OpenSessionFailure>> {
  const stored = listWorkspaces(o.home, o.vault.dataKey);
  if (stored.length === 0) return fail('no_workspace');
  const replayed: { ws: (typeof stored)[number]; state: WorkspaceState }[] = [];
  let formatV1 = false;
  for (const ws of stored) {
    const st = replayLog(ws.entries);
    if (st.ok) replayed.push({ ws, state: withNames(st.value, ws.epochKeys) });
    else if (st.reason === 'log_format_v1') formatV1 = true;
  }
  if (replayed.length === 0 && formatV1) return fail('workspace_unreadable', describeRejection('log_format_v1'));
  let chosen: (typeof replayed)[number] | undefined;
  if (o.workspace !== undefined) {
    const matches = replayed.filter(r => r.state.name === o.workspace || r.ws.workspaceId === o.workspace);
    if (matches.length > 1) return fail('workspace_ambiguous', `several workspaces are named ${o.workspace}; use the id`);
    chosen = matches[0];
    if (!chosen) return fail(replayed.length < stored.length ? 'workspace_unreadable' : 'workspace_not_found', o.workspace);
  } else {
    if (stored.length > 1) return fail('workspace_ambiguous', replayed.map(r => r.state.name).join(', '));
    chosen = replayed[0];
    if (!chosen) return fail('workspace_unreadable');
  }
  const { ws, state } = chosen;
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
    // A linked device belongs to the user that added it (docs/DEVICES.md), not the id its vault was made with.
    device: { deviceId: o.vault.device.deviceId, userId: state.devices.get(o.vault.device.deviceId)?.userId ?? o.vault.userId, signingKey: o.vault.device.signingKey, signingPub: o.vault.device.signingPub },
    currentEpoch: () => live.epoch,
    logPosition: () => live.logPosition(),
    leaseId: () => lease.leaseId(),
    editGate: () => lease.assertCanEdit(),
    ...(o.flushWindowMs !== undefined ? { flushWindowMs: o.flushWindowMs } : {}),
    ...(o.now ? { now: o.now } : {}),
  });
  if (!s.ok) return s;
  const closeDocs = s.value.close;
  return ok({
    ...s.value,
    // The latest time seen outlives the process: a clock turned back after a restart does not unlock editing.
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

export function describeOpenSessionFailure(f: { reason: OpenSessionFailure; detail?: string }): string {
  switch (f.reason) {
    case 'no_workspace':
      return 'this profile has no workspace yet (run `cloister workspace create NAME` or `workspace join`)';
    case 'workspace_ambiguous':
      return `this profile has several workspaces; pick one with --workspace NAME${f.detail ? ` (${f.detail})` : ''}`;
    case 'workspace_not_found':
      return `no workspace named ${f.detail ?? ''}`;
    case 'workspace_unreadable':
      return f.detail ?? 'the workspace membership log stored in this profile does not replay';
    case 'storage_wrong_key':
      return 'local record storage was written with a different key (another vault?)';
    case 'storage_keycheck_corrupt':
      return 'local record storage is damaged (key check)';
    case 'storage_unavailable':
      return `local record storage cannot be read${f.detail ? `: ${f.detail}` : ''}`;
  }
}
