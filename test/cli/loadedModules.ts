// Which of our compiled modules a traced CLI process loaded (fixtures/traceImports.mjs writes the URL
// of every file it loaded). A file of the bundled CLI (build/cli/) stands for the compiled modules it
// holds, which the bundler names in a comment line each ("// build/src/docs/openSession.js"), so a
// test can still say, module by module, what a command did not load.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');

/** The compiled modules a bundle chunk holds, from the bundler's comment before each. */
function modulesIn(chunk: string): string[] {
  return [...readFileSync(join(root, chunk), 'utf8').matchAll(/^\/\/ (build\/\S+\.js)$/gm)].map((m) => m[1]!);
}

/** Our files a process loaded (paths from the package root), each bundle chunk followed by the modules it holds. */
export function loadedModules(urls: readonly string[]): string[] {
  return urls
    .filter((u) => u.startsWith(`file://${root}/`) && !u.includes('/node_modules/'))
    .map((u) => u.slice(`file://${root}/`.length))
    .flatMap((f) => (f.startsWith('build/cli/') ? [f, ...modulesIn(f)] : [f]));
}
