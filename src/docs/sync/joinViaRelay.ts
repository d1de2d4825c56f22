// Join a workspace through its relay with what `workspace invite` printed ("<workspaceId>.<code>"):
// fetch the log, build the join entry with the invitation proof (the code never leaves this device),
// append it at the relay (which validates it), then store the workspace, the epoch keys the
// invitation opened, the relay url and the relay key (pinned on first use). Sync follows separately.
import { toBase64url } from '../../crypto/bytes.ts';
import { fail, ok, type Result } from '../../crypto/result.ts';
import type { UnlockedVault } from '../../identity/vault/types.ts';
import { parseInvitationToken } from '../../identity/workspace/invitation.ts';
import { buildJoin } from '../../identity/workspace/invitations.ts';
import { appendEntry, logEntries, replayLog } from '../../identity/workspace/log.ts';
import { describeRejection, WORKSPACE_REJECTIONS, type WorkspaceRejection } from '../../identity/workspace/rejections.ts';
import { isActiveDevice } from '../../identity/workspace/selectors.ts';
import { saveWorkspace } from '../../identity/workspace/store.ts';
import { docsDirOf } from '../openSession.ts';
import { collectEpochKeys } from './mergeMembership.ts';
import { deviceKeysOfVault } from './nodeSyncSession.ts';
import { openNodeSyncState } from './openNodeSyncState.ts';
import { RelayClient, RelayRequestError, type RelayClientOptions } from './relayClient.ts';

export type JoinFailure = 'invitation_code_invalid' | 'relay_unreachable' | 'unknown_workspace' | 'join_refused' | 'storage_unavailable';

export interface JoinOptions {
  home: string;
  vault: UnlockedVault;
  /** Exactly what `workspace invite` prints: "<workspaceId>.<code>". */
  token: string;
  relayUrl: string;
  WebSocketImpl?: RelayClientOptions['WebSocket'];
  now?: () => number;
}

export interface Joined {
  workspaceId: string;
  name: string;
  role: string;
  alreadyMember: boolean;
}

export async function joinViaRelay(o: JoinOptions): Promise<Result<Joined, JoinFailure>> {
  const t = parseInvitationToken(o.token);
  if (!t.ok) return fail('invitation_code_invalid', 'expected the code exactly as `workspace invite` printed it (WORKSPACE.CODE)');
  const { workspaceId, code } = t.value;
  const keys = deviceKeysOfVault(o.vault);
  const now = o.now ?? Date.now;
  let client: RelayClient;
  try {
    client = await RelayClient.connect({
      url: o.relayUrl, signingKey: keys.signingKey, devicePub: keys.signingPub,
      ...(o.WebSocketImpl ? { WebSocket: o.WebSocketImpl } : {}),
    });
  } catch (e) {
    return fail('relay_unreachable', `cannot reach the relay at ${o.relayUrl}: ${e instanceof Error ? e.message : String(e)}`);
  }
  try {
    let entries: Uint8Array[];
    try {
      entries = await client.getLog(workspaceId);
    } catch (e) {
      if (e instanceof RelayRequestError && e.code === 'unknown_workspace')
        return fail('unknown_workspace', `the relay at ${o.relayUrl} has no workspace ${workspaceId} (has its admin synced since creating it?)`);
      throw e;
    }
    const st = replayLog(entries);
    if (!st.ok || st.value.workspaceId !== workspaceId) return fail('join_refused', 'the relay sent a membership log that does not replay');
    let state = st.value;
    const alreadyMember = isActiveDevice(state, keys.deviceId);
    if (!alreadyMember) {
      const j = buildJoin(state, code, keys, Math.max(now(), client.relayTime));
      if (!j.ok)
        return fail(
          'join_refused',
          j.reason === 'invitation_unknown'
            ? `the relay's log has no such invitation yet: the admin must sync after \`workspace invite\` (${j.reason})`
            : `${describeRejection(j.reason)} (${j.reason})`,
        );
      try {
        await client.appendLog(workspaceId, j.value.entry.bytes);
      } catch (e) {
        if (e instanceof RelayRequestError && e.code === 'log_rejected') {
          const reason = e.message.replace(/^[a-z_]+: /, '');
          const words = Object.hasOwn(WORKSPACE_REJECTIONS, reason) ? describeRejection(reason as WorkspaceRejection) : reason;
          return fail('join_refused', `the relay refused the join: ${words} (${reason})`);
        }
        throw e;
      }
      const next = appendEntry(state, j.value.entry.bytes, Math.max(now(), client.relayTime));
      if (!next.ok) return fail('join_refused', `${describeRejection(next.reason)} (${next.reason})`);
      state = next.value;
    }
    // The join entry holds our own lockbox for the invitation's epoch: open it and walk the chain back.
    const epochKeys = collectEpochKeys(state, keys.deviceId, keys.boxKey, new Map());
    saveWorkspace(o.home, o.vault.dataKey, { workspaceId, entries: logEntries(state), epochKeys, meta: { relay: o.relayUrl } });
    const ss = await openNodeSyncState(docsDirOf(o.home, o.vault, workspaceId), o.vault.dataKey);
    if (!ss.ok) return fail('storage_unavailable', ss.detail ?? ss.reason);
    await ss.value.update(x => {
      x.relayPub ??= toBase64url(client.relayPub);
      x.lastSeen = Math.max(x.lastSeen, client.relayTime, now());
    });
    const me = state.devices.get(keys.deviceId);
    return ok({ workspaceId, name: state.name, role: (me && state.members.get(me.userId)?.role) ?? 'unknown', alreadyMember });
  } finally {
    client.close();
  }
}
