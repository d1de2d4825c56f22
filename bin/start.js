#!/usr/bin/env node
// `npm start`: build the web app when there is one (vite config + src/app entry), then run a relay on
// http://127.0.0.1:8787 with SQLite under ./data/ that also serves the build (dist/). The relay runs
// compiled (build/, made by scripts/build-node.js at install time and refreshed here when a source is
// newer): no TypeScript loader.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';

// The exit-time deadlock of Node 20 (nodejs/node#54918): see bin/cloister.js.
v8.setFlagsFromString('--no-concurrent-recompilation');

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);

const viteConfig = ['vite.config.ts', 'vite.config.js', 'vite.config.mjs'].find((f) => existsSync(join(root, f)));
const appEntry = ['src/app/main.tsx', 'src/app/main.ts', 'src/app/index.tsx', 'index.html'].find((f) => existsSync(join(root, f)));
if (viteConfig && appEntry && existsSync(join(root, 'src/app'))) {
  console.error(`[start] building the web app (vite build, ${viteConfig})`);
  const r = spawnSync(process.execPath, [join(root, 'node_modules/vite/bin/vite.js'), 'build'], { stdio: 'inherit' });
  if (r.status !== 0) console.error('[start] vite build failed; starting the relay with whatever dist/ holds');
} else {
  console.error('[start] no web app to build (needs a vite config and src/app); starting the relay only');
}

// The relay runs from build/: bring it up to date with the sources first (a stat per file when nothing
// changed), so `npm start` after an edit never runs yesterday's relay.
if (existsSync(join(root, 'scripts/build-node.js'))) {
  const b = spawnSync(process.execPath, [join(root, 'scripts/build-node.js'), '--if-stale'], { stdio: 'inherit' });
  if (b.status !== 0) console.error('[start] the Node build failed; starting the relay with whatever build/ holds');
}

mkdirSync(join(root, 'data'), { recursive: true });
if (!existsSync(join(root, 'build/relay/main.js'))) {
  console.error('[start] the relay is not built yet: run `npm run build:node` (npm install does it)');
  process.exit(2);
}
const { runRelay } = await import('../build/relay/main.js');
try {
  const relay = await runRelay({ port: 8787, host: '127.0.0.1', store: 'sqlite:./data/relay.sqlite', webRoot: join(root, 'dist') });
  console.error(`[start] relay on ${relay.httpUrl} (WebSocket ${relay.url}); Ctrl-C to stop`);
} catch (e) {
  console.error(`[start] ${e instanceof Error ? e.message : String(e)}`);
  process.exit(2);
}
