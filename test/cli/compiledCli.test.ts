// The CLI runs compiled JavaScript (build/, made by scripts/build-node.js) with no TypeScript loader,
// and each command loads only what it uses: `--help` loads no storage, sync, relay or Automerge code.
// Which modules a process loaded is traced by a module hook (fixtures/traceImports.mjs) and read
// through the bundle's chunks (loadedModules.ts).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SUITES } from '../../src/cli/bench/index.ts';
import { CHILD_MS } from '../timeouts.ts';
import { loadedModules } from './loadedModules.ts';
import { init, tempHome } from './run.ts';

const root = join(import.meta.dirname, '..', '..');
const BIN = join(root, 'bin', 'cloister.js');
const TRACE = join(import.meta.dirname, 'fixtures', 'traceImports.mjs');

/** Run the CLI as people do, and return what it printed and every module URL it loaded. */
function traced(args: string[], input = '') {
  const file = join(tempHome(), 'imports.txt');
  const r = spawnSync(process.execPath, ['--import', TRACE, BIN, ...args], {
    input,
    encoding: 'utf8',
    timeout: CHILD_MS,
    env: { ...process.env, CLOISTER_HOME: undefined, CLOISTER_DEV: undefined, CLOISTER_KDF: 'min', CLOISTER_TRACE_IMPORTS: file },
  });
  let urls: string[] = [];
  try {
    urls = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  } catch {
    /* nothing loaded: the assertions below say so */
  }
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, urls };
}

const ours = loadedModules;

describe('the compiled CLI', () => {
  it('runs record list from the bundle in build/ as plain JavaScript: no TypeScript source and no tsx is loaded', () => {
    const home = tempHome();
    init(home, 'correct horse battery staple');
    const r = traced(['record', 'list', '--home', home, '--password-stdin'], 'correct horse battery staple\n');
    // No workspace yet: the command still opened the vault and the session code, compiled.
    expect(r.stderr).toMatch(/workspace/);
    const mine = ours(r.urls);
    expect(mine).toContain('build/cli/main.js');
    expect(mine).toContain('build/src/cli/main.js');
    expect(mine).toContain('build/src/docs/openSession.js');
    // Bundled: zod without its 64 locale modules, and noble, in a few dozen files in all.
    expect(r.urls.filter((u) => /\/node_modules\/(zod|@noble)\//.test(u))).toEqual([]);
    expect(new Set(mine.filter((u) => u.startsWith('build/cli/'))).size).toBeLessThan(60);
    expect(mine.filter((u) => u.endsWith('.ts') || u.endsWith('.tsx'))).toEqual([]);
    expect(r.urls.filter((u) => /\/node_modules\/(tsx|esbuild)\//.test(u))).toEqual([]);
  });

  it('loads no storage, sync, relay or Automerge code for --help, and still lists every command', () => {
    const r = traced(['--help']);
    expect(r.code).toBe(0);
    for (const cmd of ['init', 'unlock', 'passwd', 'recover', 'record', 'history', 'workspace', 'device', 'relay', 'sync', 'status', 'quarantine', 'sim', 'bench']) {
      expect(r.stdout).toMatch(new RegExp(`^  ${cmd}\\b`, 'm'));
    }
    // Allowed: the record list's pure display helpers (sort names, person labels) the help text uses.
    const display = new Set(['build/src/docs/records/findRecords.js', 'build/src/docs/records/personLabel.js']);
    const mine = ours(r.urls).filter((u) => !display.has(u));
    expect(mine.filter((u) => u.startsWith('build/src/docs/') || u.startsWith('build/relay/') || u.startsWith('build/src/cli/sim/runSim') || (u.startsWith('build/src/cli/bench/') && !u.endsWith('/index.js')))).toEqual([]);
    expect(r.urls.filter((u) => /\/node_modules\/(@automerge|better-sqlite3|pg|ws|pino)\//.test(u))).toEqual([]);
  });

  it('loads only its own group for `record list --help`, with the options it had', () => {
    const r = traced(['record', 'list', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('--sort <order>');
    expect(r.stdout).toMatch(/order: title, updated/);
    expect(ours(r.urls).filter((u) => u.startsWith('build/src/docs/') && !u.startsWith('build/src/docs/records/'))).toEqual([]);
    expect(r.urls.filter((u) => u.includes('/node_modules/@automerge/'))).toEqual([]);
  });

  it('says in one line how to build when build/ is missing (npm install --ignore-scripts)', () => {
    const dir = tempHome();
    mkdirSync(join(dir, 'bin'));
    copyFileSync(BIN, join(dir, 'bin', 'cloister.js'));
    const r = spawnSync(process.execPath, [join(dir, 'bin', 'cloister.js'), '--help'], { encoding: 'utf8', timeout: CHILD_MS });
    expect(r.status).toBe(70);
    expect(r.stderr.trim().split('\n')).toEqual(['cloister: the CLI is not built yet: run `npm run build:node` (npm install does it)']);
  });
});

describe('the cli bench suite', () => {
  it('is registered as "cli", opt-in (--only cli), and loads its file only when it runs', async () => {
    const entry = SUITES.find((s) => s.name === 'cli');
    expect(entry?.optIn).toBe(true);
    const suite = await entry!.load!();
    expect(suite.name).toBe('cli');
    expect(suite.description).toMatch(/record list/);
  });
});
