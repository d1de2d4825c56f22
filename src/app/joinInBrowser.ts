// Join a team workspace from the browser with what `cloister workspace invite` printed
// ("<workspaceId>.<code>"): the same steps as the CLI's joinViaRelay (fetch the log, build the join
// with the invitation proof — the code never leaves this device — append it at the relay, open the
// epoch keys), storing the result in this browser's encrypted workspace store and sync state.
import { toBase64url } from '../crypto/bytes.ts';
import { fail, ok, type Result } from '../crypto/result.ts';
import { RelayClient, RelayRequestError } from '../docs/sync/relayClient.ts';
import { collectEpochKeys } from '../docs/sync/mergeMembership.ts';
import type { JoinFailure } from '../docs/sync/joinViaRelay.ts';
import type { UnlockedVault } from '../identity/vault/types.ts';
import { parseInvitationToken } from '../identity/workspace/invitation.ts';
import { buildJoin } from '../identity/workspace/invitations.ts';
import { appendEntry, logEntries, replayLog } from '../identity/workspace/log.ts';
import { describeRejection } from '../identity/workspace/rejections.ts';
import { isActiveDevice } from '../identity/workspace/selectors.ts';
import type { BytesStore } from '../identity/vault/idbBytes.ts';
import { saveBrowserWorkspace } from './browserWorkspaceStore.ts';
import { openBrowserSyncState } from './browserSyncState.ts';
import { deviceKeysOfVault } from '../identity/vault/deviceKeys.ts';
import { docsDbPrefix } from './openAppRecords.ts';

export async function joinInBrowser(o: { vault: UnlockedVault; token: string; relayUrl: string; store: BytesStore }): Promise<Result<{ workspaceId: string; name: string }, JoinFailure>> {
  const t = parseInvitationToken(o.token);
  if (!t.ok) return fail('invitation_code_invalid', 'paste the code exactly as `cloister workspace invite` printed it (WORKSPACE.CODE)');
  const { workspaceId, code } = t.value;
  const keys = deviceKeysOfVault(o.vault);
  let client: RelayClient;
  try {
    client = await RelayClient.connect({ url: o.relayUrl, signingKey: keys.signingKey, devicePub: keys.signingPub });
  } catch (e) {
    return fail('relay_unreachable', `cannot reach the relay at ${o.relayUrl}: ${e instanceof Error ? e.message : String(e)}`);
  }
  try {
    let entries: Uint8Array[];
    try {
      entries = await client.getLog(workspaceId);
    } catch (e) {
      if (e instanceof RelayRequestError && e.code === 'unknown_workspace') return fail('unknown_workspace', 'the relay has no such workspace (has its admin synced since creating it?)');
      throw e;
    }
    const st = replayLog(entries);
    if (!st.ok || st.value.workspaceId !== workspaceId) return fail('join_refused', 'the relay sent a membership log that does not replay');
    let state = st.value;
    const now = Math.max(Date.now(), client.relayTime);
    if (!isActiveDevice(state, keys.deviceId)) {
      const j = buildJoin(state, code, keys, now);
      if (!j.ok) return fail('join_refused', j.reason === 'invitation_unknown' ? 'the relay has no such invitation yet: the admin must sync after inviting' : describeRejection(j.reason));
      try {
        await client.appendLog(workspaceId, j.value.entry.bytes);
      } catch (e) {
        if (e instanceof RelayRequestError && e.code === 'log_rejected') return fail('join_refused', `the relay refused the join: ${e.message}`);
        throw e;
      }
      const next = appendEntry(state, j.value.entry.bytes, now);
      if (!next.ok) return fail('join_refused', describeRejection(next.reason));
      state = next.value;
    }
    const epochKeys = collectEpochKeys(state, keys.deviceId, keys.boxKey, new Map());
    await saveBrowserWorkspace(o.store, o.vault.dataKey, { workspaceId, entries: logEntries(state), epochKeys, meta: { relay: o.relayUrl } });
    const ss = await openBrowserSyncState(docsDbPrefix(o.vault.dataKey, workspaceId), o.vault.dataKey);
    if (!ss.ok) return fail('storage_unavailable', ss.detail ?? ss.reason);
    await ss.value.update((x) => {
      x.relayPub ??= toBase64url(client.relayPub);
      x.lastSeen = Math.max(x.lastSeen, client.relayTime, Date.now());
    });
    return ok({ workspaceId, name: state.name });
  } catch (e) {
    return fail('relay_unreachable', e instanceof Error ? e.message : String(e));
  } finally {
    client.close();
  }
}
