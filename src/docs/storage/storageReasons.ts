// Stable reason codes for the encrypted storage adapter, in one place.
// Open failures come back as Result reasons; per-value failures are reported to onCorrupt, never thrown.

/** Why `EncryptedStorageAdapter.open` refused to hand out an adapter. */
export type StorageOpenFailure =
  | 'storage_wrong_key' // the key-check record was sealed under a different data key
  | 'storage_keycheck_corrupt' // the key-check record is there but damaged (right key commitment, bad tag, or malformed)
  | 'storage_unavailable'; // the inner adapter threw while reading or writing the key-check record

/** Why one stored value was treated as missing. */
export type StorageCorruptReason =
  | 'storage_value_malformed' // not a sealed value, or the decrypted framing doesn't parse
  | 'storage_value_wrong_key' // sealed under another data key
  | 'storage_value_auth_failed' // tampered bytes, or moved from another name (the name is associated data)
  | 'storage_value_key_mismatch'; // decrypts, but the key path inside isn't the one asked for

export const STORAGE_OPEN_FAILURES: readonly StorageOpenFailure[] = ['storage_wrong_key', 'storage_keycheck_corrupt', 'storage_unavailable'];
export const STORAGE_CORRUPT_REASONS: readonly StorageCorruptReason[] = [
  'storage_value_malformed',
  'storage_value_wrong_key',
  'storage_value_auth_failed',
  'storage_value_key_mismatch',
];
