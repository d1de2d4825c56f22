// The membership state and epoch keys a session judges and seals with, replaceable while the session
// is open: the sync engine merges new log entries (joins, removals, rotations) and swaps them in, so
// envelopes from a device admitted a second ago verify, and new edits are sealed under the new epoch.
import type { EpochKey } from '../../crypto/keys.ts';
import type { WorkspaceState } from '../../identity/workspace/state.ts';
import type { EnvelopeAuthority, EnvelopeDeviceInfo, WriteRefusal } from '../envelope/authority.ts';
import type { DocumentKey } from '../../crypto/keys.ts';
import { authorityFromState } from '../workspaceAuthority.ts';
import type { LogPosition } from '../DocSession.ts';
import { fromBase64url } from '../../crypto/bytes.ts';

export class LiveWorkspace implements EnvelopeAuthority {
  #state: WorkspaceState;
  #epochKeys: ReadonlyMap<number, EpochKey>;
  #authority: EnvelopeAuthority;

  constructor(state: WorkspaceState, epochKeys: ReadonlyMap<number, EpochKey>) {
    this.#state = state;
    this.#epochKeys = epochKeys;
    this.#authority = authorityFromState(state, epochKeys);
  }

  get workspaceId(): string {
    return this.#state.workspaceId;
  }
  get state(): WorkspaceState {
    return this.#state;
  }
  get epochKeys(): ReadonlyMap<number, EpochKey> {
    return this.#epochKeys;
  }
  /** The epoch new envelopes are sealed under: the log's current one. */
  get epoch(): number {
    return this.#state.epoch;
  }

  /** Swap in a newer state (same workspace) and the keys this device holds for it. */
  update(state: WorkspaceState, epochKeys: ReadonlyMap<number, EpochKey>): void {
    if (state.workspaceId !== this.#state.workspaceId) throw new Error('LiveWorkspace.update: another workspace');
    this.#state = state;
    this.#epochKeys = epochKeys;
    this.#authority = authorityFromState(state, epochKeys);
  }

  deviceInfo(id: string): EnvelopeDeviceInfo | undefined {
    return this.#authority.deviceInfo(id);
  }
  canWriteDevice(id: string): true | WriteRefusal {
    return this.#authority.canWriteDevice(id);
  }
  /**
   * A removed member's or revoked device's envelope is kept if it was sealed under an epoch whose key
   * the device legitimately held (it had a lockbox there) and its role allowed writing: the relay, which
   * checks membership at push time, accepted it before the removal. Without this, whoever pulls it after
   * the removal would quarantine an accepted edit and diverge from those who pulled it earlier. The
   * trade-off: post-removal writes under an old epoch are then refused by the relay only (docs/OFFLINE.md).
   */
  canWriteDeviceAt(id: string, epoch: number): true | WriteRefusal {
    const now = this.#authority.canWriteDevice(id);
    if (now !== 'not_a_member' && now !== 'device_revoked') return now;
    const d = this.#state.devices.get(id);
    const role = d && this.#state.members.get(d.userId)?.role;
    if (!d || (role !== 'admin' && role !== 'writer')) return now;
    const rec = this.#state.epochs.get(epoch);
    return rec?.lockboxes.has(id) || this.#heldBefore(id, epoch) ? true : now;
  }

  /** Did the device hold a lockbox in some epoch >= `epoch` (so it had this epoch's key through the chain)? */
  #heldBefore(id: string, epoch: number): boolean {
    for (const [e, rec] of this.#state.epochs) if (e >= epoch && rec.lockboxes.has(id)) return true;
    return false;
  }

  logEntryAt(index: number): string | undefined {
    return this.#state.order[index];
  }

  /** The chain position new envelopes name: the last entry this device has (index 0 and zeros for an empty log). */
  logPosition(): LogPosition {
    const index = Math.max(0, this.#state.order.length - 1);
    const id = this.#state.order[index];
    return { index, head: (id !== undefined && fromBase64url(id)) || new Uint8Array(32) };
  }

  documentKey(epoch: number, docId: string): DocumentKey | undefined {
    return this.#authority.documentKey(epoch, docId);
  }
}
