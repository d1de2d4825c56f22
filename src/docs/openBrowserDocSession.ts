// A DocSession in the browser (the React app): the Repo over encrypted IndexedDB (`<name>-repo`), the
// session state over encrypted IndexedDB (`<name>-state`), and a Web Lock shared by every tab of the
// origin for sequence numbers. A wrong data key is refused before any Repo exists.
// Crash recovery of another tab's unsealed changes is off here (tabs have no pid to check).
import { Repo } from '@automerge/automerge-repo';
import { IndexedDBStorageAdapter } from '@automerge/automerge-repo-storage-indexeddb';
import type { DataKey } from '../crypto/keys.ts';
import { fail, ok, type Result } from '../crypto/result.ts';
import { DocSession, type DocSessionOptions } from './DocSession.ts';
import { RecordStore } from './records/RecordStore.ts';
import { WebLocksLock } from './seqLock.ts';
import { EncryptedStorageAdapter } from './storage/EncryptedStorageAdapter.ts';
import type { StorageOpenFailure } from './storage/storageReasons.ts';

export interface BrowserDocSessionOptions extends Omit<DocSessionOptions, 'repo' | 'state' | 'lock'> {
  /** Database name prefix for this profile and workspace (choose one that reveals no workspace id). */
  name: string;
  dataKey: DataKey;
  /** Web Locks implementation; defaults to navigator.locks (tests pass their own). */
  locks?: ConstructorParameters<typeof WebLocksLock>[1];
}

export interface BrowserDocSession {
  session: DocSession;
  records: RecordStore;
  repo: Repo;
  close(): Promise<void>;
}

export async function openBrowserDocSession(o: BrowserDocSessionOptions): Promise<Result<BrowserDocSession, StorageOpenFailure>> {
  const lock = new WebLocksLock(`${o.name}-profile`, o.locks);
  const opened = await lock.run(async () => {
    const storage = await EncryptedStorageAdapter.open(new IndexedDBStorageAdapter(`${o.name}-repo`), o.dataKey);
    if (!storage.ok) return storage;
    const state = await EncryptedStorageAdapter.open(new IndexedDBStorageAdapter(`${o.name}-state`), o.dataKey);
    if (!state.ok) return fail(state.reason, state.detail);
    const repo = new Repo({ storage: storage.value, network: [], sharePolicy: async () => false });
    const { name: _n, dataKey: _dk, locks: _l, ...rest } = o;
    const session = new DocSession({ ...rest, repo, state: state.value, lock });
    const records = await RecordStore.open(session);
    return ok({ repo, session, records });
  });
  if (!opened.ok) return opened;
  const { repo, session, records } = opened.value;
  return ok({
    session,
    records,
    repo,
    async close() {
      await session.close();
      await repo.shutdown();
    },
  });
}
