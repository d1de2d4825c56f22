// Where device linking keeps what it learns (docs/DEVICES.md): the port that linkThisDevice.ts and
// approveDeviceLink.ts use instead of one platform's profile, so the CLI (nodeDeviceLinkStore.ts) and
// the web app (src/app/admin/browserDeviceLink.ts) run the same exchange over their own storage.
import type { StoredWorkspace } from '../../identity/workspace/storeCodec.ts';

export interface DeviceLinkStore {
  /** Every workspace this profile holds and can open. */
  list(): Promise<StoredWorkspace[]>;
  /** Store a workspace this device was just linked into (the new device's side). */
  save(ws: StoredWorkspace): Promise<void>;
  /** Rewrite one stored workspace from its latest copy (the approver keeps its add_device entry); false if it is gone. */
  update(workspaceId: string, change: (latest: StoredWorkspace) => StoredWorkspace): Promise<boolean>;
  /** The relay key this profile pinned for a workspace, if any (offered so the new device checks it). */
  pinnedRelayPub(workspaceId: string): Promise<string | undefined>;
  /** Bring a workspace to its relay's head before offering it (the approver); failures are the caller's to ignore. */
  refresh?(workspaceId: string, relay: string): Promise<void>;
  /** After a linked workspace is stored: pin the relay's key (unless one is pinned) and note `seenAt` as the last time seen (the lease clock). */
  afterLink(workspaceId: string, relay: { relayPub: string; seenAt: number }): Promise<{ ok: true } | { ok: false; detail: string }>;
}
