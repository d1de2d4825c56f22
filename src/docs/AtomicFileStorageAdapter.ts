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

  async loadRange(keyPrefix: StorageKey): Promise<Chunk[]> {
    const out: Chunk[] = [];
    const walk = async (parts: string[]): Promise<void> => {
      const p = path.join(this.dir, ...parts);
      let entries;
      try {
        entries = await fs.readdir(p, { withFileTypes: true });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return;
        throw e;
      }
      for (const ent of entries) {
        if (ent.name.endsWith('.tmp')) continue;
        if (ent.isDirectory()) await walk([...parts, ent.name]);
        else {
          const key = [...parts, ent.name];
          const data = await this.load(key);
          if (data) out.push({ key, data });
        }
      }
    };
    const prefixPath = keyPrefix.length ? this.pathOf(keyPrefix) : this.dir;
    const st = await fs.stat(prefixPath).catch(() => undefined);
    if (st?.isFile()) {
      const data = await this.load(keyPrefix);
      if (data) out.push({ key: [...keyPrefix], data });
    }
    await walk([...keyPrefix]);
    return out;
  }

  async removeRange(keyPrefix: StorageKey): Promise<void> {
    this.#dirs.clear();
    await fs.rm(keyPrefix.length ? this.pathOf(keyPrefix) : this.dir, { recursive: true, force: true });
  }
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
