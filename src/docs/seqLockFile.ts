// Node's profile lock: an O_EXCL lock file holding the owner's pid, recovered when that pid is dead
// (a SIGKILLed CLI leaves its file behind). Also queues callers within this process.
import { promises as fs } from 'node:fs';
import { Mutex, type ProfileLock } from './seqLock.ts';

export class LockTimeoutError extends Error {}

export class FileLock implements ProfileLock {
  readonly #mutex = new Mutex();
  constructor(
    readonly lockPath: string,
    private readonly timeoutMs = 15_000,
  ) {}

  run<T>(fn: () => Promise<T>): Promise<T> {
    return this.#mutex.run(async () => {
      await this.#acquire();
      try {
        return await fn();
      } finally {
        await fs.rm(this.lockPath, { force: true });
      }
    });
  }

  async #acquire(): Promise<void> {
    const deadline = Date.now() + this.timeoutMs;
    for (let attempt = 0; ; attempt++) {
      try {
        const fh = await fs.open(this.lockPath, 'wx', 0o600);
        await fh.writeFile(String(process.pid));
        await fh.close();
        return;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      if ((await this.#isStale()) && (await this.#recover())) continue;
      if (Date.now() > deadline) throw new LockTimeoutError(`profile lock ${this.lockPath} held too long`);
      await new Promise(r => setTimeout(r, Math.min(2 + attempt, 25)));
    }
  }

  /**
   * Remove a stale lock file, but only while holding `<lock>.recover` and after checking again that it
   * is still stale: otherwise two waiters could both see it stale, one take the lock afresh, and the
   * other delete that live lock. A recover marker left by a dead recoverer is dropped after 5 s.
   */
  async #recover(): Promise<boolean> {
    const marker = `${this.lockPath}.recover`;
    try {
      await (await fs.open(marker, 'wx', 0o600)).close();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const st = await fs.stat(marker).catch(() => undefined);
      if (st && Date.now() - st.mtimeMs > 5000) await fs.rm(marker, { force: true });
      return false;
    }
    try {
      if (await this.#isStale()) await fs.rm(this.lockPath, { force: true });
      return true;
    } finally {
      await fs.rm(marker, { force: true });
    }
  }

  /** Stale when the file names a pid that no longer runs (or is unreadable for over a second, e.g. half-written). */
  async #isStale(): Promise<boolean> {
    let text: string;
    let mtimeMs: number;
    try {
      text = await fs.readFile(this.lockPath, 'utf8');
      mtimeMs = (await fs.stat(this.lockPath)).mtimeMs;
    } catch {
      return false; // vanished: the retry will take it
    }
    const pid = Number(text);
    if (!Number.isInteger(pid) || pid <= 0) return Date.now() - mtimeMs > 1000;
    if (pid === process.pid) return false;
    try {
      process.kill(pid, 0);
      return false;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'ESRCH';
    }
  }
}

