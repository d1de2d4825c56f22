// Two nurses on the command line, through a real relay: they set the same dose offline and see one
// value plus a visible conflict (never "105mg"), resolve it, and one learns that the other deleted a
// record she had edited; the trash brings it back with her edit inside.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cloister, init, tempHome } from '../cli/run.ts';
import { integrationTimeouts } from '../timeouts.ts';
import { cleanupDirs, spawnRelay, tempDir } from './helpers.ts';
import { strongPassword } from '../passwords.ts';

integrationTimeouts();
afterAll(cleanupDirs);

describe('records through the command line and a relay', () => {
  it('two people set the dose at once: one value shows, the other is a visible conflict; resolve settles it; a delete is announced and restorable', async () => {
    const relay = await spawnRelay(join(tempDir('cloister-relaydb-'), 'relay.sqlite'));
    try {
      const alice = tempHome();
      const bob = tempHome();
      init(alice, strongPassword('alice'));
      init(bob, strongPassword('bob'));
      const run = (home: string, pw: string) => (args: string[]) => {
        const r = cloister([...args, '--home', home, '--password-stdin'], `${pw}\n`);
        expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0);
        return r;
      };
      const A = run(alice, strongPassword('alice'));
      const B = run(bob, strongPassword('bob'));
      A(['workspace', 'create', 'ward', '--relay', relay.url]);
      const id = A(['record', 'add', '--title', 'Bed 4', '--field', 'dose=2mg', '--field', 'room=4']).stdout.trim();
      const { code } = JSON.parse(A(['workspace', 'invite', '--role', 'writer', '--json']).stdout) as { code: string };
      A(['sync']);
      B(['workspace', 'join', code, '--relay', relay.url]);
      B(['sync']);
      const members = JSON.parse(B(['workspace', 'members', '--json']).stdout) as { userId: string; role: string }[];
      const bobId = members.find(m => m.role === 'writer')!.userId;

      // Offline, both change the dose and the room.
      A(['record', 'edit', id, '--field', 'dose=5mg', '--field', 'room=6']);
      B(['record', 'edit', id, '--field', 'dose=10mg', '--field', 'room=5']);
      A(['sync']);
      B(['sync']);
      A(['sync']);
      const show = (X: typeof A) => JSON.parse(X(['record', 'show', id, '--json']).stdout) as { fields: Record<string, string>; conflicts: Record<string, string[]> };
      const a = show(A);
      const b = show(B);
      expect(a.fields).toEqual(b.fields);
      expect(a.conflicts).toEqual(b.conflicts);
      expect(['5mg', '10mg']).toContain(a.fields.dose);
      expect(a.conflicts['fields.dose']).toEqual([a.fields.dose === '5mg' ? '10mg' : '5mg']);
      expect(a.conflicts['fields.room']).toEqual([a.fields.room === '6' ? '5' : '6']);
      expect(A(['record', 'show', id]).stdout).toMatch(/dose: \d+mg {3}\[conflict: also "\d+mg"\]/);
      expect(A(['record', 'list']).stdout).toMatch(/Bed 4 {2}\(conflict\)/);

      // Bob resolves; alice sees it settled.
      B(['record', 'resolve', id, '--field', 'dose=5mg', '--field', 'room=6']);
      B(['sync']);
      A(['sync']);
      expect(show(A)).toMatchObject({ fields: { dose: '5mg', room: '6' }, conflicts: {} });

      // Alice edits offline while bob deletes; her sync tells her, and the trash has the record with her edit.
      A(['record', 'edit', id, '--notes', 'given at 14:00']);
      B(['record', 'rm', id]);
      B(['sync']);
      const told = A(['sync']);
      expect(told.stderr).toMatch(new RegExp(`${bobId} deleted "Bed 4" \\(${id}\\).*record restore ${id}`));
      expect(A(['record', 'list']).stdout).toBe('');
      expect(A(['record', 'list', '--deleted']).stdout).toMatch(new RegExp(`${id} {2}Bed 4 {2}\\(deleted\\)`));
      A(['record', 'restore', id]);
      A(['sync']);
      B(['sync']);
      expect(JSON.parse(B(['record', 'show', id, '--json']).stdout)).toMatchObject({ deleted: false, notes: 'given at 14:00', updatedBy: [expect.objectContaining({ userId: expect.any(String) })] });
    } finally {
      await relay.stop();
    }
  });
});
