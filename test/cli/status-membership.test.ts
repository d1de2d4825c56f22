// `cloister status` shows what a person must know about the membership log: offline membership
// changes (an invitation made while the relay is unreachable stays pending and is listed, in text and
// --json), a change the chain no longer allows (failed, with its reason), and the fork alarm first,
// on one line, when the relay was caught forking the log (syncing stopped, evidence in --json).
import { describe, expect, it } from 'vitest';
import { MIN_KDF } from '../../src/crypto/argon2.ts';
import { openRecordSession } from '../../src/docs/openSession.ts';
import { unlockVault } from '../../src/identity/vault/unlockVault.ts';
import { loadWorkspace, saveWorkspace } from '../../src/identity/workspace/store.ts';
import { integrationTimeouts } from '../timeouts.ts';
import { STRONG_PASSWORD } from '../passwords.ts';
import { cloister, init, tempHome } from './run.ts';

integrationTimeouts();

const PW = STRONG_PASSWORD;

interface StatusJson {
  fork: { index: number; detectedAt: string; detail: string; ours: string; theirs: string; syncStopped: boolean } | null;
  intents: { id: string; status: string; action: string; description: string; reason?: string; reasonText?: string }[];
}

describe('cloister status: membership', () => {
  it('lists a pending invitation made while the relay is unreachable, a failed change with its reason, and the fork alarm', async () => {
    const home = tempHome();
    init(home, PW);
    const as = (...args: string[]) => cloister([...args, '--home', home, '--password-stdin'], `${PW}\n`);

    const created = as('workspace', 'create', 'Clinic', '--relay', 'ws://127.0.0.1:9', '--json');
    expect(created.code, created.stderr).toBe(0);
    const { workspaceId } = JSON.parse(created.stdout) as { workspaceId: string };

    const invite = as('workspace', 'invite', '--role', 'writer', '--json');
    expect(invite.code, invite.stderr).toBe(0);
    expect((JSON.parse(invite.stdout) as { status: string }).status).toBe('pending');

    let r = as('status', '--json');
    expect(r.code, r.stderr).toBe(0);
    let st = JSON.parse(r.stdout) as StatusJson;
    expect(st.fork).toBeNull();
    expect(st.intents).toHaveLength(1);
    expect(st.intents[0]).toMatchObject({ status: 'pending', action: 'invite' });
    expect(st.intents[0]!.description).toMatch(/^invite a writer/);
    expect(st.intents[0]!.reason).toBeUndefined();

    r = as('status');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^membership 1 change\(s\) waiting for the next sync$/m);
    expect(r.stdout).toMatch(/^ {2}pending {2}invite a writer/m);
    expect(r.stdout).not.toMatch(/FORK/);

    // A failed change (as a sync leaves it) and fork evidence in the sync state (as a sync keeps it).
    const vault = await unlockVault(home, PW, { kdf: MIN_KDF });
    if (!vault.ok) throw new Error(vault.reason);
    const w = loadWorkspace(home, vault.value.dataKey, workspaceId);
    if (!w.ok) throw new Error(w.reason);
    saveWorkspace(home, vault.value.dataKey, {
      ...w.value,
      intents: [...(w.value.intents ?? []), { id: 'failed-one', createdAt: Date.now(), action: { kind: 'remove_member', member: 'someone' }, status: 'failed', reason: 'member_unknown' }],
    });
    const s = await openRecordSession({ home, vault: vault.value });
    if (!s.ok) throw new Error(s.reason);
    const detectedAt = Date.now() - 60_000; // a minute ago, on the real clock
    await s.value.syncState.update((x) => {
      x.fork = { index: 3, ours: 'AAAA', theirs: 'BBBB', detail: 'two different entries are countersigned for one index', detectedAt };
    });
    await s.value.close();

    r = as('status', '--json');
    expect(r.code, r.stderr).toBe(0);
    st = JSON.parse(r.stdout) as StatusJson;
    expect(st.fork).toEqual({ index: 3, detectedAt: new Date(detectedAt).toISOString(), detail: 'two different entries are countersigned for one index', ours: 'AAAA', theirs: 'BBBB', syncStopped: true });
    expect(st.intents.map((i) => [i.status, i.action])).toEqual([['pending', 'invite'], ['failed', 'remove_member']]);
    expect(st.intents[1]).toMatchObject({ id: 'failed-one', reason: 'member_unknown', description: 'remove member someone' });
    expect(st.intents[1]!.reasonText).toMatch(/member_unknown/);

    r = as('status');
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toMatch(new RegExp(`^FORK ALARM: .*index 3, detected ${new Date(detectedAt).toISOString().replace(/\./g, '\\.')}.*Syncing this workspace is stopped`));
    expect(lines.filter((l) => /FORK/.test(l))).toHaveLength(1);
    expect(r.stdout).toMatch(/^membership 1 change\(s\) waiting for the next sync, 1 no longer valid \(not applied\)$/m);
    expect(r.stdout).toMatch(/^ {2}failed {3}remove member someone: .*member_unknown/m);
  });
});
