// Device linking over its storage port (src/docs/sync/deviceLinkStore.ts): the same exchange links a
// new device whether it keeps its workspaces in a CLI profile (nodeDeviceLinkStore) or in the
// browser's encrypted IndexedDB (browserDeviceLinkStore, here over fake-indexeddb). Alice's laptop
// (a CLI profile) approves; each store must end up with the workspace, the device listed under
// alice's user, every epoch key, and the relay key the approver pinned.
import 'fake-indexeddb/auto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIN_KDF } from '../../src/crypto/argon2.ts';
import { approveDeviceLink, type Approved } from '../../src/docs/sync/approveDeviceLink.ts';
import type { LinkFailure } from '../../src/docs/sync/deviceLinkRelay.ts';
import type { DeviceLinkStore } from '../../src/docs/sync/deviceLinkStore.ts';
import { linkThisDevice } from '../../src/docs/sync/linkThisDevice.ts';
import { nodeDeviceLinkStore } from '../../src/docs/sync/nodeDeviceLinkStore.ts';
import type { Result } from '../../src/crypto/result.ts';
import { createVault } from '../../src/identity/vault/createVault.ts';
import { idbBytesStore } from '../../src/identity/vault/idbBytes.ts';
import type { UnlockedVault } from '../../src/identity/vault/types.ts';
import { replayLog } from '../../src/identity/workspace/log.ts';
import { loadWorkspace } from '../../src/identity/workspace/store.ts';
import { browserDeviceLinkStore } from '../../src/app/admin/browserDeviceLink.ts';
import { integrationTimeouts } from '../timeouts.ts';
import { cleanupDirs, createStoredWorkspace, makeUser, open, startTestRelay, syncUser, tempDir, type User } from './helpers.ts';

integrationTimeouts();

const FAST = { pollMs: 25 };

let relay: Awaited<ReturnType<typeof startTestRelay>>;
let alice: User;
let workspaceId: string;

beforeAll(async () => {
  relay = await startTestRelay();
  alice = await makeUser('alice');
  workspaceId = createStoredWorkspace(alice, 'Lighthouse crew', relay.url);
  const o = await open(alice, relay.url);
  try {
    await o.s.records.create({ title: 'Keeper rota', fields: { monday: 'alice' } });
    await o.engine.syncOnce();
  } finally {
    await o.close();
  }
});

afterAll(async () => {
  await relay?.close();
  cleanupDirs();
});

/** The new device asks with `store`; alice's laptop approves with the code it showed. */
async function linkWithApproval(vault: UnlockedVault, store: DeviceLinkStore) {
  let approved: Promise<Result<Approved, LinkFailure>> | undefined;
  const linked = await linkThisDevice({
    store, vault, relayUrl: relay.url, ...FAST,
    onCode: (code) => {
      approved = approveDeviceLink({ store: nodeDeviceLinkStore(alice.home, alice.vault), vault: alice.vault, code, ...FAST });
    },
  });
  return { linked, approved: await approved! };
}

const stores: [string, (vault: UnlockedVault) => DeviceLinkStore][] = [
  ['a CLI profile (nodeDeviceLinkStore)', (vault) => nodeDeviceLinkStore(tempDir('cloister-phone-'), vault)],
  ['the browser’s IndexedDB (browserDeviceLinkStore)', (vault) => browserDeviceLinkStore(vault, idbBytesStore(`cloister-workspaces-${vault.device.deviceId}`))],
];

describe.each(stores)('linking a new device that keeps its workspaces in %s', (_name, storeFor) => {
  it('stores the approver’s workspace with this device under alice’s user, its keys and the pinned relay key', async () => {
    const { vault } = await createVault(tempDir('cloister-newdevice-'), 'new device password', { kdf: MIN_KDF });
    const store = storeFor(vault);
    const { linked, approved } = await linkWithApproval(vault, store);

    expect(approved.ok && approved.value.workspaces).toEqual([{ workspaceId, name: 'Lighthouse crew', index: expect.any(Number) }]);
    expect(linked.ok, linked.ok ? '' : `${linked.reason} ${linked.detail}`).toBe(true);
    if (!linked.ok) return;
    expect(linked.value.userId).toBe(alice.vault.userId);
    expect(linked.value.workspaces.map((w) => [w.workspaceId, w.name, w.relay])).toEqual([[workspaceId, 'Lighthouse crew', relay.url]]);

    const [kept] = await store.list();
    expect(kept?.workspaceId).toBe(workspaceId);
    expect(kept?.meta.relay).toBe(relay.url);
    const st = replayLog(kept!.entries);
    expect(st.ok && st.value.devices.get(vault.device.deviceId)?.userId).toBe(alice.vault.userId);
    expect(st.ok && kept!.epochKeys.has(st.value.epoch)).toBe(true);
    expect(await store.pinnedRelayPub(workspaceId)).toBe(await nodeDeviceLinkStore(alice.home, alice.vault).pinnedRelayPub(workspaceId));

    // The approver kept its own add_device entry, so it knows the new device before its next pull.
    const laptop = loadWorkspace(alice.home, alice.vault.dataKey, workspaceId);
    const lst = laptop.ok ? replayLog(laptop.value.entries) : undefined;
    expect(lst?.ok && lst.value.devices.has(vault.device.deviceId)).toBe(true);
  });
});

describe('approving from the browser’s IndexedDB (browserDeviceLinkStore)', () => {
  it('alice’s browser approves a new CLI profile: it offers her workspace with its pinned relay key and keeps the add_device entry', async () => {
    // Alice's browser: her device, with a copy of her workspace and the relay key pinned, as after a join.
    const browser = browserDeviceLinkStore(alice.vault, idbBytesStore('cloister-workspaces-alice-approver'));
    const laptopCopy = loadWorkspace(alice.home, alice.vault.dataKey, workspaceId);
    if (!laptopCopy.ok) throw new Error(laptopCopy.reason);
    await browser.save(laptopCopy.value);
    const pinned = await nodeDeviceLinkStore(alice.home, alice.vault).pinnedRelayPub(workspaceId);
    expect(await browser.afterLink(workspaceId, { relayPub: pinned!, seenAt: Date.now() })).toEqual({ ok: true });

    const phone: User = await makeUser('tablet');
    let approved: Promise<Result<Approved, LinkFailure>> | undefined;
    const linked = await linkThisDevice({
      store: nodeDeviceLinkStore(phone.home, phone.vault), vault: phone.vault, relayUrl: relay.url, ...FAST,
      onCode: (code) => {
        approved = approveDeviceLink({ store: browser, vault: alice.vault, code: code.toLowerCase(), ...FAST });
      },
    });
    const a = await approved!;
    expect(a.ok && a.value.workspaces.map((w) => [w.name, typeof w.index])).toEqual([['Lighthouse crew', 'number']]);
    expect(linked.ok && linked.value.workspaces.map((w) => w.workspaceId)).toEqual([workspaceId]);
    const [kept] = await browser.list();
    const st = replayLog(kept!.entries);
    expect(st.ok && st.value.devices.get(phone.vault.device.deviceId)?.userId).toBe(alice.vault.userId);
  });
});

describe('device linking in the CLI profile, after the port refactor', () => {
  it('a linked CLI profile syncs alice’s records and writes as alice', async () => {
    const phone: User = await makeUser('phone');
    const { linked } = await linkWithApproval(phone.vault, nodeDeviceLinkStore(phone.home, phone.vault));
    expect(linked.ok).toBe(true);
    await syncUser(phone, relay.url);
    const o = await open(phone, relay.url);
    try {
      expect((await o.s.records.list()).map((r) => r.title)).toContain('Keeper rota');
      expect(o.s.session.device.userId).toBe(alice.vault.userId);
    } finally {
      await o.close();
    }
  });

  it('a profile that already has the workspace refuses it instead of overwriting its copy', async () => {
    const { vault } = await createVault(tempDir('cloister-twice-'), 'twice password', { kdf: MIN_KDF });
    const store = nodeDeviceLinkStore(tempDir('cloister-twice-home-'), vault);
    const laptopCopy = loadWorkspace(alice.home, alice.vault.dataKey, workspaceId);
    if (!laptopCopy.ok) throw new Error(laptopCopy.reason);
    await store.save(laptopCopy.value);
    const { linked } = await linkWithApproval(vault, store);
    expect(linked.ok && linked.value.refused).toEqual([{ workspaceId, reason: 'this profile already has that workspace' }]);
  });

  it('Cancel on the new device ends the wait at once with link_cancelled', async () => {
    const { vault } = await createVault(tempDir('cloister-cancel-'), 'cancel password', { kdf: MIN_KDF });
    const ctl = new AbortController();
    const r = await linkThisDevice({ store: nodeDeviceLinkStore(tempDir('cloister-cancel-home-'), vault), vault, relayUrl: relay.url, pollMs: 60_000, signal: ctl.signal, onCode: () => ctl.abort() });
    expect(r.ok ? 'linked' : r.reason).toBe('link_cancelled');
  });
});
