// Device linking from the CLI, end to end through a real relay: `device link` on a fresh profile of
// the same person prints a code and waits; `device approve CODE` on an existing device adds it. The
// phone then reads every record (from before and after a key rotation) and its edits reach bob.
// Refusals: a code used twice, and an expired code (an in-process relay whose clock we move).
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cloister, init, tempHome } from '../cli/run.ts';
import { CHILD_MS, integrationTimeouts } from '../timeouts.ts';
import { cleanupDirs, spawnRelay, startTestRelay, tempDir } from './helpers.ts';
import { strongPassword } from '../passwords.ts';

integrationTimeouts();
afterAll(cleanupDirs);

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'cloister.js');

/** A CLI process that keeps running (the waiting `device link`): its output lines as they come. */
function background(args: string[], password: string) {
  const proc: ChildProcess = spawn(process.execPath, [BIN, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, CLOISTER_HOME: undefined, CLOISTER_KDF: 'min' },
  });
  proc.stdin!.end(`${password}\n`);
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    proc.once('exit', (code) => resolve({ code, stdout, stderr })),
  );
  const firstLine = () =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no output: ${stderr}`)), CHILD_MS);
      const check = () => {
        const nl = stdout.indexOf('\n');
        if (nl >= 0) {
          clearTimeout(timer);
          resolve(stdout.slice(0, nl));
        }
      };
      proc.stdout!.on('data', check);
      proc.once('exit', () => reject(new Error(`exited before printing: ${stderr}`)));
      check();
    });
  return { proc, exited, firstLine };
}

/** Like cloister() but without blocking the event loop (for an in-process relay). */
async function run(args: string[], password: string) {
  const b = background(args, password);
  return b.exited;
}

describe('cloister device link / device approve', () => {
  it('alice links her phone profile with a code: the phone reads every record, including ones from before a key rotation, and its edits reach bob', async () => {
    const relay = await spawnRelay(join(tempDir('cloister-relaydb-'), 'relay.sqlite'));
    try {
      const [alice, bob, carol, phone] = [tempHome(), tempHome(), tempHome(), tempHome()];
      init(alice, strongPassword('alice'));
      init(bob, strongPassword('bob'));
      init(carol, strongPassword('carol'));
      init(phone, strongPassword('alice phone'));
      const as = (home: string, pw: string) => (args: string[]) => cloister([...args, '--home', home, '--password-stdin'], `${pw}\n`);
      const A = as(alice, strongPassword('alice'));
      const B = as(bob, strongPassword('bob'));
      const C = as(carol, strongPassword('carol'));
      const P = as(phone, strongPassword('alice phone'));
      const ok = (r: { code: number | null; stdout: string; stderr: string }) => {
        expect(r.code, r.stderr).toBe(0);
        return r.stdout;
      };

      ok(A(['workspace', 'create', 'family', '--relay', relay.url]));
      const before = ok(A(['record', 'add', '--title', 'Before rotation', '--field', 'pin=1234'])).trim();
      const codeOf = (out: string) => (JSON.parse(out) as { code: string }).code;
      const forBob = codeOf(ok(A(['workspace', 'invite', '--role', 'writer', '--json'])));
      const forCarol = codeOf(ok(A(['workspace', 'invite', '--role', 'reader', '--json'])));
      ok(A(['sync']));
      ok(B(['workspace', 'join', forBob, '--relay', relay.url]));
      ok(C(['workspace', 'join', forCarol, '--relay', relay.url]));
      ok(A(['sync']));
      // Removing carol rotates the key: "Before rotation" is sealed under epoch 0, "After rotation" under a later one.
      // A user id may start with '-': options first, then `--` before the id (as the CLI's error says).
      const carolId = (JSON.parse(ok(C(['unlock', '--json']))) as { userId: string }).userId;
      const removed = JSON.parse(ok(cloister(['workspace', 'remove', '--home', alice, '--password-stdin', '--json', '--', carolId], `${strongPassword('alice')}\n`))) as { epoch: number };
      expect(removed.epoch).toBeGreaterThan(0);
      const after = ok(A(['record', 'add', '--title', 'After rotation', '--notes', 'new key'])).trim();
      ok(A(['sync']));

      // The phone asks; alice approves on her laptop with the code it printed.
      const link = background(['device', 'link', '--relay', relay.url, '--json', '--home', phone, '--password-stdin'], strongPassword('alice phone'));
      const shown = JSON.parse(await link.firstLine()) as { code: string; deviceId: string; expiresInMs: number };
      expect(shown.code).toMatch(/^[0-9A-Z]{5}(-[0-9A-Z]{1,5}){5}$/);
      expect(shown.expiresInMs).toBeGreaterThan(9 * 60_000);
      const approved = A(['device', 'approve', shown.code, '--json']);
      expect(approved.code, approved.stderr).toBe(0);
      const a = JSON.parse(approved.stdout) as { deviceId: string; workspaces: { name: string; index?: number }[] };
      expect(a.deviceId).toBe(shown.deviceId);
      expect(a.workspaces).toEqual([expect.objectContaining({ name: 'family', index: expect.any(Number) })]);
      const linked = await link.exited;
      expect(linked.code, linked.stderr).toBe(0);
      const result = JSON.parse(linked.stdout.trim().split('\n').at(-1)!) as { workspaces: { name: string; epochs: number }[]; synced: Record<string, boolean> };
      expect(result.workspaces).toEqual([expect.objectContaining({ name: 'family', epochs: removed.epoch + 1 })]);
      expect(Object.values(result.synced)).toEqual([true]);

      // Every record, from both epochs.
      const list = JSON.parse(ok(P(['record', 'list', '--json']))) as { id: string; title: string }[];
      expect(list.map((r) => r.title).sort()).toEqual(['After rotation', 'Before rotation']);
      expect(JSON.parse(ok(P(['record', 'show', before, '--json'])))).toMatchObject({ fields: { pin: '1234' } });
      expect(JSON.parse(ok(P(['record', 'show', after, '--json'])))).toMatchObject({ notes: 'new key' });
      // Alice's laptop lists the phone among her devices; so does the phone.
      const devices = JSON.parse(ok(A(['device', 'list', '--json']))) as { deviceId: string }[];
      expect(devices.map((d) => d.deviceId)).toContain(shown.deviceId);
      expect((JSON.parse(ok(P(['device', 'list', '--json']))) as { current: boolean }[]).filter((d) => d.current)).toHaveLength(1);

      // The phone writes; bob reads it.
      ok(P(['record', 'edit', before, '--field', 'pin=9999']));
      const pushed = JSON.parse(ok(P(['sync', '--json']))) as { acked: number; rejected: object };
      expect(pushed.acked).toBeGreaterThan(0);
      expect(pushed.rejected).toEqual({});
      ok(B(['sync']));
      expect(JSON.parse(ok(B(['record', 'show', before, '--json'])))).toMatchObject({ fields: { pin: '9999' } });
      expect(JSON.parse(ok(B(['record', 'show', after, '--json'])))).toMatchObject({ notes: 'new key' });
      // Bob's history names alice (the user who linked the phone) for the phone's change, on both sides.
      const aliceUser = (JSON.parse(ok(A(['unlock', '--json']))) as { userId: string }).userId;
      for (const reader of [B, P]) {
        const hist = JSON.parse(ok(reader(['history', before, '--json']))) as { entries: { deviceId: string; userId: string; verified: boolean }[] };
        expect(hist.entries.filter((e) => e.deviceId === shown.deviceId)).toEqual([expect.objectContaining({ userId: aliceUser, verified: true })]);
      }

      // The same code a second time is refused: each step of the mailbox is written once.
      const again = A(['device', 'approve', shown.code]);
      expect(again.code).not.toBe(0);
      expect(again.stderr.trim().split('\n')).toHaveLength(1);
      expect(again.stderr).toMatch(/^cloister: .*already used \(link_code_used\)/);
    } finally {
      await relay.stop();
    }
  });

  it('an expired code is refused, and a code nobody showed is unknown', async () => {
    let skew = 0;
    const relay = await startTestRelay(() => Date.now() + skew);
    try {
      const [alice, phone] = [tempHome(), tempHome()];
      init(alice, strongPassword('alice'));
      init(phone, strongPassword('phone'));
      const A = (args: string[]) => run([...args, '--home', alice, '--password-stdin'], strongPassword('alice'));
      expect((await A(['workspace', 'create', 'family', '--relay', relay.url])).code).toBe(0);
      expect((await A(['sync'])).code).toBe(0);

      const link = background(['device', 'link', '--relay', relay.url, '--home', phone, '--password-stdin'], strongPassword('phone'));
      const code = await link.firstLine();
      link.proc.kill('SIGTERM');
      await link.exited;
      skew = 11 * 60_000; // the relay's clock passes the mailbox's 10 minutes
      const late = await A(['device', 'approve', code]);
      expect(late.code).not.toBe(0);
      expect(late.stderr.trim().split('\n')).toHaveLength(1);
      expect(late.stderr).toMatch(/^cloister: .*expired.*\(link_code_unknown\)/);

      const made = await A(['device', 'approve', 'ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ-0']);
      expect(made.code).not.toBe(0);
      expect(made.stderr).toMatch(/^cloister: .*\(link_code_(unknown|invalid)\)/);
      const garbage = await A(['device', 'approve', 'not-a-code']);
      expect(garbage.stderr).toMatch(/^cloister: .*\(link_code_invalid\)\n$/);
    } finally {
      await relay.close();
    }
  });
});
