// A profile-wide exclusive lock, so two sessions on one profile (CLI processes, browser tabs) never
// assign the same (device, doc, seq) (DESIGN → Sequence numbers). Browser: Web Locks (here); Node: an
// O_EXCL lock file (seqLockFile.ts, kept apart so browser bundles never import node:fs).
export interface ProfileLock {
  /** Run `fn` while holding the lock; release it however `fn` ends. */
  run<T>(fn: () => Promise<T>): Promise<T>;
}

/** In-process mutex: a promise chain. */
export class Mutex {
  #tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(fn, fn);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}

/** For tests and single-process use. */
export class MemoryLock implements ProfileLock {
  readonly #mutex = new Mutex();
  run<T>(fn: () => Promise<T>): Promise<T> {
    return this.#mutex.run(fn);
  }
}

interface WebLocks {
  request<T>(name: string, options: { mode: 'exclusive' }, fn: () => Promise<T>): Promise<T>;
}

/** Browser: Web Locks are shared by every tab of an origin, and released when a tab dies. */
export class WebLocksLock implements ProfileLock {
  constructor(
    readonly name: string,
    private readonly locks: WebLocks = (globalThis as unknown as { navigator: { locks: WebLocks } }).navigator.locks,
  ) {}
  run<T>(fn: () => Promise<T>): Promise<T> {
    return this.locks.request(this.name, { mode: 'exclusive' }, fn);
  }
}
