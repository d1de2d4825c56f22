// Spawns the real `cloister` binary for CLI tests, with a throwaway --home per test.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect } from 'vitest';
import { CHILD_MS } from '../timeouts.ts';

/** When a CLI child still runs after this long, it prints what keeps it alive (CLOISTER_HANG_REPORT_MS). */
const HANG_REPORT_MS = CHILD_MS - 15_000;

const BIN = join(import.meta.dirname, '..', '..', 'bin', 'cloister.js');
const homes: string[] = [];
afterAll(() => homes.forEach((h) => rmSync(h, { recursive: true, force: true })));

export function tempHome(): string {
  const h = mkdtempSync(join(tmpdir(), 'cloister-cli-'));
  homes.push(h);
  return h;
}

export function cloister(args: string[], input = '', env: Record<string, string | undefined> = { CLOISTER_KDF: 'min' }) {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    input,
    encoding: 'utf8',
    timeout: CHILD_MS,
    env: { ...process.env, CLOISTER_HOME: undefined, CLOISTER_KDF: undefined, CLOISTER_HANG_REPORT_MS: String(HANG_REPORT_MS), ...env },
  });
  // A child that never exits fails here, saying what it printed (with the hang report of src/cli/main.ts),
  // rather than as a bare exit code null in the test that spawned it.
  if (r.error) throw new Error(`cloister ${args.join(' ')} did not finish: ${r.error.message}; stderr: ${r.stderr || '(empty: the event loop was blocked or the process never started)'}`);
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export const RECOVERY = /([0-9A-HJKMNP-TV-Z]{4}-){13}[0-9A-HJKMNP-TV-Z]{4}/;

export function init(home: string, password: string): string {
  const r = cloister(['init', '--home', home, '--password-stdin'], `${password}\n`);
  expect(r.code, r.stderr).toBe(0);
  return r.stdout.match(RECOVERY)![0];
}

export function expectOneLineError(r: { code: number | null; stderr: string }, pattern: RegExp): void {
  expect(r.code).not.toBe(0);
  expect(r.code).not.toBeNull();
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^cloister: /);
  expect(lines[0]).toMatch(pattern);
}

