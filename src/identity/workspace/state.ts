// The membership state a log reduces to. Treated as immutable: applying an entry returns a new
// state that shares unchanged records. Pure data, no Node-only APIs, so the relay and the browser
// reduce the same way.
import type { PublicKey } from '../../crypto/keys.ts';
import type { Entry, Policy, Role } from './entry.ts';
import type { SealedName } from './names.ts';

export interface MemberRecord {
  userId: string;
  role: Role;
  removed: boolean;
  devices: string[];
  /** The display name as this reader opened it (withNames); undefined until then. */
  name?: string;
  sealedName?: SealedName;
  userSigningPub?: PublicKey;
  /** Chain index of the entry that admitted them (members are listed in this order). */
  admittedAt: number;
}

export interface DeviceRecord {
  deviceId: string;
  userId: string;
  signingPub: PublicKey;
  boxPub: PublicKey;
  revoked: boolean;
}

export interface InvitationRecord {
  id: string;
  pub: PublicKey;
  boxPub: PublicKey;
  role: Role;
  expiresAt: number;
  maxUses: number;
  uses: number;
  revoked: boolean;
}

export interface EpochRecord {
  epoch: number;
  /** HMAC(epochKey, DOMAIN.epochCheck ‖ ws ‖ epoch): lets a recipient detect a box holding the wrong key. */
  check: Uint8Array;
  /** The previous epoch's key sealed under this one (absent for epoch 0). */
  chain?: Uint8Array;
  /** slot (deviceId, or "inv:" + invitation id) → lockbox */
  lockboxes: Map<string, Uint8Array>;
}

export interface WorkspaceState {
  workspaceId: string;
  /** The workspace's name as this reader opened it (withNames); '' until then. */
  name: string;
  sealedName?: SealedName;
  /** The chain's entries by id, in chain order. */
  applied: Map<string, Entry>;
  /** Entry ids by chain index. */
  order: string[];
  /** The stored form of each position (entry + relay countersignature), by chain index. */
  links: Uint8Array[];
  /** The id of the last entry ('' for an empty log): the `prev` of the next one. */
  head: string;
  members: Map<string, MemberRecord>;
  devices: Map<string, DeviceRecord>;
  invitations: Map<string, InvitationRecord>;
  epochs: Map<number, EpochRecord>;
  epoch: number;
  policy: Policy;
}

export const DEFAULT_POLICY: Policy = { maxOfflineMs: 30 * 24 * 3600 * 1000, leasePolicy: 'hold' };

export function emptyState(workspaceId: string): WorkspaceState {
  return {
    workspaceId,
    name: '',
    applied: new Map(),
    order: [],
    links: [],
    head: '',
    members: new Map(),
    devices: new Map(),
    invitations: new Map(),
    epochs: new Map(),
    epoch: -1,
    policy: DEFAULT_POLICY,
  };
}
