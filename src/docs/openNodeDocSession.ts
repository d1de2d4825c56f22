// A DocSession on a Node profile directory: the Repo over encrypted NodeFS storage (<dir>/repo), the
// session state (outbox, cursors, pending, quarantine, provenance) over encrypted atomic files
// (<dir>/state), and the profile-wide lock file <lockPath>. A wrong data key is refused before any
// Repo exists (DESIGN → Pitfalls: a Repo on a wrong key dies with an unhandled rejection).
import { join } from 'node:path';
import { Repo } from '@automerge/automerge-repo';
import type { DataKey } from '../crypto/keys.ts';
import { fail, ok, type Result } from '../crypto/result.ts';
import { AtomicFileStorageAdapter } from './AtomicFileStorageAdapter.ts';
import { DocSession, type DocSessionOptions } from './DocSession.ts';
import { RecordStore } from './records/RecordStore.ts';
import { FileLock } from './seqLockFile.ts';
import { EncryptedStorageAdapter } from './storage/EncryptedStorageAdapter.ts';
import { openNodeStorage } from './storage/openNodeStorage.ts';
import type { StorageOpenFailure } from './storage/storageReasons.ts';

export interface NodeDocSessionOptions extends Omit<DocSessionOptions, 'repo' | 'state' | 'lock'> {
  /** This workspace's directory in the profile. */
  dir: string;
  /** Profile-wide lock file (shared by every workspace of the profile). */
  lockPath: string;
  dataKey: DataKey;
}

export interface NodeDocSession {
  session: DocSession;
  records: RecordStore;
  /** Flush every edit into the outbox and the Repo to disk. */
  close(): Promise<void>;
}

export async function openNodeDocSession(o: NodeDocSessionOptions): Promise<Result<NodeDocSession, StorageOpenFailure>> {
  const lock = new FileLock(o.lockPath);
  // Under the profile lock: two processes starting on a fresh profile must not race writing and
  // reading the key-check records (NodeFS writes are not atomic), nor both create the index document.
  const opened = await lock.run(async () => {
    const storage = await openNodeStorage(join(o.dir, 'repo'), o.dataKey);
    if (!storage.ok) return storage;
    const state = await EncryptedStorageAdapter.open(new AtomicFileStorageAdapter(join(o.dir, 'state')), o.dataKey);
    if (!state.ok) return fail(state.reason, state.detail);
    const repo = new Repo({ storage: storage.value, network: [], sharePolicy: async () => false });
    const { dir: _dir, lockPath: _lp, dataKey: _dk, ...rest } = o;
    const session = new DocSession({ ...rest, repo, state: state.value, lock });
    const records = await RecordStore.open(session);
    return ok({ repo, session, records });
  });
  if (!opened.ok) return opened;
  const { repo, session, records } = opened.value;
  return ok({
    session,
    records,
    async close() {
      await session.close();
      await repo.shutdown();
    },
  });
}
