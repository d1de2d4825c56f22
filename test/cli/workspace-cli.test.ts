// The offline workspace and device commands end to end through bin/cloister.js: alice creates a
// workspace, invites, bob joins (through the library, as the relay is not involved here), alice
// revokes bob's device and removes him, and every step shows in `workspace members`.
import { describe, expect, it } from 'vitest';
import { MIN_KDF } from '../../src/crypto/argon2.ts';
import { unlockVault } from '../../src/identity/vault/unlockVault.ts';
import { parseInvitationToken } from '../../src/identity/workspace/invitation.ts';
import { buildJoin, createInvitation } from '../../src/identity/workspace/invitations.ts';
import { deviceKeysOfVault } from '../../src/identity/vault/deviceKeys.ts';
import { appendEntry, logEntries, replayLog } from '../../src/identity/workspace/log.ts';
import { loadWorkspace, saveWorkspace } from '../../src/identity/workspace/store.ts';
import { device } from '../identity/workspace/fixtures.ts';
import { cloister, expectOneLineError, init, tempHome } from './run.ts';
import { integrationTimeouts } from '../timeouts.ts';
import { STRONG_PASSWORD } from '../passwords.ts';

integrationTimeouts();

const PW = STRONG_PASSWORD;

describe('cloister workspace / device', () => {
  it('alice, offline, invites, revokes bob’s device and removes him: each change is kept as a pending intent and listed', async () => {
    const home = tempHome();
    init(home, PW);
    const as = (...args: string[]) => cloister([...args, '--home', home, '--password-stdin'], `${PW}\n`);

    const created = as('workspace', 'create', 'Household', '--relay', 'ws://127.0.0.1:9', '--json'); // nothing listens there: offline
    expect(created.code, created.stderr).toBe(0);
    const { workspaceId } = JSON.parse(created.stdout) as { workspaceId: string };

    const invite = as('workspace', 'invite', '--role', 'writer', '--expires', '2d', '--json');
    expect(invite.code, invite.stderr).toBe(0);
    const { code, status } = JSON.parse(invite.stdout) as { code: string; status: string };
    expect(status).toBe('pending');
    const token = parseInvitationToken(code);
    expect(token.ok && token.value.workspaceId).toBe(workspaceId);
    expect(token.ok && token.value.code).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);

    // bob joins; here we play the relay's part by writing an invitation and his join into alice's chain
    const vault = await unlockVault(home, PW, { kdf: MIN_KDF });
    if (!vault.ok) throw new Error(vault.reason);
    const stored = loadWorkspace(home, vault.value.dataKey, workspaceId);
    if (!stored.ok || !token.ok) throw new Error('store');
    expect(stored.value.intents?.map((i) => [i.status, i.action.kind])).toEqual([['pending', 'invite']]);
    const replayed = replayLog(stored.value.entries);
    if (!replayed.ok) throw new Error(replayed.reason);
    const inv = createInvitation(replayed.value, deviceKeysOfVault(vault.value), stored.value.epochKeys.get(0)!, { role: 'writer', expiresAt: Date.now() + 3600_000, now: Date.now() });
    const state = appendEntry(replayed.value, inv.entry.bytes, Date.now());
    if (!state.ok) throw new Error(state.reason);
    // A device id may start with '-' (1 in 64), which a command line reads as an option; this story
    // types bob's id the plain way, so it takes a device whose id doesn't.
    let bob = device('bob');
    while (bob.deviceId.startsWith('-')) bob = device('bob');
    const join = buildJoin(state.value, inv.code, bob, Date.now());
    if (!join.ok) throw new Error(join.reason);
    const joined = appendEntry(state.value, join.value.entry.bytes, Date.now());
    if (!joined.ok) throw new Error(joined.reason);
    saveWorkspace(home, vault.value.dataKey, { ...stored.value, entries: logEntries(joined.value) });

    const before = as('workspace', 'members', '--json');
    expect(before.code, before.stderr).toBe(0);
    expect((JSON.parse(before.stdout) as { userId: string; role: string }[]).map((m) => [m.userId === vault.value.userId ? 'alice' : m.userId, m.role])).toEqual([
      ['alice', 'admin'],
      ['bob', 'writer'],
    ]);

    const revoke = as('device', 'revoke', bob.deviceId.slice(0, 10), '--json');
    expect(revoke.code, revoke.stderr).toBe(0);
    expect(JSON.parse(revoke.stdout)).toEqual({ revoked: bob.deviceId, status: 'pending', epoch: 0 });
    expect(revoke.stderr).toMatch(/pending; it reaches the relay at the next sync/);

    const remove = as('workspace', 'remove', 'bob', '--json');
    expect(remove.code, remove.stderr).toBe(0);
    expect(JSON.parse(remove.stdout)).toEqual({ removed: 'bob', status: 'pending', epoch: 0 });

    // Nothing takes effect before the relay sequences it; members lists what is pending.
    const after = as('workspace', 'members', '--json');
    expect((JSON.parse(after.stdout) as { userId: string; removed: boolean }[]).find((m) => m.userId === 'bob')?.removed).toBe(false);
    expect(after.stderr).toMatch(/pending: remove member bob/);
    expect(after.stderr).toMatch(/pending: revoke device/);
    expect(after.stderr).toMatch(/pending: invite a writer/);

    expectOneLineError(as('workspace', 'remove', 'carol'), /no current member carol/);
    expectOneLineError(as('workspace', 'invite', '--role', 'writer', '--expires', 'soon'), /--expires must be a duration/);
  });

  it('workspace commands in a profile without a workspace say so in one line', () => {
    const home = tempHome();
    init(home, PW);
    expectOneLineError(cloister(['workspace', 'members', '--home', home, '--password-stdin'], `${PW}\n`), /no workspace yet/);
  });
});
