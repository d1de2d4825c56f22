// Another member's record content reaches a colleague's terminal only with its control and format
// characters made visible: a title or field holding an escape sequence can't clear the screen or
// rewrite lines in `record list` / `record show`.
import { describe, expect, it } from 'vitest';
import { termSafe, termSafeLines } from '../../src/cli/terminal.ts';
import { cloister, init, tempHome } from './run.ts';
import { STRONG_PASSWORD } from '../passwords.ts';
import { integrationTimeouts } from '../timeouts.ts';

integrationTimeouts();

describe('terminal output of other people’s text', () => {
  it('control, format and line-separator characters are shown as \\u{…}; ordinary text is untouched', () => {
    expect(termSafe('Bed 4 – Zoë')).toBe('Bed 4 – Zoë');
    expect(termSafe('a\u001b[2Jb\u202ec\u0007\n')).toBe('a\\u{1b}[2Jb\\u{202e}c\\u{7}\\u{a}');
    expect(termSafeLines('one\r\ntwo\u001b')).toEqual(['one', 'two\\u{1b}']);
  });

  it('record list and show print an escape sequence typed into a record as visible text', () => {
    const home = tempHome();
    init(home, STRONG_PASSWORD);
    const run = (...args: string[]) => cloister([...args, '--home', home, '--password-stdin'], `${STRONG_PASSWORD}\n`);
    expect(run('workspace', 'create', 'Ward 7').code).toBe(0);
    const add = run('record', 'add', '--title', 'Bed\u001b[2J 4', '--field', 'dose\u001b]0;x\u0007=5mg\u001b[1A', '--notes', 'line one\nline\u001b[31m two');
    expect(add.code, add.stderr).toBe(0);
    const list = run('record', 'list');
    expect(list.stdout).not.toContain('\u001b');
    expect(list.stdout).toContain('Bed\\u{1b}[2J 4');
    const show = run('record', 'show', add.stdout.trim()); // record ids are base58: never read as an option
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f]/);
    expect(show.stdout).toContain('dose\\u{1b}]0;x\\u{7}: 5mg\\u{1b}[1A');
    expect(show.stdout).toContain('  line\\u{1b}[31m two');
  });
});
