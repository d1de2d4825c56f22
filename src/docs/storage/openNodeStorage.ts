// Encrypted local storage for Node (the CLI): NodeFSStorageAdapter in `dir`, wrapped so that file
// names are keyed hashes and file contents are sealed. The data key is checked before returning.
import { NodeFSStorageAdapter } from '@automerge/automerge-repo-storage-nodefs';
import type { DataKey } from '../../crypto/keys.ts';
import type { Result } from '../../crypto/result.ts';
import { EncryptedStorageAdapter, type EncryptedStorageOptions } from './EncryptedStorageAdapter.ts';
import type { StorageOpenFailure } from './storageReasons.ts';

export function openNodeStorage(
  dir: string,
  dataKey: DataKey,
  options?: EncryptedStorageOptions,
): Promise<Result<EncryptedStorageAdapter, StorageOpenFailure>> {
  return EncryptedStorageAdapter.open(new NodeFSStorageAdapter(dir), dataKey, options);
}
