#!/usr/bin/env node
// Entry point for `npx cloister`: runs the TypeScript CLI through tsx's loader.
import { register } from 'tsx/esm/api';
register();
try {
  await import('../src/cli/main.ts');
} catch (e) {
  // A module that fails to load still earns one line, not a stack trace (set CLOISTER_DEBUG=1 for it).
  if (process.env.CLOISTER_DEBUG === '1') console.error(e);
  else console.error(`cloister: internal error: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
  process.exit(70);
}
