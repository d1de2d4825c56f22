// The relay's default MembershipModel: the identity library's membership chain (src/identity/workspace).
import { fail, ok } from '../src/crypto/result.ts';
import { countersign } from '../src/identity/workspace/chainLink.ts';
import { decodeEntry } from '../src/identity/workspace/entry.ts';
import { appendEntry, replayLog } from '../src/identity/workspace/log.ts';
import { canWrite, deviceInfo, isActiveDevice, policy } from '../src/identity/workspace/selectors.ts';
import { emptyState, type WorkspaceState } from '../src/identity/workspace/state.ts';
import { MAX_ENTRY_SKEW_MS } from '../src/identity/workspace/validateEntry.ts';
import type { MembershipModel } from './membership.ts';

export function identityMembership(): MembershipModel<WorkspaceState> {
  return {
    replayLog: (links) => replayLog(links),
    emptyState: (workspaceId) => emptyState(workspaceId),
    sequence: (state, entry, now, relayKey) => {
      const d = decodeEntry(entry);
      if (!d.ok) return d;
      if (Math.abs(d.value.body.at - now) > MAX_ENTRY_SKEW_MS)
        return fail('entry_time_skew', `entry time ${new Date(d.value.body.at).toISOString()}, relay time ${new Date(now).toISOString()}`);
      const next = appendEntry(state, entry, now, countersign(relayKey, d.value));
      if (!next.ok) return next;
      return ok({ state: next.value, link: next.value.links[d.value.body.index]!, index: d.value.body.index });
    },
    indexOf: (state, entry) => {
      const d = decodeEntry(entry);
      return d.ok && state.applied.has(d.value.id) ? d.value.body.index : undefined;
    },
    length: (state) => state.order.length,
    entryIdAt: (state, index) => state.order[index],
    workspaceIdOf: (state) => state.workspaceId,
    deviceInfo: (state, id) => deviceInfo(state, id),
    isActiveDevice: (state, id) => isActiveDevice(state, id),
    canWrite: (state, id) => canWrite(state, id),
    isAdmin: (state, id) => {
      if (!isActiveDevice(state, id)) return false;
      const d = state.devices.get(id);
      return !!d && state.members.get(d.userId)?.role === 'admin';
    },
    policy: (state) => policy(state),
    epochOf: (state) => state.epoch,
    prefix: (state, length) => {
      if (length < 1 || length > state.links.length) return undefined;
      const r = replayLog(state.links.slice(0, length));
      return r.ok ? r.value : undefined;
    },
  };
}
