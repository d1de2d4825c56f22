// The sync state store of a Node profile: <workspace docs dir>/sync, sealed under the vault's data key
// like the rest of the session state (keyed-hash file names, AEAD values).
import { join } from 'node:path';
import type { DataKey } from '../../crypto/keys.ts';
import { fail, ok, type Result } from '../../crypto/result.ts';
import { AtomicFileStorageAdapter } from '../AtomicFileStorageAdapter.ts';
import { EncryptedStorageAdapter } from '../storage/EncryptedStorageAdapter.ts';
import type { StorageOpenFailure } from '../storage/storageReasons.ts';
import { SyncStateStore } from './syncState.ts';

export async function openNodeSyncState(docsDir: string, dataKey: DataKey): Promise<Result<SyncStateStore, StorageOpenFailure>> {
  const storage = await EncryptedStorageAdapter.open(new AtomicFileStorageAdapter(join(docsDir, 'sync')), dataKey);
  if (!storage.ok) return fail(storage.reason, storage.detail);
  return ok(new SyncStateStore(storage.value));
}
