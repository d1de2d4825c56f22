// Join a workspace through its relay with what `workspace invite` printed ("<workspaceId>.<code>"):
// fetch the chain (countersigned by the relay key, pinned from here on), build the join entry at its head with the invitation proof (the code never leaves this device),
// append it at the relay (which validates it), and open the epoch keys the invitation gives. No
// storage here: the CLI (joinViaRelay.ts) and the web app (joinInBrowser.ts) keep the result.
import { withNames } from '../../identity/workspace/names.ts';
import type { EpochKey } from '../../crypto/keys.ts';
import { fail, ok, type Result } from '../../crypto/result.ts';
import { deviceKeysOfVault } from '../../identity/vault/deviceKeys.ts';
import type { UnlockedVault } from '../../identity/vault/types.ts';
import { parseInvitationToken } from '../../identity/workspace/invitation.ts';
import { buildJoin } from '../../identity/workspace/invitations.ts';
import { isActiveDevice } from '../../identity/workspace/selectors.ts';
import type { WorkspaceState } from '../../identity/workspace/state.ts';
import { appendAtHead, ChainFault, collectEpochKeys, describeAppendFailure, pullChain } from './chainSync.ts';
import { RelayClient, RelayRequestError, type RelayClientOptions } from './relayClient.ts';

export type JoinFailure = 'invitation_code_invalid' | 'relay_unreachable' | 'unknown_workspace' | 'join_refused' | 'storage_unavailable';

export interface JoinThroughRelayOptions {
  vault: UnlockedVault;
  /** Exactly what `workspace invite` prints: "<workspaceId>.<code>". */
  token: string;
  relayUrl: string;
  /** The name the other members see for this person (sealed in the log: the relay can't read it). */
  displayName?: string;
  WebSocketImpl?: RelayClientOptions['WebSocket'];
  now?: () => number;
}

export interface JoinedWorkspace {
  workspaceId: string;
  state: WorkspaceState;
  epochKeys: Map<number, EpochKey>;
  /** The relay's key (to pin on first use) and its clock when we talked (the latest time seen). */
  relayPub: Uint8Array;
  relayTime: number;
  role: string;
  alreadyMember: boolean;
}

export async function joinThroughRelay(o: JoinThroughRelayOptions): Promise<Result<JoinedWorkspace, JoinFailure>> {
  const t = parseInvitationToken(o.token);
  if (!t.ok) return fail('invitation_code_invalid', 'paste the code exactly as `cloister workspace invite` printed it (WORKSPACE.CODE)');
  const { workspaceId, code } = t.value;
  const keys = { ...deviceKeysOfVault(o.vault), ...(o.displayName ? { name: o.displayName } : {}) };
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
    let pulled;
    try {
      pulled = await pullChain(client, workspaceId, undefined, client.relayPub, now());
    } catch (e) {
      if (e instanceof ChainFault) return fail('join_refused', e.message);
      throw e;
    }
    if (pulled.unknown || !pulled.state)
      return fail('unknown_workspace', `the relay at ${o.relayUrl} has no workspace ${workspaceId} (has its admin synced since creating it?)`);
    let state = pulled.state;
    const alreadyMember = isActiveDevice(state, keys.deviceId);
    if (!alreadyMember) {
      const r = await appendAtHead(
        client, workspaceId, state, client.relayPub,
        (st, at) => {
          const j = buildJoin(st, code, keys, at);
          return j.ok ? ok(j.value.entry.bytes) : j;
        },
        () => client.relayNow(),
      );
      if (!r.ok)
        return fail(
          'join_refused',
          r.reason === 'invitation_unknown'
            ? `the relay's log has no such invitation yet: the admin must sync after \`workspace invite\` (${r.reason})`
            : describeAppendFailure(r),
        );
      state = r.value.state;
    }
    // The join entry holds our own lockbox for the invitation's epoch: open it and walk the chain back.
    const epochKeys = collectEpochKeys(state, keys.deviceId, keys.boxKey, new Map());
    state = withNames(state, epochKeys);
    const me = state.devices.get(keys.deviceId);
    return ok({
      workspaceId, state, epochKeys, relayPub: client.relayPub, relayTime: client.relayTime,
      role: (me && state.members.get(me.userId)?.role) ?? 'unknown', alreadyMember,
    });
  } catch (e) {
    if (e instanceof RelayRequestError) return fail('relay_unreachable', e.message);
    throw e;
  } finally {
    client.close();
  }
}
