#!/usr/bin/env node
// The Node build: transpiles src/ (without the web app, which Vite builds) and relay/ to build/ with
// tsc (tsconfig.build.json), so `bin/cloister.js` and `bin/start.js` run plain JavaScript with no
// TypeScript loader. Run by `npm install`/`npm ci` (prepare), `npm run build:node`, and before every
// vitest run (test/globalSetup.ts, with --if-stale: only when a source is newer than build/.stamp).
//
// Several test runs may share one working tree, so a build never rewrites build/ in place: tsc emits
// to a private staging folder and each file is then renamed over its old copy (atomic per file), so
// a CLI starting meanwhile never reads a half-written module.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync, utimesSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'build');
const stamp = join(out, '.stamp');
/** What the build reads: a change to any of these makes build/ stale. */
const INPUTS = ['src', 'relay', 'tsconfig.json', 'tsconfig.build.json', 'package.json'];
const SKIP = new Set([join(root, 'src', 'app')]);

/** The newest modification time (ms) under the build's inputs. */
function newestInput() {
  let newest = 0;
  const walk = (p) => {
    if (SKIP.has(p)) return;
    let st;
    try {
      st = statSync(p);
    } catch {
      return; // deleted meanwhile
    }
    newest = Math.max(newest, st.mtimeMs);
    if (st.isDirectory()) for (const name of readdirSync(p)) walk(join(p, name));
  };
  for (const i of INPUTS) walk(join(root, i));
  return newest;
}

function isStale() {
  if (!existsSync(stamp) || !existsSync(join(out, 'src', 'cli', 'main.js'))) return true;
  return newestInput() > statSync(stamp).mtimeMs;
}

/** Rename every file under `from` to the same place under `to`, creating folders as needed. */
function moveTree(from, to) {
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const src = join(from, entry.name);
    const dst = join(to, entry.name);
    if (entry.isDirectory()) {
      mkdirSync(dst, { recursive: true });
      moveTree(src, dst);
    } else {
      renameSync(src, dst);
    }
  }
}

if (process.argv.includes('--if-stale') && !isStale()) process.exit(0);

const started = Date.now();
mkdirSync(out, { recursive: true });
const staging = join(out, `.staging-${process.pid}-${started}`);
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
if (!existsSync(tsc)) {
  // `npm ci --omit=dev` installs no compiler: say so, and let the install itself succeed (the CLI then
  // says it is not built). Build where dev dependencies are installed and ship build/ instead.
  console.error('build-node: TypeScript is not installed (dev dependencies omitted?); build/ not made');
  process.exit(process.env.npm_lifecycle_event === 'prepare' ? 0 : 1);
}
const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json'), '--outDir', staging], { cwd: root, stdio: 'inherit' });
try {
  if (r.status !== 0) {
    console.error(`build-node: tsc exited with ${r.status ?? r.signal}; build/ left as it was`);
    process.exit(1);
  }
  moveTree(staging, out);
} finally {
  rmSync(staging, { recursive: true, force: true });
}
// The stamp carries the time the build started: a source saved during the build is newer, so the
// next --if-stale run builds again.
closeSync(openSync(stamp, 'w'));
utimesSync(stamp, started / 1000, started / 1000);
if (!process.argv.includes('--quiet')) console.error(`build-node: ${relative(process.cwd(), out) || '.'}/ built in ${Date.now() - started} ms`);
