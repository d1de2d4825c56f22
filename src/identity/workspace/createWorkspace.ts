// Start a workspace: the founder's device signs the create entry, which admits the founder as admin,
// certifies the first device and seals epoch 0's key to it.
import { randomBytes, toBase64url } from '../../crypto/bytes.ts';
import type { EpochKey } from '../../crypto/keys.ts';
import { b64 } from './buildCommon.ts';
import { ENTRY_VERSION, type Policy } from './entry.ts';
import { epochCheck, newEpochKey, sealEpochKey } from './epochKeys.ts';
import { appendEntry } from './log.ts';
import { memberSlot, sealName, withNames, workspaceSlot } from './names.ts';
import { signEntry, type DeviceKeys } from './signEntry.ts';
import { DEFAULT_POLICY, emptyState, type WorkspaceState } from './state.ts';

export interface CreateOptions {
  now: number;
  policy?: Policy;
  workspaceId?: string;
}

export function createWorkspace(keys: DeviceKeys, name: string, opts: CreateOptions): { state: WorkspaceState; entries: Uint8Array[]; root: Uint8Array; workspaceId: string; epochKey: EpochKey } {
  const ws = opts.workspaceId ?? toBase64url(randomBytes(16));
  const epochKey = newEpochKey();
  const entry = signEntry(keys, {
    v: ENTRY_VERSION,
    ws,
    index: 0,
    prev: '',
    author: keys.deviceId,
    at: opts.now,
    kind: 'create',
    name: sealName(epochKey, ws, 0, workspaceSlot, name),
    founder: {
      userId: keys.userId,
      ...(keys.userSigningPub ? { userSigningPub: b64(keys.userSigningPub) } : {}),
      ...(keys.name ? { name: sealName(epochKey, ws, 0, memberSlot(keys.userId), keys.name) } : {}),
    },
    device: { deviceId: keys.deviceId, signingPub: b64(keys.signingPub), boxPub: b64(keys.boxPub) },
    epoch0: { lockbox: sealEpochKey(keys.boxPub, epochKey, ws, 0, keys.deviceId), check: b64(epochCheck(epochKey, ws, 0)) },
    policy: opts.policy ?? DEFAULT_POLICY,
  });
  const state = appendEntry(emptyState(ws), entry.bytes, opts.now);
  if (!state.ok) throw new Error(`own create entry rejected: ${state.reason}`);
  // entries: the chain as stored (one link, not yet countersigned); root: the entry to publish.
  return { state: withNames(state.value, new Map([[0, epochKey]])), entries: [...state.value.links], root: entry.bytes, workspaceId: ws, epochKey };
}
