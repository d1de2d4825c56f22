// Join a team workspace from the browser with what `cloister workspace invite` printed
// ("<workspaceId>.<code>"): the same join as the CLI (src/docs/sync/joinWorkspace.ts), stored in this
// browser's encrypted workspace store and sync state.
import { toBase64url } from '../crypto/bytes.ts';
import { fail, ok, type Result } from '../crypto/result.ts';
import { joinThroughRelay, type JoinFailure } from '../docs/sync/joinWorkspace.ts';
import type { BytesStore } from '../identity/vault/idbBytes.ts';
import type { UnlockedVault } from '../identity/vault/types.ts';
import { logEntries } from '../identity/workspace/log.ts';
import { openBrowserSyncState } from './browserSyncState.ts';
import { saveBrowserWorkspace } from './browserWorkspaceStore.ts';
import { docsDbPrefix } from './openAppRecords.ts';

export async function joinInBrowser(o: { vault: UnlockedVault; token: string; relayUrl: string; store: BytesStore; displayName?: string }): Promise<Result<{ workspaceId: string; name: string }, JoinFailure>> {
  let j;
  try {
    j = await joinThroughRelay({ vault: o.vault, token: o.token, relayUrl: o.relayUrl, ...(o.displayName ? { displayName: o.displayName } : {}) });
  } catch (e) {
    return fail('relay_unreachable', e instanceof Error ? e.message : String(e));
  }
  if (!j.ok) return j;
  const { workspaceId, state, epochKeys, relayPub, relayTime } = j.value;
  await saveBrowserWorkspace(o.store, o.vault.dataKey, { workspaceId, entries: logEntries(state), epochKeys, meta: { relay: o.relayUrl } });
  const ss = await openBrowserSyncState(docsDbPrefix(o.vault.dataKey, workspaceId), o.vault.dataKey);
  if (!ss.ok) return fail('storage_unavailable', ss.detail ?? ss.reason);
  await ss.value.update((x) => {
    x.relayPub ??= toBase64url(relayPub);
    x.lastSeen = Math.max(x.lastSeen, relayTime, Date.now());
  });
  return ok({ workspaceId, name: state.name });
}
