// What is on disk under a folder, cheaply: every file's path with its size, inode and mtime (ns).
// The agent compares two stamps to learn which stored documents another process (a command run
// without the agent, a sync) wrote since it last looked. Taken before reading, so a write that lands
// while the agent reads shows in the next comparison.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** relative path → "size:ino:mtimeNs" of every file under a folder (empty when the folder is absent). */
export type DiskStamp = Map<string, string>;

export function stampOf(root: string): DiskStamp {
  const out: DiskStamp = new Map();
  const walk = (dir: string, rel: string) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return; // absent, or removed while walking: the next stamp sees what replaced it
    }
    for (const e of entries) {
      const path = join(dir, e.name);
      const r = rel === '' ? e.name : `${rel}/${e.name}`;
      if (e.isDirectory()) walk(path, r);
      else if (e.isFile()) {
        const st = statSync(path, { bigint: true, throwIfNoEntry: false });
        if (st) out.set(r, `${st.size}:${st.ino}:${st.mtimeNs}`);
      }
    }
  };
  walk(root, '');
  return out;
}

/** Paths added or changed in `now` since `before` (removals are not listed). */
export function changedPaths(before: DiskStamp, now: DiskStamp): string[] {
  const out: string[] = [];
  for (const [path, sig] of now) if (before.get(path) !== sig) out.push(path);
  return out;
}

export function sameStamp(a: DiskStamp, b: DiskStamp): boolean {
  if (a.size !== b.size) return false;
  for (const [path, sig] of a) if (b.get(path) !== sig) return false;
  return true;
}
