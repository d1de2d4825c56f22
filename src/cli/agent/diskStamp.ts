// What is on disk under a folder, cheaply: the relative path of every file, read with readdir alone
// (no stat per file). Stored chunk names are keyed hashes of the chunk's key, which holds the hash of
// its content, so a new chunk always appears under a new name. The agent compares two stamps to learn
// which stored documents another process (a command run without the agent, a sync) wrote since it
// last looked. Taken before reading, so a write that lands while the agent reads shows next time.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Relative paths ("a/b/c") of the files under a folder (empty when the folder is absent). */
export type DiskStamp = Set<string>;

export function stampOf(root: string): DiskStamp {
  const out: DiskStamp = new Set();
  const walk = (dir: string, rel: string) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // absent, or removed while walking: the next stamp sees what replaced it
    }
    for (const e of entries) {
      const r = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) walk(join(dir, e.name), r);
      else out.add(r);
    }
  };
  walk(root, '');
  return out;
}

/** Paths in `now` that `before` did not have (removals are not listed). */
export function addedPaths(before: DiskStamp, now: DiskStamp): string[] {
  const out: string[] = [];
  for (const path of now) if (!before.has(path)) out.push(path);
  return out;
}

/** For the few files rewritten in place under one name (workspace files, sync state): path → "size:ino:mtimeNs". */
export function statsOf(root: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const path of stampOf(root)) {
    const st = statSync(join(root, path), { bigint: true, throwIfNoEntry: false });
    if (st) out.set(path, `${st.size}:${st.ino}:${st.mtimeNs}`);
  }
  return out;
}

export function sameStats(a: Map<string, string>, b: Map<string, string>): boolean {
  return a.size === b.size && [...a].every(([path, sig]) => b.get(path) === sig);
}
