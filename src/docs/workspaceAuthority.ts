// Adapts a workspace membership state (and the epoch keys this device has opened) to the small
// EnvelopeAuthority interface openEnvelope judges with.
import type { EpochKey } from '../crypto/keys.ts';
import { documentKey } from '../identity/workspace/epochKeys.ts';
import { canWrite, deviceInfo, memberOf } from '../identity/workspace/selectors.ts';
import type { WorkspaceState } from '../identity/workspace/state.ts';
import type { EnvelopeAuthority, WriteRefusal } from './envelope/authority.ts';

export function authorityFromState(state: WorkspaceState, epochKeys: ReadonlyMap<number, EpochKey>): EnvelopeAuthority {
  return {
    workspaceId: state.workspaceId,
    deviceInfo(id) {
      const d = deviceInfo(state, id);
      return d && { deviceId: d.deviceId, userId: d.userId, signingPub: d.signingPub, revoked: d.revoked };
    },
    canWriteDevice(id): true | WriteRefusal {
      const d = deviceInfo(state, id);
      if (!d) return 'not_a_member';
      const m = memberOf(state, d.userId);
      if (!m || m.removed) return 'not_a_member';
      if (d.revoked) return 'device_revoked';
      return canWrite(state, id) ? true : 'no_write_permission';
    },
    logEntryAt(index) {
      return state.order[index];
    },
    documentKey(epoch, docId) {
      const k = epochKeys.get(epoch);
      return k && documentKey(k, docId);
    },
  };
}
