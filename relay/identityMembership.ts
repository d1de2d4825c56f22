// The relay's default MembershipModel: the identity library's membership log (src/identity/workspace).
import { appendEntry, replayLog } from '../src/identity/workspace/log.ts';
import { canWrite, deviceInfo, isActiveDevice, policy } from '../src/identity/workspace/selectors.ts';
import { emptyState, type WorkspaceState } from '../src/identity/workspace/state.ts';
import type { MembershipModel } from './membership.ts';

export function identityMembership(): MembershipModel<WorkspaceState> {
  return {
    replayLog: (entries, now) => replayLog(entries, now),
    emptyState: (workspaceId) => emptyState(workspaceId),
    appendEntry: (state, entry, now) => appendEntry(state, entry, now),
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
  };
}
