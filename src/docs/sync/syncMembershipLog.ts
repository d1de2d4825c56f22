// The membership-log half of a sync pass: fetch the relay's log, merge it with ours (every entry
// re-validated by the identity library), send the relay what it lacks, re-key when an active device
// has no lockbox for the current epoch, and adopt the result (live state and the workspace store).
import type { EpochKey } from '../../crypto/keys.ts';
import { appendEntry, logEntries } from '../../identity/workspace/log.ts';
import { keyShareEntry } from '../../identity/workspace/keyShare.ts';
import type { WorkspaceState } from '../../identity/workspace/state.ts';
import type { StoredWorkspace } from '../../identity/workspace/store.ts';
import { collectEpochKeys, mergeLogs } from './mergeMembership.ts';
import { RelayRequestError, type RelayClient } from './relayClient.ts';
import { bump, SyncError, type SyncSession, type SyncSummary } from './syncTypes.ts';

export interface LogSyncContext {
  session: SyncSession;
  workspaceId: string;
  relayUrl: string;
  now(): number;
  log(level: 'info' | 'warn' | 'error', msg: string, detail?: Record<string, unknown>): void;
  /** Called when the merged log added entries or keys. */
  membershipChanged(state: WorkspaceState): void;
}

/** Sync the membership log both ways through `client`, counting into `s`. */
export async function syncMembershipLog(ctx: LogSyncContext, client: RelayClient, s: SyncSummary): Promise<void> {
  let remote: Uint8Array[] = [];
  try {
    remote = await client.getLog(ctx.workspaceId);
  } catch (e) {
    if (!(e instanceof RelayRequestError) || e.code !== 'unknown_workspace') throw e;
  }
  await mergeAndSend(ctx, client, remote, s);
}

async function mergeAndSend(ctx: LogSyncContext, client: RelayClient, remote: Uint8Array[], s: SyncSummary): Promise<void> {
  const stored = await ctx.session.workspaceStore.load();
  const local = [...(stored?.entries ?? []), ...logEntries(ctx.session.live.state)];
  const merged = mergeLogs(ctx.workspaceId, local, remote);
  if (!merged.ok) throw new SyncError('log_invalid', `the membership log does not replay (${merged.reason})`);
  s.logReceived += merged.value.received;
  for (const entry of merged.value.toSend) {
    try {
      await client.appendLog(ctx.workspaceId, entry);
      s.logSent++;
    } catch (e) {
      if (!(e instanceof RelayRequestError) || (e.code !== 'log_rejected' && e.code !== 'log_conflict')) throw e;
      bump(s.logRejected, e.message.replace(/^[a-z_]+: /, ''));
      ctx.log('warn', 'relay refused a log entry', { reason: e.message });
    }
  }
  let state = merged.value.state;
  let keys = collectEpochKeys(state, ctx.session.device.deviceId, ctx.session.device.boxKey, new Map([...(stored?.epochKeys ?? []), ...ctx.session.live.epochKeys]));
  // Key sharing: an admin device re-keys when an active device lacks the current key (DESIGN → Epoch keys).
  const share = keyShareEntry(state, ctx.session.device, keys, ctx.now());
  if (share) {
    try {
      await client.appendLog(ctx.workspaceId, share.entry.bytes);
      const next = appendEntry(state, share.entry.bytes, ctx.now());
      if (next.ok) {
        state = next.value;
        keys = new Map(keys).set(share.epoch, share.epochKey);
        s.keysShared++;
        s.logSent++;
        ctx.log('info', 'rotated the workspace key so every active device holds it', { epoch: share.epoch });
      }
    } catch (e) {
      if (!(e instanceof RelayRequestError)) throw e;
      ctx.log('warn', 'key share refused', { reason: e.message }); // a concurrent entry won; the next pass retries
    }
  }
  await adopt(ctx, state, keys, stored);
}

async function adopt(ctx: LogSyncContext, state: WorkspaceState, keys: Map<number, EpochKey>, stored: StoredWorkspace | undefined): Promise<void> {
  const changed = state.known.size !== ctx.session.live.state.known.size || keys.size !== ctx.session.live.epochKeys.size;
  ctx.session.live.update(state, keys);
  // Re-read right before saving: a CLI command may have appended (e.g. an invite) meanwhile.
  const latest = (await ctx.session.workspaceStore.load()) ?? stored;
  const entries = latest ? mergeLogs(ctx.workspaceId, [...logEntries(state), ...latest.entries], []) : undefined;
  const finalState = entries?.ok ? entries.value.state : state;
  if (finalState !== state) ctx.session.live.update(finalState, keys);
  await ctx.session.workspaceStore.save({
    workspaceId: ctx.workspaceId,
    entries: logEntries(finalState),
    epochKeys: new Map([...(latest?.epochKeys ?? []), ...keys]),
    meta: { ...(latest?.meta ?? {}), relay: ctx.relayUrl },
  });
  if (changed) ctx.membershipChanged(finalState);
}
