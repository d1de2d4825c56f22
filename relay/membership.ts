// What the relay needs from the identity library to authorise: reduce a workspace's membership
// chain, sequence new entries onto it, and ask questions of the result. Injected so tests can use a
// fixture; the default binds src/identity/workspace (relay/identityMembership.ts). The relay never
// interprets entries itself.
import type { SigningSecretKey } from '../src/crypto/keys.ts';
import type { Result } from '../src/crypto/result.ts';
import type { Policy as WorkspacePolicy } from '../src/identity/workspace/entry.ts';
import type { DeviceInfo } from '../src/identity/workspace/selectors.ts';

// The vocabulary is the identity library's own; the relay only chooses which implementation answers.
export type { DeviceInfo, WorkspacePolicy };

export interface Sequenced<S> {
  state: S;
  /** The stored form: the entry with the relay's countersignature. */
  link: Uint8Array;
  index: number;
}

export interface MembershipModel<S = unknown> {
  /** Reduce a whole stored chain (links in index order); fails if any link is invalid. */
  replayLog(links: Uint8Array[]): Result<S>;
  /** The state of a workspace with an empty log, that only a create entry for `workspaceId` extends. */
  emptyState(workspaceId: string): S;
  /**
   * Sequence one new entry: it must name the current head and be valid there (signatures, roles,
   * invitations and their expiry by `now`, limits), and its time must be near `now`. Returns the
   * countersigned link to store at `index`.
   */
  sequence(state: S, entry: Uint8Array, now: number, relayKey: SigningSecretKey): Result<Sequenced<S>>;
  /** If this exact entry is already in the chain: its index. */
  indexOf(state: S, entry: Uint8Array): number | undefined;
  /** The number of entries in the chain. */
  length(state: S): number;
  /** The id (base64url SHA-256) of the entry at `index`, if the chain is that long. */
  entryIdAt(state: S, index: number): string | undefined;
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
  /** The workspace's current key epoch; an envelope claiming a later one is refused (unknown_epoch). */
  epochOf(state: S): number;
  /** The state the first `length` entries reduce to (the log as it stood then), if the chain is that long. */
  prefix(state: S, length: number): S | undefined;
}
