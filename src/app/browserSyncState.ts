// The relay cursor, pinned relay key and lease of one workspace in this browser: the sync engine's
// SyncStateStore over encrypted IndexedDB (`<docs prefix>-sync`), sealed like the rest of the state.
import { IndexedDBStorageAdapter } from '@automerge/automerge-repo-storage-indexeddb';
import type { DataKey } from '../crypto/keys.ts';
import { fail, ok, type Result } from '../crypto/result.ts';
import { EncryptedStorageAdapter } from '../docs/storage/EncryptedStorageAdapter.ts';
import type { StorageOpenFailure } from '../docs/storage/storageReasons.ts';
import { SyncStateStore } from '../docs/sync/syncState.ts';

export async function openBrowserSyncState(docsPrefix: string, dataKey: DataKey): Promise<Result<SyncStateStore, StorageOpenFailure>> {
  const storage = await EncryptedStorageAdapter.open(new IndexedDBStorageAdapter(`${docsPrefix}-sync`), dataKey);
  if (!storage.ok) return fail(storage.reason, storage.detail);
  return ok(new SyncStateStore(storage.value));
}
