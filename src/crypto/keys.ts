// Typed keys: a DataKey can't be passed where an EpochKey is expected, even though both are 32 bytes.
declare const brand: unique symbol;
export type Key<Name extends string> = Uint8Array & { readonly [brand]: Name };

export type DataKey = Key<'DataKey'>; // DEK: encrypts all local storage
export type KeyEncryptionKey = Key<'KeyEncryptionKey'>; // from Argon2id(password) or the recovery key
export type RecoveryKey = Key<'RecoveryKey'>;
export type EpochKey = Key<'EpochKey'>; // per-workspace, per-epoch
export type DocumentKey = Key<'DocumentKey'>; // HKDF(epochKey, docId)
export type StorageKey = Key<'StorageKey'>; // subkey of DEK for storage values
export type StorageNameKey = Key<'StorageNameKey'>; // subkey of DEK for keyed-hash names
export type AeadKey = DataKey | KeyEncryptionKey | RecoveryKey | EpochKey | DocumentKey | StorageKey | Key<'AeadKey'>;
export type DeviceSigningKey = Key<'DeviceSigningKey'>; // Ed25519 32-byte seed
export type SigningSecretKey = DeviceSigningKey | Key<'UserSigningKey'> | Key<'RelaySigningKey'> | Key<'SigningKey'>;
export type BoxSecretKey = Key<'BoxSecretKey'>; // X25519 secret
export type PublicKey = Uint8Array; // public keys need no brand: knowing one grants nothing

/** Brand raw bytes as a key. Only construction code (KDFs, keygen, decoders) should call this. */
export function asKey<K extends Key<string>>(bytes: Uint8Array): K {
  if (!(bytes instanceof Uint8Array) || bytes.length !== 32) throw new RangeError('key must be 32 bytes');
  return bytes as K;
}
