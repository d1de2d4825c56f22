// Admins under lease policy 'hold': the relay keeps envelopes pushed outside their lease for an admin
// to approve (DESIGN → Offline leases). List them and approve one over a short authenticated connection
// that checks the relay key pinned for this workspace. Approval releases the bytes as sent; the writer's
// next push of the same envelope is then acknowledged as a duplicate and leaves its outbox.
import { fromBase64url } from '../../crypto/bytes.ts';
import type { DeviceKeys } from '../../identity/workspace/signEntry.ts';
import type { LiveWorkspace } from './LiveWorkspace.ts';
import { RelayClient, RelayRequestError, type RelayClientOptions } from './relayClient.ts';
import type { SyncStateStore } from './syncState.ts';

export interface HeldSession {
  live: LiveWorkspace;
  syncState: SyncStateStore;
  device: Pick<DeviceKeys, 'signingKey' | 'signingPub'>;
}

export interface HeldEnvelopeItem {
  heldId: number;
  deviceId: string;
  /** The member who owns the device, when this device knows it. */
  userId?: string;
  docId: string;
  seq: number;
  receivedAt: number;
}

export class HeldError extends Error {
  constructor(readonly code: 'not_pinned' | 'not_admin' | 'not_found' | 'connect_failed', message: string) {
    super(message);
    this.name = 'HeldError';
  }
}

async function withRelay<T>(s: HeldSession, relayUrl: string, fn: (c: RelayClient) => Promise<T>, WebSocketImpl?: RelayClientOptions['WebSocket']): Promise<T> {
  const st = await s.syncState.load();
  if (!st.relayPub) throw new HeldError('not_pinned', 'this device has never synced with the relay: connect first: cloister sync');
  let client: RelayClient;
  try {
    client = await RelayClient.connect({
      url: relayUrl, signingKey: s.device.signingKey, devicePub: s.device.signingPub, workspaces: [s.live.workspaceId],
      expectedRelayPub: fromBase64url(st.relayPub), ...(WebSocketImpl ? { WebSocket: WebSocketImpl } : {}),
    });
  } catch (e) {
    throw new HeldError('connect_failed', `cannot reach the relay at ${relayUrl}: ${e instanceof Error ? e.message : String(e)}`);
  }
  try {
    return await fn(client);
  } catch (e) {
    if (e instanceof RelayRequestError && e.code === 'not_admin') throw new HeldError('not_admin', 'only workspace admins can see and approve held envelopes');
    if (e instanceof RelayRequestError && e.code === 'not_found') throw new HeldError('not_found', `no such held envelope (${e.message})`);
    throw e;
  } finally {
    client.close();
  }
}

/** Envelopes the relay holds for this workspace (admins only). */
export function listHeldEnvelopes(s: HeldSession, relayUrl: string): Promise<HeldEnvelopeItem[]> {
  return withRelay(s, relayUrl, async c => {
    const items = await c.listHeld(s.live.workspaceId);
    return items.map(i => {
      const userId = s.live.state.devices.get(i.deviceId)?.userId;
      return { heldId: i.heldId, deviceId: i.deviceId, ...(userId ? { userId } : {}), docId: i.docId, seq: i.seq, receivedAt: i.receivedAt };
    });
  });
}

/** Release one held envelope into the workspace; resolves to its relay sequence number. */
export function approveHeldEnvelope(s: HeldSession, relayUrl: string, heldId: number): Promise<number> {
  return withRelay(s, relayUrl, c => c.approveHeld(s.live.workspaceId, heldId));
}
