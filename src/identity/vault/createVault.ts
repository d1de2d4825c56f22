// Create a vault: fresh DEK, device and user keys, wrapped under the password (Argon2id) and under a
// new random recovery key, which is returned once, formatted for a person to write down.
import { DEFAULT_KDF, validateKdfParams } from '../../crypto/argon2.ts';
import { randomBytes, toBase64url } from '../../crypto/bytes.ts';
import { generateSigningKey } from '../../crypto/ed25519.ts';
import { asKey, type DataKey, type DeviceSigningKey, type RecoveryKey, type SigningSecretKey } from '../../crypto/keys.ts';
import { generateBoxKey } from '../../crypto/lockbox.ts';
import { newSalt, toUnlockedVault, wrapWithPassword, wrapWithRecoveryKey, type VaultSecrets } from './secrets.ts';
import { formatRecoveryKey } from './recoveryKey.ts';
import { vaultExists, writeVaultFile } from './store.ts';
import type { UnlockedVault, VaultKdfOptions } from './types.ts';
import { encodeVaultFile, VAULT_VERSION, type VaultHeader } from './vaultFile.ts';

/** Thrown (API misuse, not untrusted input) when creating over an existing vault or with bad arguments. */
export class VaultCreateError extends Error {
  constructor(readonly reason: 'vault_exists' | 'password_empty' | 'kdf_params_invalid', message: string) {
    super(message);
  }
}

export async function createVault(home: string, password: string, opts: VaultKdfOptions = {}): Promise<{ vault: UnlockedVault; recoveryKey: string }> {
  if (vaultExists(home)) throw new VaultCreateError('vault_exists', `a vault already exists in ${home}`);
  if (password.length === 0) throw new VaultCreateError('password_empty', 'the password must not be empty');
  const kdf = validateKdfParams(opts.kdf ?? DEFAULT_KDF);
  if (!kdf.ok) throw new VaultCreateError('kdf_params_invalid', `unsafe Argon2id parameters: ${kdf.detail}`);

  const secrets: VaultSecrets = {
    dataKey: asKey<DataKey>(randomBytes(32)),
    deviceSigningKey: generateSigningKey<DeviceSigningKey>().secretKey,
    deviceBoxKey: generateBoxKey().secretKey,
    userSigningKey: generateSigningKey<SigningSecretKey>().secretKey,
  };
  const userId = toBase64url(randomBytes(16));
  const recoveryKey = asKey<RecoveryKey>(randomBytes(32));
  const header: VaultHeader = { version: VAULT_VERSION, userId, kdf: kdf.value, salt: newSalt() };
  const passwordWrap = await wrapWithPassword(secrets, header, password);
  const recoveryWrap = wrapWithRecoveryKey(secrets, userId, recoveryKey);
  writeVaultFile(home, encodeVaultFile(header, passwordWrap, recoveryWrap));
  const shown = formatRecoveryKey(recoveryKey);
  recoveryKey.fill(0);
  return { vault: toUnlockedVault(userId, secrets, kdf.value), recoveryKey: shown };
}
