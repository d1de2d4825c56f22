// The offline workspace and device commands end to end through bin/cloister.js: alice creates a
// workspace, invites, bob joins (through the library, as the relay is not involved here), alice
// revokes bob's device and removes him, and every step shows in `workspace members`.
import { describe, expect, it } from 'vitest';
import { MIN_KDF } from '../../src/crypto/argon2.ts';
import { unlockVault } from '../../src/identity/vault/unlockVault.ts';
import { parseInvitationToken } from '../../src/identity/workspace/invitation.ts';
import { buildJoin } from '../../src/identity/workspace/invitations.ts';
import { appendEntry, logEntries, replayLog } from '../../src/identity/workspace/log.ts';
import { loadWorkspace, saveWorkspace } from '../../src/identity/workspace/store.ts';
import { device } from '../identity/workspace/fixtures.ts';
import { cloister, expectOneLineError, init, tempHome } from './run.ts';
import { integrationTimeouts } from '../timeouts.ts';

integrationTimeouts();

const PW = 'correct horse';

describe('cloister workspace / device', () => {
  it('alice creates a workspace, invites bob, revokes his device and removes him', async () => {
    const home = tempHome();
    init(home, PW);
    const as = (...args: string[]) => cloister([...args, '--home', home, '--password-stdin'], `${PW}\n`);

    const created = as('workspace', 'create', 'Household', '--relay', 'ws://127.0.0.1:8787', '--json');
    expect(created.code, created.stderr).toBe(0);
    const { workspaceId } = JSON.parse(created.stdout) as { workspaceId: string };

    const invite = as('workspace', 'invite', '--role', 'writer', '--expires', '2d', '--json');
    expect(invite.code, invite.stderr).toBe(0);
    const { code } = JSON.parse(invite.stdout) as { code: string };
    const token = parseInvitationToken(code);
    expect(token.ok && token.value.workspaceId).toBe(workspaceId);
    expect(token.ok && token.value.code).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);

    // bob joins; here we play the relay's part by writing his join into alice's store
    const vault = await unlockVault(home, PW, { kdf: MIN_KDF });
    if (!vault.ok) throw new Error(vault.reason);
    const stored = loadWorkspace(home, vault.value.dataKey, workspaceId);
    if (!stored.ok || !token.ok) throw new Error('store');
    const state = replayLog(stored.value.entries);
    if (!state.ok) throw new Error(state.reason);
    const bob = device('bob');
    const join = buildJoin(state.value, token.value.code, bob, Date.now());
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
    expect(JSON.parse(revoke.stdout)).toEqual({ revoked: bob.deviceId, epoch: 1 });

    const remove = as('workspace', 'remove', 'bob', '--json');
    expect(remove.code, remove.stderr).toBe(0);
    expect(JSON.parse(remove.stdout)).toEqual({ removed: 'bob', epoch: 2 });

    const after = JSON.parse(as('workspace', 'members', '--json').stdout) as { userId: string; removed: boolean }[];
    expect(after.find((m) => m.userId === 'bob')?.removed).toBe(true);

    expectOneLineError(as('workspace', 'remove', 'carol'), /no current member carol/);
    expectOneLineError(as('workspace', 'invite', '--role', 'writer', '--expires', 'soon'), /--expires must be a duration/);
  });

  it('workspace commands in a profile without a workspace say so in one line', () => {
    const home = tempHome();
    init(home, PW);
    expectOneLineError(cloister(['workspace', 'members', '--home', home, '--password-stdin'], `${PW}\n`), /no workspace yet/);
  });
});
