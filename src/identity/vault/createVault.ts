// Create a vault: fresh DEK, device and user keys, wrapped under the password (Argon2id) and under a
// new random recovery key, which is returned once, formatted for a person to write down.
import { DEFAULT_KDF, validateKdfParams } from '../../crypto/argon2.ts';
import { newVault } from './newVault.ts';
import { vaultExists, writeVaultFile } from './store.ts';
import type { UnlockedVault, VaultKdfOptions } from './types.ts';

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

  const made = await newVault(password, kdf.value);
  writeVaultFile(home, made.bytes);
  return { vault: made.vault, recoveryKey: made.recoveryKey };
}
