// Team administration as the web app does it (src/app/admin), over the browser's sealed workspace store
// (fake-indexeddb): a workspace created offline under the founder's display name, invitations and
// removals kept as pending intents described with names, a change the chain would refuse refused at
// once with its reason (and nothing kept), and a writer who sees the team but may change nothing.
import { IDBFactory } from 'fake-indexeddb';
import { afterAll, describe, expect, it } from 'vitest';
import { createWorkspaceInBrowser, dismissFailedIntent, inviteFromBrowser, loadBrowserWorkspace, recordBrowserIntent } from '../../src/app/admin/browserAdmin.ts';
import { describeChange, teamOf } from '../../src/app/admin/teamModel.ts';
import { saveBrowserWorkspace } from '../../src/app/browserWorkspaceStore.ts';
import { idbBytesStore } from '../../src/identity/vault/idbBytes.ts';
import { deviceKeysOfVault } from '../../src/identity/vault/deviceKeys.ts';
import { parseInvitationToken } from '../../src/identity/workspace/invitation.ts';
import { buildJoin, createInvitation } from '../../src/identity/workspace/invitations.ts';
import { appendEntry, logEntries } from '../../src/identity/workspace/log.ts';
import { withNames } from '../../src/identity/workspace/names.ts';
import { device } from '../identity/workspace/fixtures.ts';
import { cleanupDirs, makeUser } from '../sync/helpers.ts';

afterAll(cleanupDirs);

const RELAY = 'ws://127.0.0.1:9/';
const storeOf = () => idbBytesStore('cloister-workspaces', new IDBFactory());

describe('team administration in the browser', () => {
  it('a workspace created offline keeps its relay and the founder’s display name, and the founder is its admin', async () => {
    const alice = await makeUser('alice');
    const store = storeOf();
    const created = await createWorkspaceInBrowser(store, alice.vault, { name: ' Ward 7 ', displayName: 'Alice Admin', relayUrl: RELAY });
    if (!created.ok) throw new Error(created.reason);
    const ws = await loadBrowserWorkspace(store, alice.vault, created.value.workspaceId);
    if (!ws.ok) throw new Error(ws.reason);
    expect(ws.value.state.name).toBe('Ward 7');
    expect(ws.value.stored.meta.relay).toBe(RELAY);
    const team = teamOf(ws.value.state, [], alice.vault.device.deviceId, alice.vault.userId);
    expect(team.isAdmin).toBe(true);
    expect(team.me).toMatchObject({ label: 'Alice Admin', hasName: true, role: 'admin', you: true });
    expect(team.me!.devices).toEqual([{ deviceId: alice.vault.device.deviceId, revoked: false, thisDevice: true }]);
  });

  it('a bad workspace name, display name or relay address is refused before anything is stored', async () => {
    const alice = await makeUser('alice');
    const store = storeOf();
    const refuse = async (o: Parameters<typeof createWorkspaceInBrowser>[2], reason: string) => {
      const r = await createWorkspaceInBrowser(store, alice.vault, o);
      expect(r.ok ? 'created' : r.reason).toBe(reason);
    };
    await refuse({ name: '   ' }, 'workspace_name_invalid');
    await refuse({ name: 'Ward', displayName: 'Eve\u0000' }, 'display_name_invalid');
    await refuse({ name: 'Ward', relayUrl: 'http://example.org/x' }, 'relay_url_invalid');
    expect(await store.keys()).toEqual([]);
  });

  it('an invitation made offline is a pending intent, said in words, and its code names the workspace', async () => {
    const alice = await makeUser('alice');
    const store = storeOf();
    const created = await createWorkspaceInBrowser(store, alice.vault, { name: 'Ward 7', relayUrl: RELAY });
    if (!created.ok) throw new Error(created.reason);
    const id = created.value.workspaceId;
    const inv = await inviteFromBrowser(store, alice.vault, id, { role: 'reader', ttlMs: 86_400_000, uses: 3 });
    if (!inv.ok) throw new Error(inv.reason);
    const token = parseInvitationToken(inv.value.code);
    expect(token.ok && token.value.workspaceId).toBe(id);
    const ws = await loadBrowserWorkspace(store, alice.vault, id);
    if (!ws.ok) throw new Error(ws.reason);
    expect(ws.value.stored.intents?.map((i) => [i.status, i.action.kind])).toEqual([['pending', 'invite']]);
    expect(ws.value.state.order).toHaveLength(1); // nothing is in the log before the relay sequences it
    const team = teamOf(ws.value.state, ws.value.stored.intents ?? [], alice.vault.device.deviceId, alice.vault.userId);
    expect(team.changes).toEqual([{ id: inv.value.intent.id, status: 'pending', text: expect.stringMatching(/^Invite a reader \(up to 3 people, until /) }]);
  });

  it('a change the chain would refuse is refused at once with its reason, and nothing is kept', async () => {
    const alice = await makeUser('alice');
    const store = storeOf();
    const created = await createWorkspaceInBrowser(store, alice.vault, { name: 'Ward 7', relayUrl: RELAY });
    if (!created.ok) throw new Error(created.reason);
    const id = created.value.workspaceId;
    const r = await recordBrowserIntent(store, alice.vault, id, { kind: 'remove_member', member: 'nobody-here' });
    expect(r.ok ? 'kept' : r.reason).toBe('member_unknown');
    const ws = await loadBrowserWorkspace(store, alice.vault, id);
    expect(ws.ok && (ws.value.stored.intents ?? [])).toEqual([]);
  });

  it('a refused intent stays listed with its reason until dismissed; a pending one can’t be dismissed', async () => {
    const alice = await makeUser('alice');
    const store = storeOf();
    const created = await createWorkspaceInBrowser(store, alice.vault, { name: 'Ward 7', relayUrl: RELAY });
    if (!created.ok) throw new Error(created.reason);
    const id = created.value.workspaceId;
    const inv = await inviteFromBrowser(store, alice.vault, id, { role: 'writer', ttlMs: 3_600_000, uses: 1 });
    if (!inv.ok) throw new Error(inv.reason);
    let ws = await loadBrowserWorkspace(store, alice.vault, id);
    if (!ws.ok) throw new Error(ws.reason);
    // What the sync engine does when the chain refuses an intent: it marks it failed with the reason.
    const failed = { ...inv.value.intent, status: 'failed' as const, reason: 'invitation_expired' };
    await saveBrowserWorkspace(store, alice.vault.dataKey, { ...ws.value.stored, intents: [failed] });
    ws = await loadBrowserWorkspace(store, alice.vault, id);
    if (!ws.ok) throw new Error(ws.reason);
    const team = teamOf(ws.value.state, ws.value.stored.intents ?? [], alice.vault.device.deviceId, alice.vault.userId);
    expect(team.changes[0]).toMatchObject({ status: 'failed', why: expect.stringMatching(/\(invitation_expired\)$/) });

    const pending = await inviteFromBrowser(store, alice.vault, id, { role: 'writer', ttlMs: 3_600_000, uses: 1 });
    if (!pending.ok) throw new Error(pending.reason);
    await dismissFailedIntent(store, alice.vault, id, pending.value.intent.id); // pending: stays
    await dismissFailedIntent(store, alice.vault, id, failed.id);
    ws = await loadBrowserWorkspace(store, alice.vault, id);
    expect(ws.ok && ws.value.stored.intents?.map((i) => i.status)).toEqual(['pending']);
  });

  it('a writer sees every member by name but may change nothing; changes about members are said with their names', async () => {
    const alice = await makeUser('alice');
    const store = storeOf();
    const created = await createWorkspaceInBrowser(store, alice.vault, { name: 'Ward 7', displayName: 'Alice Admin', relayUrl: RELAY });
    if (!created.ok) throw new Error(created.reason);
    const ws = await loadBrowserWorkspace(store, alice.vault, created.value.workspaceId);
    if (!ws.ok) throw new Error(ws.reason);
    const now = Date.now();
    const inv = createInvitation(ws.value.state, deviceKeysOfVault(alice.vault), created.value.epochKey, { role: 'writer', expiresAt: now + 3_600_000, now });
    const invited = appendEntry(ws.value.state, inv.entry.bytes, now);
    if (!invited.ok) throw new Error(invited.reason);
    const bea = device('bea-user', 'Bea Browser');
    const joined = buildJoin(invited.value, inv.code, bea, now);
    if (!joined.ok) throw new Error(joined.reason);
    const state = appendEntry(invited.value, joined.value.entry.bytes, now);
    if (!state.ok) throw new Error(state.reason);
    const named = withNames(state.value, ws.value.stored.epochKeys);
    expect(logEntries(named)).toHaveLength(3);

    const asBea = teamOf(named, [], bea.deviceId, 'bea-user');
    expect(asBea.isAdmin).toBe(false);
    expect(asBea.members.map((m) => [m.label, m.role, m.you])).toEqual([
      ['Alice Admin', 'admin', false],
      ['Bea Browser', 'writer', true],
    ]);
    expect(describeChange(named, { kind: 'remove_member', member: 'bea-user' })).toBe('Remove Bea Browser');
    expect(describeChange(named, { kind: 'set_role', member: 'bea-user', role: 'admin' })).toBe('Make Bea Browser an admin');
    expect(describeChange(named, { kind: 'revoke_device', device: bea.deviceId })).toBe(`Revoke device ${bea.deviceId.slice(0, 8)} of Bea Browser`);
  });
});
