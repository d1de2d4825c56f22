// Encrypted local storage for the browser: IndexedDBStorageAdapter in database `dbName`, wrapped so
// that keys are keyed hashes and values are sealed. The data key is checked before returning.
import { IndexedDBStorageAdapter } from '@automerge/automerge-repo-storage-indexeddb';
import type { DataKey } from '../../crypto/keys.ts';
import type { Result } from '../../crypto/result.ts';
import { EncryptedStorageAdapter, type EncryptedStorageOptions } from './EncryptedStorageAdapter.ts';
import type { StorageOpenFailure } from './storageReasons.ts';

export function openBrowserStorage(
  dbName: string,
  dataKey: DataKey,
  options?: EncryptedStorageOptions,
): Promise<Result<EncryptedStorageAdapter, StorageOpenFailure>> {
  return EncryptedStorageAdapter.open(new IndexedDBStorageAdapter(dbName), dataKey, options);
}
