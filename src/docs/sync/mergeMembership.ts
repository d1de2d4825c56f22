// Membership-log sync, the pure part: merge the relay's entries with ours (the identity library
// re-validates every entry; the relay is not trusted to have), list ours that the relay lacks in
// causal order, and recover every epoch key this device can open from the merged log.
import type { BoxSecretKey, EpochKey } from '../../crypto/keys.ts';
import { fail, ok, type Result } from '../../crypto/result.ts';
import { openEpochKeys } from '../../identity/workspace/epochKeys.ts';
import { decodeEntry } from '../../identity/workspace/entry.ts';
import { replayLog } from '../../identity/workspace/log.ts';
import type { WorkspaceRejection } from '../../identity/workspace/rejections.ts';
import type { WorkspaceState } from '../../identity/workspace/state.ts';

export interface MergedLog {
  state: WorkspaceState;
  /** Entries (bytes) the relay did not have, parents before children. */
  toSend: Uint8Array[];
  /** How many entries came from the relay that we did not hold. */
  received: number;
}

const idOf = (bytes: Uint8Array): string | undefined => {
  const d = decodeEntry(bytes);
  return d.ok ? d.value.id : undefined;
};

export function mergeLogs(workspaceId: string, local: readonly Uint8Array[], remote: readonly Uint8Array[]): Result<MergedLog, WorkspaceRejection> {
  const localIds = new Set<string>();
  const all = new Map<string, Uint8Array>();
  for (const b of local) {
    const id = idOf(b);
    if (id && !all.has(id)) {
      all.set(id, b);
      localIds.add(id);
    }
  }
  const remoteIds = new Set<string>();
  let received = 0;
  for (const b of remote) {
    const id = idOf(b);
    if (!id) continue;
    remoteIds.add(id);
    if (!all.has(id)) {
      all.set(id, b);
      received++;
    }
  }
  const st = replayLog([...all.values()]);
  if (!st.ok) return st;
  if (st.value.workspaceId !== workspaceId) return fail('entry_wrong_workspace');
  // applied is in applied (causal) order; entries dropped by a concurrent removal follow.
  const order = [...st.value.applied.keys(), ...[...st.value.known.keys()].filter(id => !st.value.applied.has(id))];
  const toSend = order.filter(id => !remoteIds.has(id)).map(id => st.value.known.get(id)!.bytes);
  return ok({ state: st.value, toSend, received });
}

/** Every epoch key this device can open in `state`, plus those it already held. */
export function collectEpochKeys(
  state: WorkspaceState,
  deviceId: string,
  boxKey: BoxSecretKey,
  held: ReadonlyMap<number, EpochKey>,
): Map<number, EpochKey> {
  const keys = new Map(held);
  const opened = openEpochKeys(state, deviceId, boxKey);
  if (opened.ok) for (const [e, k] of opened.value) keys.set(e, k);
  return keys;
}
