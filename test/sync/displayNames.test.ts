// Display names through the CLI and a relay: alice creates a workspace as "Alice Archer", bob joins as
// "Bob Baker"; after a sync both see each other's names in `workspace members`, while the relay's copy
// of the log holds neither name in the clear (names are sealed under the epoch key). Bob renames
// himself with `workspace set-name`, and alice sees the new name after a sync.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cloister, expectOneLineError, init, tempHome } from '../cli/run.ts';
import { cleanupDirs, spawnRelay, tempDir } from './helpers.ts';
import { integrationTimeouts } from '../timeouts.ts';

integrationTimeouts();

afterAll(cleanupDirs);

const PW = 'correct horse battery staple';

describe('display names', () => {
  it('members see each other by the names they chose, and the relay stores no name in the clear', async () => {
    const dbDir = tempDir('cloister-relaydb-');
    const relay = await spawnRelay(join(dbDir, 'relay.sqlite'));
    try {
      const alice = tempHome();
      const bob = tempHome();
      init(alice, PW);
      init(bob, PW);
      const A = (args: string[]) => cloister([...args, '--home', alice, '--password-stdin'], `${PW}\n`);
      const B = (args: string[]) => cloister([...args, '--home', bob, '--password-stdin'], `${PW}\n`);

      const created = A(['workspace', 'create', 'Ward 7', '--relay', relay.url, '--display-name', 'Alice Archer']);
      expect(created.code, created.stderr).toBe(0);
      const inv = A(['workspace', 'invite', '--role', 'writer', '--json']);
      expect(inv.code, inv.stderr).toBe(0);
      const { code } = JSON.parse(inv.stdout) as { code: string };
      const joined = B(['workspace', 'join', code, '--relay', relay.url, '--display-name', '  Bob Baker ']);
      expect(joined.code, joined.stderr).toBe(0);
      expect(A(['sync']).code).toBe(0);

      for (const run of [A, B]) {
        const members = run(['workspace', 'members', '--json']);
        expect(members.code, members.stderr).toBe(0);
        expect((JSON.parse(members.stdout) as { name?: string; role: string }[]).map((m) => [m.name, m.role]).sort()).toEqual([
          ['Alice Archer', 'admin'],
          ['Bob Baker', 'writer'],
        ]);
        expect(run(['workspace', 'members']).stdout).toMatch(/^Alice Archer \(/m);
      }

      // Bob renames himself (a set_name entry); alice reads the new name after her next sync.
      const renamed = B(['workspace', 'set-name', 'Dr Bob Baker', '--json']);
      expect(renamed.code, renamed.stderr).toBe(0);
      expect(JSON.parse(renamed.stdout)).toEqual({ name: 'Dr Bob Baker', status: 'appended' });
      expect(A(['sync']).code).toBe(0);
      expect((JSON.parse(A(['workspace', 'members', '--json']).stdout) as { name?: string }[]).map((m) => m.name)).toEqual(['Alice Archer', 'Dr Bob Baker']);

      const stored = readFileSync(join(dbDir, 'relay.sqlite'));
      expect(stored.includes(Buffer.from('Alice Archer'))).toBe(false);
      expect(stored.includes(Buffer.from('Bob Baker'))).toBe(false);
      expect(stored.includes(Buffer.from('Dr Bob'))).toBe(false);
    } finally {
      await relay.stop();
    }
  });

  it('a display name with control characters or over 100 characters is refused before anything is created', () => {
    const home = tempHome();
    init(home, PW);
    const run = (name: string) => cloister(['workspace', 'create', 'Ward 7', '--display-name', name, '--home', home, '--password-stdin'], `${PW}\n`);
    expectOneLineError(run('Mallory\u0007'), /--display-name must be 1 to 100 characters/);
    expectOneLineError(run('x'.repeat(101)), /--display-name must be 1 to 100 characters/);
    expectOneLineError(run('   '), /--display-name must be 1 to 100 characters/);
    const list = cloister(['workspace', 'members', '--home', home, '--password-stdin'], `${PW}\n`);
    expect(list.code).not.toBe(0); // no workspace was created
  });
});
