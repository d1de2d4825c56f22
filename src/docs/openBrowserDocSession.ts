// A DocSession in the browser (the React app): the Repo over encrypted IndexedDB (`<name>-repo`), the
// session state over encrypted IndexedDB (`<name>-state`), and a Web Lock shared by every tab of the
// origin for sequence numbers. A wrong data key is refused before any Repo exists.
// Crash recovery: each session holds a Web Lock named after its nonce for as long as it lives; the
// browser frees it when a tab dies, so the next session sees which registered sessions are gone and
// seals their unsealed changes (without that, peers would wait forever on a missing dependency).
import { Repo } from '@automerge/automerge-repo';
import { IndexedDBStorageAdapter } from '@automerge/automerge-repo-storage-indexeddb';
import { toHex } from '../crypto/bytes.ts';
import type { DataKey } from '../crypto/keys.ts';
import { fail, ok, type Result } from '../crypto/result.ts';
import { newSessionNonce } from './actor.ts';
import { DocSession, type DocSessionOptions } from './DocSession.ts';
import { RecordStore } from './records/RecordStore.ts';
import { WebLocksLock } from './seqLock.ts';
import type { SessionRecord } from './sessions.ts';
import { EncryptedStorageAdapter } from './storage/EncryptedStorageAdapter.ts';
import type { StorageOpenFailure } from './storage/storageReasons.ts';

/** The part of navigator.locks this module uses. */
export interface BrowserLocks {
  request<T>(name: string, options: { mode: 'exclusive' }, fn: () => Promise<T>): Promise<T>;
  query?(): Promise<{ held?: { name?: string }[] }>;
}

export interface BrowserDocSessionOptions extends Omit<DocSessionOptions, 'repo' | 'state' | 'lock' | 'isSessionAlive'> {
  /** Database name prefix for this profile and workspace (choose one that reveals no workspace id). */
  name: string;
  dataKey: DataKey;
  /** Web Locks implementation; defaults to navigator.locks (tests pass their own). */
  locks?: BrowserLocks;
}

export interface BrowserDocSession {
  session: DocSession;
  records: RecordStore;
  repo: Repo;
  close(): Promise<void>;
}

/** Hold `name` until the returned release() is called (or the tab dies). */
async function holdLock(locks: BrowserLocks, name: string): Promise<() => void> {
  let release!: () => void;
  const released = new Promise<void>(r => (release = r));
  await new Promise<void>(acquired => void locks.request(name, { mode: 'exclusive' }, () => (acquired(), released)));
  return release;
}

export async function openBrowserDocSession(o: BrowserDocSessionOptions): Promise<Result<BrowserDocSession, StorageOpenFailure>> {
  const locks = o.locks ?? (globalThis as unknown as { navigator: { locks: BrowserLocks } }).navigator.locks;
  const lock = new WebLocksLock(`${o.name}-profile`, locks);
  const sessionNonce = o.sessionNonce ?? newSessionNonce();
  const sessionLockName = (nonce: Uint8Array) => `${o.name}-session-${toHex(nonce)}`;
  const releaseSessionLock = await holdLock(locks, sessionLockName(sessionNonce));
  const opened = await lock.run(async () => {
    const storage = await EncryptedStorageAdapter.open(new IndexedDBStorageAdapter(`${o.name}-repo`), o.dataKey);
    if (!storage.ok) return storage;
    const state = await EncryptedStorageAdapter.open(new IndexedDBStorageAdapter(`${o.name}-state`), o.dataKey);
    if (!state.ok) return fail(state.reason, state.detail);
    // Under the profile lock every registered session already holds its session lock, so one whose
    // lock is free is gone. Without query() (old browsers) assume alive: never recover a live tab.
    const held = locks.query ? new Set(((await locks.query()).held ?? []).map(l => l.name)) : undefined;
    const isSessionAlive = (r: SessionRecord) => !held || held.has(sessionLockName(r.nonce));
    const repo = new Repo({ storage: storage.value, network: [], sharePolicy: async () => false });
    const { name: _n, dataKey: _dk, locks: _l, ...rest } = o;
    const session = new DocSession({ ...rest, sessionNonce, repo, state: state.value, lock, isSessionAlive });
    await session.start();
    const records = await RecordStore.open(session);
    return ok({ repo, session, records });
  });
  if (!opened.ok) {
    releaseSessionLock();
    return opened;
  }
  const { repo, session, records } = opened.value;
  return ok({
    session,
    records,
    repo,
    async close() {
      await session.close();
      await repo.shutdown();
      releaseSessionLock();
    },
  });
}
