// `cloister workspace join`: join through the relay (joinWorkspace.ts), then store the workspace, the
// epoch keys the invitation opened, the relay url and the relay key (pinned on first use) in the
// profile. Sync follows separately.
import { toBase64url } from '../../crypto/bytes.ts';
import { fail, ok, type Result } from '../../crypto/result.ts';
import { logEntries } from '../../identity/workspace/log.ts';
import { saveWorkspace } from '../../identity/workspace/store.ts';
import { docsDirOf } from '../openSession.ts';
import { joinThroughRelay, type JoinFailure, type JoinThroughRelayOptions } from './joinWorkspace.ts';
import { openNodeSyncState } from './openNodeSyncState.ts';
import { relayUrlsOf } from './SyncEngine.ts';

export type { JoinFailure };

export interface JoinOptions extends JoinThroughRelayOptions {
  /** The profile directory the workspace is stored in. */
  home: string;
}

export interface Joined {
  workspaceId: string;
  name: string;
  role: string;
  alreadyMember: boolean;
}

export async function joinViaRelay(o: JoinOptions): Promise<Result<Joined, JoinFailure>> {
  // Several instances of one deployment (comma-separated): the first one reachable; the list is stored.
  let j: Awaited<ReturnType<typeof joinThroughRelay>> | undefined;
  for (const url of relayUrlsOf(o.relayUrl)) {
    j = await joinThroughRelay({ ...o, relayUrl: url });
    if (j.ok || j.reason !== 'relay_unreachable') break;
  }
  if (!j) return fail('relay_unreachable', 'no relay url given');
  if (!j.ok) return j;
  const { workspaceId, state, epochKeys, relayPub, relayTime, role, alreadyMember } = j.value;
  saveWorkspace(o.home, o.vault.dataKey, { workspaceId, entries: logEntries(state), epochKeys, meta: { relay: o.relayUrl } });
  const ss = await openNodeSyncState(docsDirOf(o.home, o.vault, workspaceId), o.vault.dataKey);
  if (!ss.ok) return fail('storage_unavailable', ss.detail ?? ss.reason);
  const now = o.now ?? Date.now;
  await ss.value.update(x => {
    x.relayPub ??= toBase64url(relayPub);
    x.lastSeen = Math.max(x.lastSeen, relayTime, now());
  });
  return ok({ workspaceId, name: state.name, role, alreadyMember });
}
