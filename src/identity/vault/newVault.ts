// A new vault's bytes, wherever they will be stored: fresh DEK, device and user keys, wrapped under the
// password (Argon2id) and under a new random recovery key, returned once, formatted for a person.
// No I/O: createVault (Node file) and createBrowserVault (IndexedDB) store the bytes.
import type { KdfParams } from '../../crypto/argon2.ts';
import { randomBytes, toBase64url } from '../../crypto/bytes.ts';
import { generateSigningKey } from '../../crypto/ed25519.ts';
import { asKey, type DataKey, type DeviceSigningKey, type RecoveryKey, type SigningSecretKey } from '../../crypto/keys.ts';
import { generateBoxKey } from '../../crypto/lockbox.ts';
import { formatRecoveryKey } from './recoveryKey.ts';
import { newSalt, toUnlockedVault, wrapWithPassword, wrapWithRecoveryKey, type VaultSecrets } from './secrets.ts';
import type { UnlockedVault } from './types.ts';
import { encodeVaultFile, VAULT_VERSION, type VaultHeader } from './vaultFile.ts';

/** `kdf` must already be validated by the caller. */
export async function newVault(password: string, kdf: KdfParams): Promise<{ bytes: Uint8Array; vault: UnlockedVault; recoveryKey: string }> {
  const secrets: VaultSecrets = {
    dataKey: asKey<DataKey>(randomBytes(32)),
    deviceSigningKey: generateSigningKey<DeviceSigningKey>().secretKey,
    deviceBoxKey: generateBoxKey().secretKey,
    userSigningKey: generateSigningKey<SigningSecretKey>().secretKey,
  };
  const userId = toBase64url(randomBytes(16));
  const recoveryKey = asKey<RecoveryKey>(randomBytes(32));
  const header: VaultHeader = { version: VAULT_VERSION, userId, kdf, salt: newSalt() };
  const passwordWrap = await wrapWithPassword(secrets, header, password);
  const recoveryWrap = wrapWithRecoveryKey(secrets, userId, recoveryKey);
  const shown = formatRecoveryKey(recoveryKey);
  recoveryKey.fill(0);
  return { bytes: encodeVaultFile(header, passwordWrap, recoveryWrap), vault: toUnlockedVault(userId, secrets, kdf), recoveryKey: shown };
}
