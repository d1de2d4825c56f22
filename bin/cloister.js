#!/usr/bin/env node
// Entry point for `npx cloister`: runs the compiled, bundled CLI (build/cli/, made by
// scripts/build-node.js at install time and before tests) with plain Node, no TypeScript loader.
// CLOISTER_DEV=1 runs the TypeScript sources through tsx instead (a dev dependency), for trying an edit without a build.
import { existsSync } from 'node:fs';

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
