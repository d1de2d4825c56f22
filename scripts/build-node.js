#!/usr/bin/env node
// The Node build: transpiles src/ (without the web app, which Vite builds) and relay/ to build/ with
// tsc (tsconfig.build.json), so `bin/cloister.js` and `bin/start.js` run plain JavaScript with no
// TypeScript loader. Run by `npm install`/`npm ci` (prepare), `npm run build:node`, and before every
// vitest run (test/globalSetup.ts, with --if-stale: only when a source is newer than build/.stamp).
//
// The CLI is then bundled (rolldown, the bundler Vite uses) into build/cli/: our modules, zod and noble
// in a few dozen chunks, so a command resolves and reads ~70 files instead of ~190 and loads none of
// zod's 64 locale modules (tree-shaken), ~90 ms of every command (issue 13, "a fast CLI"). Packages
// with native code, wasm or CommonJS stay external. Chunks are content-named and moved in before the
// entries that import them.
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
  if (!existsSync(stamp) || !existsSync(join(out, 'src', 'cli', 'main.js')) || !existsSync(join(out, 'cli', 'main.js'))) return true;
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

/** Bundle the compiled CLI (`from`: build's src/cli) into `to`: main.js and seedWorker.js, plus chunks. */
async function bundleCli(from, to) {
  const { build } = await import('rolldown');
  const bundled = (id) => id.startsWith('.') || id.startsWith('/') || /^(zod|@noble\/(hashes|curves|ciphers))(\/|$)/.test(id);
  await build({
    input: { main: join(from, 'main.js'), seedWorker: join(from, 'sim', 'seedWorker.js') },
    platform: 'node',
    cwd: root, // module comments name paths from the package root, wherever the build runs from
    external: (id) => !bundled(id),
    logLevel: 'warn',
    // runSeeds starts its worker as new URL('./seedWorker.js', import.meta.url): every file in one folder.
    output: { dir: to, format: 'esm', entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js' },
  });
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
  // Bundled from build/src/cli where it now is, so each chunk's module comments name build/src/… paths.
  const bundle = join(staging, 'cli');
  await bundleCli(join(out, 'src', 'cli'), bundle);
  const made = new Set(readdirSync(bundle));
  const entries = ['main.js', 'seedWorker.js'];
  mkdirSync(join(out, 'cli'), { recursive: true });
  for (const name of made) if (!entries.includes(name)) renameSync(join(bundle, name), join(out, 'cli', name));
  for (const name of entries) renameSync(join(bundle, name), join(out, 'cli', name));
  // Chunks of earlier builds, once no CLI started before this build can still be loading them.
  for (const name of readdirSync(join(out, 'cli'))) {
    const file = join(out, 'cli', name);
    if (!made.has(name) && Date.now() - statSync(file).mtimeMs > 10 * 60_000) rmSync(file, { force: true });
  }
} finally {
  rmSync(staging, { recursive: true, force: true });
}
// The stamp carries the time the build started: a source saved during the build is newer, so the
// next --if-stale run builds again.
closeSync(openSync(stamp, 'w'));
utimesSync(stamp, started / 1000, started / 1000);
if (!process.argv.includes('--quiet')) console.error(`build-node: ${relative(process.cwd(), out) || '.'}/ built in ${Date.now() - started} ms`);
