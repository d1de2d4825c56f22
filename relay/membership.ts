// What the relay needs from the identity library to authorise: reduce a workspace's membership log
// and ask questions of the result. Injected so tests can use a fixture; the default binds
// src/identity/workspace (relay/identityMembership.ts). The relay never interprets entries itself.
import type { Result } from '../src/crypto/result.ts';
import type { Policy as WorkspacePolicy } from '../src/identity/workspace/entry.ts';
import type { DeviceInfo } from '../src/identity/workspace/selectors.ts';

// The vocabulary is the identity library's own; the relay only chooses which implementation answers.
export type { DeviceInfo, WorkspacePolicy };

export interface MembershipModel<S = unknown> {
  /** Reduce a whole log (in stored order); fails if any entry is invalid. */
  replayLog(entries: Uint8Array[], now: number): Result<S>;
  /** The state of a workspace with an empty log, that only a create entry for `workspaceId` extends. */
  emptyState(workspaceId: string): S;
  /** Validate one new entry on top of a state (checks signatures, roles, invitation proofs). */
  appendEntry(state: S, entry: Uint8Array, now: number): Result<S>;
  /** The workspace id the log belongs to (from its create entry). */
  workspaceIdOf(state: S): string;
  deviceInfo(state: S, deviceId: string): DeviceInfo | undefined;
  /** A non-revoked device of a member who was not removed. */
  isActiveDevice(state: S, deviceId: string): boolean;
  /** Active, and the member's role allows writing records. */
  canWrite(state: S, deviceId: string): boolean;
  /** Active, and the member is an admin (may approve held envelopes). */
  isAdmin(state: S, deviceId: string): boolean;
  policy(state: S): WorkspacePolicy;
}
