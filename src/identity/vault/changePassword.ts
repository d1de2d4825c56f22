// Change the password: open with the old one, re-wrap under the new one (fresh salt, never weaker
// KDF parameters). Only the wrap changes; the DEK and all local data stay as they are. The recovery
// wrap is kept, so the same recovery key still works afterwards.
import { DEFAULT_KDF } from '../../crypto/argon2.ts';
import { fail, ok, type Result } from '../../crypto/result.ts';
import { waitBeforeAttempt } from './backoff.ts';
import { openWithPassword, rewrapPassword, strongerKdf } from './rewrap.ts';
import { readVaultFile, writeVaultFile } from './store.ts';
import type { VaultFailure } from './types.ts';
import { clearFailuresQuietly, noteFailure, type UnlockOptions } from './unlockVault.ts';

export async function changePassword(home: string, oldPassword: string, newPassword: string, opts: UnlockOptions = {}): Promise<Result<void, VaultFailure>> {
  if (newPassword.length === 0) return fail('password_empty');
  const file = readVaultFile(home);
  if (!file.ok) return file;
  await waitBeforeAttempt(home, opts);
  const secrets = await openWithPassword(file.value, oldPassword);
  if (!secrets.ok) {
    if (secrets.reason === 'wrong_password') noteFailure(home, opts);
    return secrets;
  }
  clearFailuresQuietly(home);
  try {
    const { bytes } = await rewrapPassword(file.value, secrets.value, newPassword, strongerKdf(file.value.header.kdf, opts.kdf ?? DEFAULT_KDF));
    writeVaultFile(home, bytes);
  } catch (e) {
    return fail('vault_io', (e as Error).message);
  }
  return ok(undefined);
}
