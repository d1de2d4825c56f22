// Where the cloister package lives (the folder with package.json and bin/cloister.js), found from this
// module's own location: the CLI runs from the sources (src/cli) under tests' tsx children and from
// the compiled bundle (build/cli) otherwise, at different depths.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';

let found: string | undefined;

export function packageRoot(): string {
  if (found !== undefined) return found;
  for (let dir = import.meta.dirname; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'bin', 'cloister.js'))) return (found = dir);
    if (dirname(dir) === dir) throw new Error(`no cloister package above ${import.meta.dirname}`);
  }
}
