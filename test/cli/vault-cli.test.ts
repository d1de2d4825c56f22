// The vault commands as a person or script uses them: `npx cloister init|unlock|passwd|recover`
// spawned for real, with a throwaway --home. CLOISTER_KDF=min keeps Argon2id at OWASP's minimum so
// the tests stay fast; one story checks that a plain unlock upgrades to the default.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_KDF, MIN_KDF } from '../../src/crypto/argon2.ts';
import { decodeVaultFile } from '../../src/identity/vault/vaultFile.ts';
import { allFiles } from '../identity/vault/helpers.ts';
import { createVault } from '../../src/identity/vault/createVault.ts';
import { cloister, expectOneLineError, init, RECOVERY, tempHome } from './run.ts';
import { STRONG_PASSWORD as PW, strongPassword } from '../passwords.ts';
import { integrationTimeouts } from '../timeouts.ts';

const PW2 = strongPassword('alice, later,');
const PW3 = strongPassword('alice, much later,');

integrationTimeouts();

describe('cloister vault commands', () => {
  it('alice runs init, unlocks with her password, and eve\'s guess gets one line saying "wrong password"', () => {
    const home = tempHome();
    const r = cloister(['init', '--home', home, '--password-stdin'], `${PW}\n`);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(RECOVERY);
    expect(r.stdout).toMatch(/shown only once/);
    expect(cloister(['unlock', '--home', home, '--password-stdin'], `${PW}\n`).code).toBe(0);
    const eve = cloister(['unlock', '--home', home, '--password-stdin'], 'pw2\n');
    expectOneLineError(eve, /wrong password/);
    expect(eve.stderr.trim()).toBe('cloister: wrong password');
  });

  it('no file under the home contains the password after init, unlock, a failed guess and passwd', () => {
    const home = tempHome();
    const pw = PW;
    init(home, pw);
    cloister(['unlock', '--home', home, '--password-stdin'], `${pw}\n`);
    cloister(['unlock', '--home', home, '--password-stdin'], 'wrong\n');
    cloister(['passwd', '--home', home, '--password-stdin'], `${pw}\n${pw}-2\n`);
    const files = allFiles(home);
    expect(files.length).toBeGreaterThan(0);
    for (const { path, bytes } of files) {
      expect(bytes.includes(Buffer.from(pw)), path).toBe(false);
    }
  });

  it('after passwd the new password unlocks and the old one fails', () => {
    const home = tempHome();
    init(home, PW);
    const r = cloister(['passwd', '--home', home, '--password-stdin'], `${PW}\n${PW2}\n`);
    expect(r.code, r.stderr).toBe(0);
    expect(cloister(['unlock', '--home', home, '--password-stdin'], `${PW2}\n`).code).toBe(0);
    expectOneLineError(cloister(['unlock', '--home', home, '--password-stdin'], `${PW}\n`), /wrong password/);
  });

  it('passwd with the wrong current password changes nothing and says so in one line', () => {
    const home = tempHome();
    init(home, PW);
    expectOneLineError(cloister(['passwd', '--home', home, '--password-stdin'], `nope\n${PW2}\n`), /wrong password/);
    expect(cloister(['unlock', '--home', home, '--password-stdin'], `${PW}\n`).code).toBe(0);
  });

  it('alice recovers with the recovery key, given as an option or on stdin, and sets a new password', () => {
    const home = tempHome();
    const key = init(home, PW);
    const viaOption = cloister(['recover', '--home', home, '--password-stdin', '--recovery-key', key], `${PW2}\n`);
    expect(viaOption.code, viaOption.stderr).toBe(0);
    expect(cloister(['unlock', '--home', home, '--password-stdin'], `${PW2}\n`).code).toBe(0);
    const viaStdin = cloister(['recover', '--home', home, '--password-stdin'], `${key.toLowerCase()}\n${PW3}\n`);
    expect(viaStdin.code, viaStdin.stderr).toBe(0);
    expect(cloister(['unlock', '--home', home, '--password-stdin'], `${PW3}\n`).code).toBe(0);
    expectOneLineError(cloister(['unlock', '--home', home, '--password-stdin'], `${PW2}\n`), /wrong password/);
  });

  it('eve\'s wrong recovery key and a mistyped one are each refused in one line', () => {
    const home = tempHome();
    init(home, PW);
    const other = init(tempHome(), PW);
    expectOneLineError(cloister(['recover', '--home', home, '--password-stdin', '--recovery-key', other], `${PW2}\n`), /wrong recovery key/);
    expectOneLineError(cloister(['recover', '--home', home, '--password-stdin', '--recovery-key', 'ABCD-1234'], `${PW2}\n`), /not a valid recovery key/);
  });

  it('global options work before the subcommand too, and --json prints one JSON object', () => {
    const home = tempHome();
    const r = cloister(['--home', home, '--password-stdin', '--json', 'init'], `${PW}\n`);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { recoveryKey: string; userId: string; deviceId: string; kdf: unknown };
    expect(out.recoveryKey).toMatch(RECOVERY);
    expect(out.kdf).toEqual(MIN_KDF);
    const u = cloister(['--json', 'unlock', '--home', home, '--password-stdin'], `${PW}\n`);
    expect(JSON.parse(u.stdout)).toMatchObject({ ok: true, userId: out.userId, deviceId: out.deviceId });
  });

  it('CLOISTER_HOME is the default home', () => {
    const home = tempHome();
    expect(cloister(['init', '--password-stdin'], `${PW}\n`, { CLOISTER_KDF: 'min', CLOISTER_HOME: home }).code).toBe(0);
    expect(cloister(['unlock', '--home', home, '--password-stdin'], `${PW}\n`).code).toBe(0);
  });

  it('init --kdf-memory-kib/--kdf-iterations set the parameters, never below the minimum; a plain unlock upgrades to the default', () => {
    const home = tempHome();
    const r = cloister(['init', '--home', home, '--password-stdin', '--kdf-memory-kib', String(MIN_KDF.m_kib), '--kdf-iterations', '2'], `${PW}\n`, {});
    expect(r.code, r.stderr).toBe(0);
    const header = () => {
      const d = decodeVaultFile(new Uint8Array(readFileSync(join(home, 'vault'))));
      if (!d.ok) throw new Error(d.reason);
      return d.value.header.kdf;
    };
    expect(header()).toEqual(MIN_KDF);
    expectOneLineError(cloister(['init', '--home', tempHome(), '--password-stdin', '--kdf-memory-kib', '1024'], `${PW}\n`, {}), /unsafe Argon2id parameters/);
    expect(cloister(['unlock', '--home', home, '--password-stdin'], `${PW}\n`, {}).code).toBe(0);
    expect(header()).toEqual(DEFAULT_KDF);
  });

  it('init refuses a weak or short new password in one line with the reason, and makes no vault', () => {
    const home = tempHome();
    const weak = cloister(['init', '--home', home, '--password-stdin'], 'password123\n');
    expectOneLineError(weak, /too easy to guess.*\[password_too_weak\]/);
    expect(existsSync(join(home, 'vault'))).toBe(false);
    expectOneLineError(cloister(['init', '--home', home, '--password-stdin'], 'Xq7#vR2!p\n'), /too short.*at least 10 characters.*\[password_too_short\]/);
    expect(existsSync(join(home, 'vault'))).toBe(false);
    const strong = cloister(['init', '--home', home, '--password-stdin'], `${PW}\n`);
    expect(strong.code, strong.stderr).toBe(0);
  });

  it('passwd and recover refuse a weak new password and change nothing', () => {
    const home = tempHome();
    const key = init(home, PW);
    const before = readFileSync(join(home, 'vault'));
    expectOneLineError(cloister(['passwd', '--home', home, '--password-stdin'], `${PW}\nhunter2\n`), /\[password_too_short\]/);
    expectOneLineError(cloister(['recover', '--home', home, '--password-stdin', '--recovery-key', key], 'a new password\n'), /\[password_too_weak\]/);
    expect(readFileSync(join(home, 'vault')).equals(before)).toBe(true);
    expect(cloister(['unlock', '--home', home, '--password-stdin'], `${PW}\n`).code).toBe(0);
  });

  it('a vault made under the old rule with a weak password still unlocks, and passwd moves it to a strong one', async () => {
    const home = tempHome();
    await createVault(home, 'pw', { kdf: MIN_KDF }); // the library has no policy: the rule is at the doors
    expect(cloister(['unlock', '--home', home, '--password-stdin'], 'pw\n').code).toBe(0);
    expectOneLineError(cloister(['passwd', '--home', home, '--password-stdin'], 'pw\npw\n'), /\[password_too_short\]/);
    const r = cloister(['passwd', '--home', home, '--password-stdin'], `pw\n${PW}\n`);
    expect(r.code, r.stderr).toBe(0);
    expect(cloister(['unlock', '--home', home, '--password-stdin'], `${PW}\n`).code).toBe(0);
  });
});
