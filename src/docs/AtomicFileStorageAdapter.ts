// A filesystem StorageAdapter for Cloister's own local state (outbox, cursors, pending, quarantine).
// Unlike automerge-repo's NodeFS adapter it keeps no in-memory cache, so two processes on one
// profile see each other's writes (sequence numbers depend on that), and every save is atomic:
// write a temp file, fsync, rename. Wrap it in EncryptedStorageAdapter; it never sees plaintext.
// The one thing it remembers is which directories exist (so a save is not a recursive mkdir each
// time): another process may remove one (removeRange), so a save that meets ENOENT forgets them,
// creates the directory and tries once more.
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Chunk, StorageAdapterInterface, StorageKey } from '@automerge/automerge-repo';
import { inGroups } from './inGroups.ts';

const SAFE_PART = /^[A-Za-z0-9_-]{1,200}$/;

export class AtomicFileStorageAdapter implements StorageAdapterInterface {
  /** Directories this adapter created or wrote into: a hint only, checked by the ENOENT retry in save. */
  readonly #dirs = new Set<string>();

  constructor(readonly dir: string) {}

  private pathOf(key: StorageKey): string {
    for (const part of key) if (!SAFE_PART.test(part)) throw new RangeError(`unsafe storage key part: ${JSON.stringify(part)}`);
    return path.join(this.dir, ...key);
  }

  async load(key: StorageKey): Promise<Uint8Array | undefined> {
    try {
      return new Uint8Array(await fs.readFile(this.pathOf(key)));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'EISDIR') return undefined;
      throw e;
    }
  }

  async save(key: StorageKey, data: Uint8Array): Promise<void> {
    const file = this.pathOf(key);
    const dir = path.dirname(file);
    if (!this.#dirs.has(dir)) await this.#mkdir(dir);
    try {
      await writeAtomically(file, data);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      // The directory went away (removeRange here or in another process): make it again, once.
      this.#dirs.clear();
      await this.#mkdir(dir);
      await writeAtomically(file, data);
    }
  }

  async #mkdir(dir: string): Promise<void> {
    await fs.mkdir(dir, { recursive: true });
    this.#dirs.add(dir);
  }

  async remove(key: StorageKey): Promise<void> {
    await fs.rm(this.pathOf(key), { force: true });
  }

  /**
   * Every value under the prefix, ordered by key. Directories are listed level by level and files read a
   * few dozen at a time (inGroups): one after another, a 2,000-entry outbox cost about 3,000 thread-pool
   * round trips on every pass.
   */
  async loadRange(keyPrefix: StorageKey): Promise<Chunk[]> {
    const keys: string[][] = [];
    const prefixPath = keyPrefix.length ? this.pathOf(keyPrefix) : this.dir;
    const st = await fs.stat(prefixPath).catch(() => undefined);
    if (st?.isFile()) keys.push([...keyPrefix]);
    let level: string[][] = st?.isDirectory() ? [[...keyPrefix]] : [];
    while (level.length > 0) {
      const next: string[][] = [];
      await inGroups(level, async (parts) => {
        let entries;
        try {
          entries = await fs.readdir(path.join(this.dir, ...parts), { withFileTypes: true });
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return;
          throw e;
        }
        for (const ent of entries) {
          if (ent.name.endsWith('.tmp')) continue;
          (ent.isDirectory() ? next : keys).push([...parts, ent.name]);
        }
      });
      level = next;
    }
    keys.sort((a, b) => compareKeys(a, b));
    const data: (Uint8Array | undefined)[] = new Array(keys.length);
    await inGroups(keys.map((_, i) => i), async (i) => {
      data[i] = await this.load(keys[i]!);
    });
    const out: Chunk[] = [];
    keys.forEach((key, i) => {
      if (data[i]) out.push({ key, data: data[i] });
    });
    return out;
  }

  async removeRange(keyPrefix: StorageKey): Promise<void> {
    this.#dirs.clear();
    await fs.rm(keyPrefix.length ? this.pathOf(keyPrefix) : this.dir, { recursive: true, force: true });
  }
}

/** Keys in order, part by part. */
function compareKeys(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! < b[i]! ? -1 : 1;
  return a.length - b.length;
}

/** Write a temp file beside `file`, fsync it, rename it over `file`: readers see the old value or the new, whole. */
async function writeAtomically(file: string, data: Uint8Array): Promise<void> {
  const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  const fh = await fs.open(tmp, 'w', 0o600);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await fs.rename(tmp, file);
  } catch (e) {
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw e;
  }
}
