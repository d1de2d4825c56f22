// `cloister device approve CODE`, the existing device's side: find the new device's sealed request in
// the relay's mailbox under the code, offer it this user's workspaces, check its enrolment for each
// (its own signature and the code-keyed proof, verifyDeviceLinkRequest) against the keys it asked with,
// and append one add_device entry per workspace, signed by this device, at the relay. Each entry seals
// the current epoch key to the new device's box key; the epoch chain gives it every older key.
import { withNames } from '../../identity/workspace/names.ts';
import { fail, ok, type Result } from '../../crypto/result.ts';
import { deviceKeysOfVault } from '../../identity/vault/deviceKeys.ts';
import type { UnlockedVault } from '../../identity/vault/types.ts';
import { verifyDeviceLinkRequest } from '../../identity/workspace/deviceLink.ts';
import { linkMailboxOf, openLinkMessage, sealLinkMessage, type LinkMessage } from '../../identity/workspace/deviceLinkMailbox.ts';
import { addDevice } from '../../identity/workspace/devices.ts';
import { logEntries, replayLog } from '../../identity/workspace/log.ts';
import { appendAtHead, describeAppendFailure, pullChain } from './chainSync.ts';
import { describeRejection } from '../../identity/workspace/rejections.ts';
import { isActiveDevice } from '../../identity/workspace/selectors.ts';
import type { StoredWorkspace } from '../../identity/workspace/storeCodec.ts';
import type { WorkspaceState } from '../../identity/workspace/state.ts';
import { connectAs, waitForStep, type LinkFailure, type LinkRelayOptions } from './deviceLinkRelay.ts';
import type { DeviceLinkStore } from './deviceLinkStore.ts';
import { RelayRequestError, type RelayClient } from './relayClient.ts';

export interface ApproveOptions extends LinkRelayOptions {
  /** This profile's workspaces (the CLI profile, or the browser's IndexedDB). */
  store: DeviceLinkStore;
  vault: UnlockedVault;
  code: string;
  /** The relay carrying the mailbox (default: the relay of this profile's workspaces). */
  relayUrl?: string;
  /** How long to wait for the new device's enrolment (default 2 minutes). */
  waitMs?: number;
  /** Called once this device's offer is at the relay: the device about to be added. */
  onRequest?: (deviceId: string) => void;
}

export interface Approved {
  deviceId: string;
  userId: string;
  workspaces: { workspaceId: string; name: string; index?: number; refused?: string }[];
}

interface Mine {
  stored: StoredWorkspace;
  state: WorkspaceState;
  relay: string;
}

export async function approveDeviceLink(o: ApproveOptions): Promise<Result<Approved, LinkFailure>> {
  const now = o.now ?? Date.now;
  const mb = linkMailboxOf(o.code);
  if (!mb.ok) return fail('link_code_invalid');
  const keys = deviceKeysOfVault(o.vault);

  // Every workspace where this device is active, holds the current key and has a relay.
  const mine: Mine[] = [];
  let all: StoredWorkspace[];
  try {
    all = await o.store.list();
  } catch (e) {
    return fail('storage_unavailable', e instanceof Error ? e.message : String(e));
  }
  for (const stored of all) {
    const st = replayLog(stored.entries);
    if (!st.ok || !isActiveDevice(st.value, keys.deviceId) || !stored.epochKeys.has(st.value.epoch) || !stored.meta.relay) continue;
    mine.push({ stored, state: withNames(st.value, stored.epochKeys), relay: stored.meta.relay });
  }
  if (mine.length === 0) return fail('link_no_workspace');
  const userId = mine[0]!.state.devices.get(keys.deviceId)!.userId;
  const relayUrl = o.relayUrl ?? mine[0]!.relay;

  const c = await connectAs(o.vault, relayUrl, o);
  if (!c.ok) return c;
  const clients = new Map<string, RelayClient>([[relayUrl, c.value]]);
  try {
    const client = c.value;
    let requestBytes: Uint8Array | undefined;
    try {
      requestBytes = await client.getMailbox(mb.value.boxId, 'request');
    } catch (e) {
      return fail('relay_unreachable', e instanceof Error ? e.message : String(e));
    }
    if (!requestBytes) return fail('link_code_unknown');
    const request = openLinkMessage(mb.value, 'request', requestBytes);
    if (!request.ok) return fail('link_refused', `${describeRejection(request.reason)} (${request.reason})`);
    const asked = request.value.device;
    // Already answered by some device: refuse before syncing anything (the write-once slot decides a race).
    try {
      if (await client.getMailbox(mb.value.boxId, 'offer')) return fail('link_code_used');
    } catch (e) {
      return fail('relay_unreachable', e instanceof Error ? e.message : String(e));
    }

    // Syncing first puts each log at the relay's head, so the add_device entry lands on it.
    const offered: Mine[] = [];
    for (const m of mine) {
      if (m.state.devices.get(keys.deviceId)!.userId !== userId) continue;
      await o.store.refresh?.(m.stored.workspaceId, m.relay).catch(() => undefined);
      offered.push(m);
    }
    const offer: LinkMessage<'offer'> = {
      userId,
      workspaces: await Promise.all(offered.map(async (m) => ({
        workspaceId: m.stored.workspaceId, name: m.state.name, relay: m.relay,
        ...(await pinnedRelayPub(o.store, m.stored.workspaceId)),
      }))),
    };
    try {
      await client.putMailbox(mb.value.boxId, 'offer', sealLinkMessage(mb.value, 'offer', offer));
    } catch (e) {
      if (e instanceof RelayRequestError && e.code === 'mailbox_taken') return fail('link_code_used');
      if (e instanceof RelayRequestError && e.code === 'not_found') return fail('link_code_unknown');
      return fail('relay_unreachable', e instanceof Error ? e.message : String(e));
    }
    o.onRequest?.(asked.deviceId);
    const enrol = await waitForStep(client, mb.value, 'enrol', now() + (o.waitMs ?? 120_000), o);
    if (!enrol.ok) return enrol;

    const results: Approved['workspaces'] = [];
    for (const m of offered) {
      const wsId = m.stored.workspaceId;
      const refuse = (why: string) => results.push({ workspaceId: wsId, name: m.state.name, refused: why });
      const req = enrol.value.requests.find((r) => r.workspaceId === wsId);
      if (!req) {
        refuse('the new device sent no enrolment for this workspace');
        continue;
      }
      const checked = verifyDeviceLinkRequest(o.code, wsId, userId, req);
      if (!checked.ok) {
        refuse(`${describeRejection(checked.reason)} (${checked.reason})`);
        continue;
      }
      // The device enrolled must be the one that asked (and that the person was shown).
      if (req.device.deviceId !== asked.deviceId || req.device.signingPub !== asked.signingPub || req.device.boxPub !== asked.boxPub) {
        refuse(`${describeRejection('device_link_invalid')} (device_link_invalid)`);
        continue;
      }
      const r = await appendAddDevice(o, clients, m.relay, wsId, checked.value);
      if (!r.ok) refuse(r.detail ?? r.reason);
      else results.push({ workspaceId: wsId, name: m.state.name, index: r.value });
    }
    try {
      await client.putMailbox(mb.value.boxId, 'done', sealLinkMessage(mb.value, 'done', {
        workspaces: results.map((r) => ({ workspaceId: r.workspaceId, ...(r.index !== undefined ? { index: r.index } : {}), ...(r.refused ? { refused: r.refused } : {}) })),
      }));
    } catch (e) {
      return fail('relay_unreachable', `added the device, but could not tell it: ${e instanceof Error ? e.message : String(e)}`);
    }
    if (!results.some((r) => r.index !== undefined)) return fail('link_refused', results.map((r) => `${r.name}: ${r.refused}`).join('; '));
    return ok({ deviceId: asked.deviceId, userId, workspaces: results });
  } finally {
    for (const cl of clients.values()) cl.close();
  }
}

async function pinnedRelayPub(store: DeviceLinkStore, workspaceId: string): Promise<{ relayPub?: string }> {
  const pub = await store.pinnedRelayPub(workspaceId).catch(() => undefined);
  return pub ? { relayPub: pub } : {};
}

/** Build add_device on the stored (just synced) log, append it at the relay, then keep it locally. */
async function appendAddDevice(
  o: ApproveOptions,
  clients: Map<string, RelayClient>,
  relay: string,
  workspaceId: string,
  checked: Extract<ReturnType<typeof verifyDeviceLinkRequest>, { ok: true }>['value'],
): Promise<Result<number, LinkFailure>> {
  const keys = deviceKeysOfVault(o.vault);
  const stored = (await o.store.list().catch(() => [])).find((w) => w.workspaceId === workspaceId);
  const st = stored && replayLog(stored.entries);
  if (!stored || !st?.ok) return fail('storage_unavailable', 'the workspace no longer loads');
  const state = st.value;
  if (isActiveDevice(state, checked.device.deviceId)) return fail('link_refused', 'that device is already in the workspace');
  const key = stored.epochKeys.get(state.epoch);
  if (!key) return fail('link_refused', `this device does not hold the key for epoch ${state.epoch} (sync first)`);
  let client = clients.get(relay);
  if (!client) {
    const c = await connectAs(o.vault, relay, o);
    if (!c.ok) return c;
    clients.set(relay, (client = c.value));
  }
  const c = client;
  let r;
  try {
    const head = (await pullChain(c, workspaceId, state, c.relayPub, c.relayNow())).state ?? state;
    r = await appendAtHead(c, workspaceId, head, c.relayPub, (st, at) => ok(addDevice(st, keys, key, checked.device, checked.deviceSig, at).bytes), () => c.relayNow());
  } catch (e) {
    return fail('link_refused', `the relay refused the add_device entry: ${e instanceof Error ? e.message : String(e)}`);
  }
  if (!r.ok) return fail('link_refused', `the relay refused the add_device entry: ${describeAppendFailure(r)}`);
  const entries = logEntries(r.value.state);
  // The entry is at the relay already; keeping it here too only saves a pull (the next sync brings it).
  const kept = await o.store.update(workspaceId, (latest) => ({ ...latest, entries })).catch(() => false);
  if (!kept) await o.store.save({ ...stored, entries }).catch(() => undefined);
  return ok(r.value.index);
}

