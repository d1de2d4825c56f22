// Crash-safe file replacement: write a temp file beside the target, fsync it, rename it over the
// target (atomic on POSIX), then fsync the directory so the rename itself survives power loss.
// A crash at any point leaves either the old file or the new one, never a mix.
import { closeSync, fsyncSync, openSync, readdirSync, renameSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { randomNonce, toHex } from '../../crypto/bytes.ts';

/** The points between write steps, in order. Tests kill a process at each one. */
export const WRITE_STEPS = ['temp-opened', 'temp-written', 'temp-synced', 'renamed', 'dir-synced'] as const;
export type WriteStep = (typeof WRITE_STEPS)[number];

let stepHook: ((step: WriteStep, path: string) => void) | undefined;

/** Test-only: call `hook` at each step (e.g. to SIGKILL the process there). Pass undefined to clear. */
export function setWriteStepHookForTests(hook: ((step: WriteStep, path: string) => void) | undefined): void {
  stepHook = hook;
}

export interface WriteFileAtomicOptions {
  /** File mode for the new file (default 0o600: only the owner reads local secrets). */
  mode?: number;
}

const TEMP_MARK = '.tmp-';

export function writeFileAtomic(path: string, bytes: Uint8Array, opts: WriteFileAtomicOptions = {}): void {
  const dir = dirname(path);
  const temp = join(dir, `${basename(path)}${TEMP_MARK}${toHex(randomNonce(6))}`);
  const fd = openSync(temp, 'wx', opts.mode ?? 0o600);
  let closed = false;
  let renamed = false;
  try {
    stepHook?.('temp-opened', path);
    let off = 0;
    while (off < bytes.length) off += writeSync(fd, bytes, off, bytes.length - off);
    stepHook?.('temp-written', path);
    fsyncSync(fd);
    stepHook?.('temp-synced', path);
    closeSync(fd);
    closed = true;
    renameSync(temp, path);
    renamed = true;
    stepHook?.('renamed', path);
    syncDirectory(dir);
    stepHook?.('dir-synced', path);
  } catch (e) {
    if (!renamed) {
      if (!closed) try { closeSync(fd); } catch { /* nothing more to do */ }
      try { unlinkSync(temp); } catch { /* never created or already gone */ }
    }
    throw e;
  }
}

/** fsync a directory so a rename in it is durable. Windows can't open directories; skip there. */
export function syncDirectory(dir: string): void {
  if (process.platform === 'win32') return;
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * Remove temp files a crashed writer left beside `path` (a minute older than `path`, just written, so
 * a concurrent writer's is spared). Ages are read on the filesystem's clock (the written file's
 * mtime), never the process clock, which may be set anywhere. Not done on every write: listing a
 * large directory each time would be slow.
 */
export function removeStaleTemps(path: string): void {
  const dir = dirname(path);
  let now: number;
  try {
    now = statSync(path).mtimeMs;
  } catch {
    return;
  }
  const prefix = `${basename(path)}${TEMP_MARK}`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    try {
      const p = join(dir, name);
      if (now - statSync(p).mtimeMs > 60_000) unlinkSync(p);
    } catch { /* raced with another cleaner */ }
  }
}
