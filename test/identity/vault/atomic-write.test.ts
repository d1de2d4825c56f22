// A crash at any point of a vault write leaves a vault that opens with the old or the new password,
// never neither: a child process is SIGKILLed at each step of the atomic write.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { WRITE_STEPS, writeFileAtomic } from '../../../src/identity/vault/atomicWrite.ts';
import { changePassword } from '../../../src/identity/vault/changePassword.ts';
import { createVault } from '../../../src/identity/vault/createVault.ts';
import { vaultExists } from '../../../src/identity/vault/store.ts';
import { unlockVault } from '../../../src/identity/vault/unlockVault.ts';
import { FAST, removeTempHomes, tempHome } from './helpers.ts';
import { CHILD_MS, integrationTimeouts } from '../../timeouts.ts';

integrationTimeouts();

afterAll(removeTempHomes);

const CHILD = join(import.meta.dirname, 'fixtures', 'crashDuringWrite.ts');
function runChild(verb: 'create' | 'passwd', home: string, step: string) {
  return spawnSync(process.execPath, ['--import', 'tsx', CHILD, verb, home, step], { encoding: 'utf8', timeout: CHILD_MS });
}

describe('atomic vault writes', () => {
  it('writeFileAtomic replaces the content, leaves no temp file, and makes the file owner-only', () => {
    const dir = tempHome();
    const p = join(dir, 'f');
    writeFileAtomic(p, new Uint8Array([1, 2, 3]));
    writeFileAtomic(p, new Uint8Array([4, 5]));
    expect([...readFileSync(p)]).toEqual([4, 5]);
    expect(readdirSync(dir)).toEqual(['f']);
    if (process.platform !== 'win32') expect(statSync(p).mode & 0o777).toBe(0o600);
  });

  it.each(WRITE_STEPS)('alice\'s password change killed at "%s" leaves a vault that opens with old or new, never neither', async (step) => {
    const base = tempHome();
    await createVault(base, 'old', FAST);
    const home = tempHome();
    cpSync(base, home, { recursive: true });
    const child = runChild('passwd', home, step);
    expect(child.signal, child.stderr).toBe('SIGKILL');
    const withOld = (await unlockVault(home, 'old', FAST)).ok;
    const withNew = (await unlockVault(home, 'new', FAST)).ok;
    expect(withOld !== withNew).toBe(true); // exactly one of the two
    // before the rename the old one stands; from the rename on, the new one
    expect(withNew).toBe(WRITE_STEPS.indexOf(step) >= WRITE_STEPS.indexOf('renamed'));
  });

  it('a password change that is not killed completes (the hook only fires when asked)', async () => {
    const home = tempHome();
    await createVault(home, 'old', FAST);
    const child = runChild('passwd', home, 'never');
    expect(child.status, child.stderr).toBe(0);
    expect((await unlockVault(home, 'new', FAST)).ok).toBe(true);
  });

  it.each(WRITE_STEPS)('vault creation killed at "%s" leaves no vault or a whole one', async (step) => {
    const home = tempHome();
    const child = runChild('create', home, step);
    expect(child.signal, child.stderr).toBe('SIGKILL');
    const created = WRITE_STEPS.indexOf(step) >= WRITE_STEPS.indexOf('renamed');
    expect(vaultExists(home)).toBe(created);
    if (created) expect((await unlockVault(home, 'pw', FAST)).ok).toBe(true);
  });
});

describe('temp files left by a crash', () => {
  it('a stale vault temp file (over a minute old) is removed by the next vault write; a fresh one is spared', async () => {
    const home = tempHome();
    await createVault(home, 'pw', FAST);
    const stale = join(home, 'vault.tmp-aaaaaaaaaaaa');
    const fresh = join(home, 'vault.tmp-bbbbbbbbbbbb');
    writeFileSync(stale, 'left by a crash');
    writeFileSync(fresh, 'another writer, right now');
    // Five minutes old on the filesystem's clock (the process clock may be set anywhere, e.g. faketime).
    const old = new Date(statSync(fresh).mtimeMs - 5 * 60_000);
    utimesSync(stale, old, old);
    expect((await changePassword(home, 'pw', 'pw2', FAST)).ok).toBe(true);
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(fresh)).toBe(true);
  });
});
