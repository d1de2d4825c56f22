#!/usr/bin/env node
// Entry point for `npx cloister`: runs the compiled, bundled CLI (build/cli/, made by
// scripts/build-node.js at install time and before tests) with plain Node, no TypeScript loader.
// CLOISTER_DEV=1 runs the TypeScript sources through tsx instead (a dev dependency), for trying an edit without a build.
import { existsSync } from 'node:fs';
import v8 from 'node:v8';

// Node 20 can deadlock as a process exits (nodejs/node#54918, open upstream): the main thread waits
// in NodePlatform::DrainTasks for a background TurboFan job, which waits in
// CollectionBarrier::AwaitCollectionBackground for a GC only the main thread could run. The command
// has finished, but the process never ends. Seen here as `record list` and `unlock` hanging with no
// output, 8–9 runs in 150 on a loaded 2-core machine; with TurboFan compiling on the main thread
// instead, none (docs/PERFORMANCE.md → Exit hang). Set before any of our code is compiled.
v8.setFlagsFromString('--no-concurrent-recompilation');

const dev = process.env.CLOISTER_DEV === '1';
const main = new URL(dev ? '../src/cli/main.ts' : '../build/cli/main.js', import.meta.url);
if (!dev && !existsSync(main)) {
  console.error('cloister: the CLI is not built yet: run `npm run build:node` (npm install does it)');
  process.exit(70);
}
try {
  if (dev) (await import('tsx/esm/api')).register();
  await import(main.href);
} catch (e) {
  // A module that fails to load still earns one line, not a stack trace (set CLOISTER_DEBUG=1 for it).
  if (process.env.CLOISTER_DEBUG === '1') console.error(e);
  else console.error(`cloister: internal error: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
  process.exit(70);
}
