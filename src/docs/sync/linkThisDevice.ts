// `cloister device link`, the new device's side: make a one-time code, leave a sealed request in the
// relay's mailbox for it, and wait while the person types the code into `device approve` on one of
// their existing devices. The approver's offer names the user and the workspaces; this device signs
// its own enrolment for each (with the code proof, deviceLink.ts), waits for the add_device entries,
// then fetches each workspace's log from its relay, opens every epoch key its lockbox and the key chain
// give, and stores the workspace like a join does. The code never leaves the two devices.
import { withNames } from '../../identity/workspace/names.ts';
import { fromBase64url, toBase64url } from '../../crypto/bytes.ts';
import { fail, ok, type Result } from '../../crypto/result.ts';
import { deviceKeysOfVault } from '../../identity/vault/deviceKeys.ts';
import type { UnlockedVault } from '../../identity/vault/types.ts';
import { buildDeviceLinkRequest, createDeviceLinkCode } from '../../identity/workspace/deviceLink.ts';
import { linkMailboxOf, sealLinkMessage, type LinkMessage } from '../../identity/workspace/deviceLinkMailbox.ts';
import { logEntries, replayLog } from '../../identity/workspace/log.ts';
import { isActiveDevice } from '../../identity/workspace/selectors.ts';
import { connectAs, waitForStep, type LinkFailure, type LinkRelayOptions } from './deviceLinkRelay.ts';
import { collectEpochKeys } from './chainSync.ts';
import type { DeviceLinkStore } from './deviceLinkStore.ts';
import type { RelayClient } from './relayClient.ts';

export interface LinkThisDeviceOptions extends LinkRelayOptions {
  /** Where the linked workspaces are kept (the CLI profile, or the browser's IndexedDB). */
  store: DeviceLinkStore;
  vault: UnlockedVault;
  /** The relay that carries the mailbox. */
  relayUrl: string;
  /** Called once the request is at the relay: show the code to the person. expiresAt is on the relay's clock. */
  onCode: (code: string, expiresInMs: number) => void;
  /** Called when an approver answered (before enrolment). */
  onOffer?: (offer: LinkMessage<'offer'>) => void;
  /** How long to wait for the approver (default: until the code expires). */
  waitMs?: number;
}

export interface LinkedWorkspace {
  workspaceId: string;
  name: string;
  relay: string;
  epochs: number;
}

export interface LinkResult {
  userId: string;
  workspaces: LinkedWorkspace[];
  /** Workspaces the approver offered but could not add this device to, with why. */
  refused: { workspaceId: string; reason: string }[];
}

export async function linkThisDevice(o: LinkThisDeviceOptions): Promise<Result<LinkResult, LinkFailure>> {
  const now = o.now ?? Date.now;
  const code = createDeviceLinkCode();
  const mb = linkMailboxOf(code);
  if (!mb.ok) throw new Error('createDeviceLinkCode made an undecodable code');
  const keys = deviceKeysOfVault(o.vault);
  const me = { deviceId: keys.deviceId, signingPub: toBase64url(keys.signingPub), boxPub: toBase64url(keys.boxPub) };
  const c = await connectAs(o.vault, o.relayUrl, o);
  if (!c.ok) return c;
  const clients = new Map<string, RelayClient>([[o.relayUrl, c.value]]);
  try {
    const client = c.value;
    let expiresAt: number;
    try {
      expiresAt = await client.putMailbox(mb.value.boxId, 'request', sealLinkMessage(mb.value, 'request', { device: me }));
    } catch (e) {
      return fail('relay_unreachable', `the relay did not take the link request: ${e instanceof Error ? e.message : String(e)}`);
    }
    const ttl = Math.max(0, expiresAt - client.relayTime);
    o.onCode(code, ttl);
    const deadline = now() + (o.waitMs ?? ttl);

    const offer = await waitForStep(client, mb.value, 'offer', deadline, o);
    if (!offer.ok) return offer;
    o.onOffer?.(offer.value);
    const requests = [];
    for (const w of offer.value.workspaces) {
      const r = buildDeviceLinkRequest(code, w.workspaceId, offer.value.userId, { ...keys, signingPub: keys.signingPub, boxPub: keys.boxPub });
      if (!r.ok) return fail('link_refused', r.reason);
      requests.push(r.value);
    }
    try {
      await client.putMailbox(mb.value.boxId, 'enrol', sealLinkMessage(mb.value, 'enrol', { requests }));
    } catch (e) {
      return fail('link_refused', `the relay did not take the enrolment: ${e instanceof Error ? e.message : String(e)}`);
    }
    const done = await waitForStep(client, mb.value, 'done', deadline, o);
    if (!done.ok) return done;

    let have: Set<string>;
    try {
      have = new Set((await o.store.list()).map((w) => w.workspaceId));
    } catch (e) {
      return fail('storage_unavailable', e instanceof Error ? e.message : String(e));
    }
    const linked: LinkedWorkspace[] = [];
    const refused: LinkResult['refused'] = [];
    for (const w of offer.value.workspaces) {
      const answer = done.value.workspaces.find((d) => d.workspaceId === w.workspaceId);
      if (!answer || answer.refused !== undefined || answer.index === undefined) {
        refused.push({ workspaceId: w.workspaceId, reason: answer?.refused ?? 'the approver did not add this device' });
        continue;
      }
      if (have.has(w.workspaceId)) {
        refused.push({ workspaceId: w.workspaceId, reason: 'this profile already has that workspace' });
        continue;
      }
      const got = await fetchLinkedWorkspace(o, clients, w, offer.value.userId);
      if (!got.ok) {
        refused.push({ workspaceId: w.workspaceId, reason: got.detail ?? got.reason });
        continue;
      }
      linked.push(got.value);
    }
    return ok({ userId: offer.value.userId, workspaces: linked, refused });
  } finally {
    for (const cl of clients.values()) cl.close();
  }
}

/** Fetch the log from the workspace's relay, check this device was added for the offered user, open the keys and store it. */
async function fetchLinkedWorkspace(
  o: LinkThisDeviceOptions,
  clients: Map<string, RelayClient>,
  w: LinkMessage<'offer'>['workspaces'][number],
  userId: string,
): Promise<Result<LinkedWorkspace, LinkFailure>> {
  const now = o.now ?? Date.now;
  const keys = deviceKeysOfVault(o.vault);
  let client = clients.get(w.relay);
  if (!client) {
    const c = await connectAs(o.vault, w.relay, o);
    if (!c.ok) return c;
    clients.set(w.relay, (client = c.value));
  }
  // The approver pinned this relay's key; a different key here is another relay, not ours to trust.
  const pinned = w.relayPub !== undefined ? fromBase64url(w.relayPub) : undefined;
  if (pinned && toBase64url(pinned) !== toBase64url(client.relayPub)) return fail('link_refused', `the relay at ${w.relay} is not the one the approver syncs with (its key differs)`);
  let entries: Uint8Array[];
  try {
    entries = await client.getLog(w.workspaceId);
  } catch (e) {
    return fail('relay_unreachable', e instanceof Error ? e.message : String(e));
  }
  const st = replayLog(entries, { relayPub: client.relayPub });
  if (!st.ok || st.value.workspaceId !== w.workspaceId) return fail('link_refused', 'the relay sent a membership log that does not replay');
  let state = st.value;
  if (!isActiveDevice(state, keys.deviceId) || state.devices.get(keys.deviceId)?.userId !== userId)
    return fail('link_refused', 'the relay’s log does not add this device for that user');
  const epochKeys = collectEpochKeys(state, keys.deviceId, keys.boxKey, new Map());
  state = withNames(state, epochKeys);
  if (!epochKeys.has(state.epoch)) return fail('link_refused', `the log holds no key for this device at epoch ${state.epoch}`);
  try {
    await o.store.save({ workspaceId: w.workspaceId, entries: logEntries(state), epochKeys, meta: { relay: w.relay } });
    const pinned = await o.store.afterLink(w.workspaceId, { relayPub: toBase64url(client.relayPub), seenAt: Math.max(client.relayTime, now()) });
    if (!pinned.ok) return fail('storage_unavailable', pinned.detail);
  } catch (e) {
    return fail('storage_unavailable', e instanceof Error ? e.message : String(e));
  }
  return ok({ workspaceId: w.workspaceId, name: state.name, relay: w.relay, epochs: epochKeys.size });
}
