// Elects one tab per profile and workspace to run the sync engine: the holder of a Web Lock named
// after the workspace's storage name. The lock is held while the tab lives (or until release()); when
// the leader tab closes or crashes the browser frees it and the next waiting tab is granted it.
// Without Web Locks (not a browser) this tab leads at once.

/** The part of navigator.locks used here. */
export interface LeaderLocks {
  request(name: string, options: { mode: 'exclusive'; signal?: AbortSignal }, fn: () => Promise<void>): Promise<void>;
}

export interface Leadership {
  /** Give up leadership (or stop waiting for it). */
  release(): void;
}

export const leaderLockName = (storageName: string): string => `${storageName}-sync-leader`;

/** Wait for leadership of `storageName`; `onLead` runs once it is granted (never after release()). */
export function electLeader(storageName: string, onLead: () => void, locks: LeaderLocks | undefined = (globalThis.navigator as { locks?: LeaderLocks } | undefined)?.locks): Leadership {
  let released = false;
  let let_go!: () => void;
  const held = new Promise<void>((r) => (let_go = r));
  if (!locks) {
    queueMicrotask(() => released || onLead());
    return { release: () => void (released = true) };
  }
  const abort = new AbortController();
  locks
    .request(leaderLockName(storageName), { mode: 'exclusive', signal: abort.signal }, async () => {
      if (released) return;
      onLead();
      await held;
    })
    .catch(() => undefined); // AbortError when released while still waiting
  return {
    release() {
      if (released) return;
      released = true;
      abort.abort();
      let_go();
    },
  };
}
