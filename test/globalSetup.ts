// Vitest global setup: tests spawn bin/cloister.js, which runs the compiled build (build/), so bring
// the build up to date with the sources before any test runs. Cheap when nothing changed (a stat of
// each source against build/.stamp); about a second when something did.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

export default function setup(): void {
  const root = join(import.meta.dirname, '..');
  const r = spawnSync(process.execPath, [join(root, 'scripts', 'build-node.js'), '--if-stale'], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`the Node build failed (node scripts/build-node.js):\n${r.stdout}${r.stderr}`);
}
