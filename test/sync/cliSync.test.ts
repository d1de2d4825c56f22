// The CLI end to end through a relay: alice inits, creates a workspace with --relay, adds a record and
// syncs; bob joins with exactly what `workspace invite --json` printed, syncs, and lists the record.
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cloister, init, tempHome } from '../cli/run.ts';
import { cleanupDirs, spawnRelay, tempDir } from './helpers.ts';
import { integrationTimeouts } from '../timeouts.ts';
import { strongPassword } from '../passwords.ts';

integrationTimeouts();

afterAll(cleanupDirs);

describe('cloister sync, status and workspace join', () => {
  it('a second profile joins with the printed code, syncs, and sees the record', async () => {
    const relay = await spawnRelay(join(tempDir('cloister-relaydb-'), 'relay.sqlite'));
    try {
      const alice = tempHome();
      const bob = tempHome();
      init(alice, strongPassword('alice'));
      init(bob, strongPassword('bob'));
      const A = (args: string[]) => cloister([...args, '--home', alice, '--password-stdin'], `${strongPassword('alice')}\n`);
      const B = (args: string[]) => cloister([...args, '--home', bob, '--password-stdin'], `${strongPassword('bob')}\n`);

      expect(A(['workspace', 'create', 'team', '--relay', relay.url]).code).toBe(0);
      const add = A(['record', 'add', '--title', 'Wi-Fi', '--field', 'ssid=cloister', '--notes', 'guest network']);
      expect(add.code, add.stderr).toBe(0);
      const recordId = add.stdout.trim();
      const inv = A(['workspace', 'invite', '--role', 'writer', '--json']);
      expect(inv.code, inv.stderr).toBe(0);
      const { code, status: invited } = JSON.parse(inv.stdout) as { code: string; status: string };
      expect(invited).toBe('appended'); // the relay answered, so the invitation went out at once (with the workspace)

      const sync1 = A(['sync', '--json']);
      expect(sync1.code, sync1.stderr).toBe(0);
      const s1 = JSON.parse(sync1.stdout) as { acked: number; logSent: number; outbox: number; rejected: object };
      expect(s1.logSent).toBe(0);
      expect(s1.outbox).toBe(0);
      expect(s1.rejected).toEqual({});

      // The edits made before the first lease were re-sealed under it: history lists each change once.
      const hist = JSON.parse(A(['history', recordId, '--json']).stdout) as { entries: { verified: boolean; changes: number }[] };
      expect(hist.entries.every(e => e.verified)).toBe(true);
      expect(hist.entries).toHaveLength(1); // one envelope carried the record's creation (not also its pre-lease twin)

      const joined = B(['workspace', 'join', code, '--relay', relay.url]);
      expect(joined.code, joined.stderr).toBe(0);
      expect(joined.stderr).toMatch(/joined team as writer/);
      const sync2 = B(['sync']);
      expect(sync2.code, sync2.stderr).toBe(0);
      expect(sync2.stdout).toMatch(/^synced via ws:\/\//);

      const list = B(['record', 'list', '--json']);
      expect(list.code, list.stderr).toBe(0);
      expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ id: recordId, title: 'Wi-Fi' })]);
      const show = B(['record', 'show', recordId, '--json']);
      expect(JSON.parse(show.stdout)).toMatchObject({ fields: { ssid: 'cloister' }, notes: 'guest network' });

      const status = B(['status', '--json']);
      expect(status.code, status.stderr).toBe(0);
      const st = JSON.parse(status.stdout) as { relay: string; outbox: number; quarantine: unknown[]; offlineRemainingMs: number; cursor: number };
      expect(st).toMatchObject({ relay: relay.url, outbox: 0, quarantine: [] });
      expect(st.offlineRemainingMs).toBeGreaterThan(0);
      expect(st.cursor).toBeGreaterThan(0);

      // A second join with the same (single-use) code is refused in one line.
      const carol = tempHome();
      init(carol, strongPassword('carol'));
      const again = cloister(['workspace', 'join', code, '--relay', relay.url, '--home', carol, '--password-stdin'], `${strongPassword('carol')}\n`);
      expect(again.code).not.toBe(0);
      expect(again.stderr.trim().split('\n')).toHaveLength(1);
      expect(again.stderr).toMatch(/^cloister: .*invitation/);
    } finally {
      await relay.stop();
    }
  });
});
