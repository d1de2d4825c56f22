// Mistakes at the command line: each gives one line on stderr, prefixed `cloister:`, and a non-zero exit.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cloister, expectOneLineError, init, tempHome } from './run.ts';
import { STRONG_PASSWORD } from '../passwords.ts';
import { integrationTimeouts } from '../timeouts.ts';

integrationTimeouts();

describe('cloister errors and help', () => {
  it('mistakes give one line and a non-zero exit: no vault, vault exists, no password, unknown option', () => {
    const home = tempHome();
    expectOneLineError(cloister(['unlock', '--home', home, '--password-stdin'], 'pw\n'), /no vault in .*cloister init/);
    init(home, STRONG_PASSWORD);
    expectOneLineError(cloister(['init', '--home', home, '--password-stdin'], `${STRONG_PASSWORD}\n`), /already exists/);
    expectOneLineError(cloister(['unlock', '--home', home, '--password-stdin'], ''), /expected a password line/);
    expectOneLineError(cloister(['unlock', '--home', home], ''), /--password-stdin/);
    expectOneLineError(cloister(['unlock', '--home', home, '--bogus']), /unknown option/);
    expectOneLineError(cloister(['init', '--home', tempHome(), '--password-stdin'], '\n'), /must not be empty/);
  });

  it('relay --limits refuses an unknown limit, a negative one and an unreadable file, each in one line', () => {
    const dir = tempHome();
    const file = join(dir, 'limits.json');
    const store = `sqlite:${join(dir, 'relay.sqlite')}`;
    writeFileSync(file, JSON.stringify({ idleTimeoutMs: 1000, turboMode: 1 }));
    expectOneLineError(cloister(['relay', '--port', '0', '--store', store, '--limits', file]), /unknown limit "turboMode"/);
    writeFileSync(file, JSON.stringify({ idleTimeoutMs: -5 }));
    expectOneLineError(cloister(['relay', '--port', '0', '--store', store, '--limits', file]), /"idleTimeoutMs" must be a non-negative number/);
    expectOneLineError(cloister(['relay', '--port', '0', '--store', store, '--limits', join(dir, 'missing.json')]), /cannot read --limits/);
    expectOneLineError(cloister(['relay', '--port', '0', '--store', store, '--snapshot-retention', 'forever']), /snapshot-retention/);
  });

  it('a damaged vault file is named in one line, not a stack trace', () => {
    const home = tempHome();
    init(home, STRONG_PASSWORD);
    const bytes = readFileSync(join(home, 'vault'));
    writeFileSync(join(home, 'vault'), bytes.subarray(0, 40));
    expectOneLineError(cloister(['unlock', '--home', home, '--password-stdin'], 'pw\n'), /vault file is damaged/);
  });

  it.each(['init', 'unlock', 'passwd', 'recover', 'bench'])('`%s --help` documents --home and --password-stdin', (command) => {
    const r = cloister([command, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--home <dir>/);
    expect(r.stdout).toMatch(/--password-stdin/);
  });

  it('an unexpected failure (home is a file) is one line; CLOISTER_DEBUG=1 adds the stack', () => {
    const file = join(tempHome(), 'not-a-dir');
    writeFileSync(file, 'x');
    expectOneLineError(cloister(['init', '--home', join(file, 'h'), '--password-stdin'], `${STRONG_PASSWORD}\n`), /unexpected error: .*CLOISTER_DEBUG=1/);
    const debug = cloister(['init', '--home', join(file, 'h'), '--password-stdin'], `${STRONG_PASSWORD}\n`, { CLOISTER_KDF: 'min', CLOISTER_DEBUG: '1' });
    expect(debug.code).not.toBe(0);
    expect(debug.stderr.split('\n').length).toBeGreaterThan(2);
  });

  it('bench --only with an unknown suite is refused in one line', () => {
    expectOneLineError(cloister(['bench', '--only', 'nope']), /nope/);
  });
});
