// Recover: open the recovery wrap with the recovery key (HKDF, no Argon2id: the key is 256 random
// bits), then set a new password by re-wrapping. The recovery wrap and key stay valid afterwards.
import { DEFAULT_KDF } from '../../crypto/argon2.ts';
import { wipe } from '../../crypto/bytes.ts';
import { DOMAIN } from '../../crypto/domains.ts';
import { fail, ok, type Result } from '../../crypto/result.ts';
import { waitBeforeAttempt } from './backoff.ts';
import { parseRecoveryKey } from './recoveryKey.ts';
import { rewrapPassword, strongerKdf } from './rewrap.ts';
import { recoveryKek, toUnlockedVault, unwrap } from './secrets.ts';
import { readVaultFile, writeVaultFile } from './store.ts';
import type { UnlockedVault, VaultFailure } from './types.ts';
import { clearFailuresQuietly, noteFailure, type UnlockOptions } from './unlockVault.ts';
import { recoveryAd } from './vaultFile.ts';

export async function recoverVault(home: string, recoveryKey: string, newPassword: string, opts: UnlockOptions = {}): Promise<Result<UnlockedVault, VaultFailure>> {
  if (newPassword.length === 0) return fail('password_empty');
  const key = parseRecoveryKey(recoveryKey);
  if (!key.ok) return key;
  const file = readVaultFile(home);
  if (!file.ok) return file;
  await waitBeforeAttempt(home, opts);
  const userId = file.value.header.userId;
  const kek = recoveryKek(key.value, userId);
  const secrets = unwrap(kek, file.value.recoveryWrap, DOMAIN.vaultRecovery, recoveryAd(userId));
  wipe(kek, key.value);
  if (!secrets.ok) {
    if (secrets.reason === 'wrong_key') {
      noteFailure(home, opts);
      return fail('wrong_recovery_key');
    }
    return fail(secrets.reason, secrets.detail);
  }
  clearFailuresQuietly(home);
  try {
    const { header, bytes } = await rewrapPassword(file.value, secrets.value, newPassword, strongerKdf(file.value.header.kdf, opts.kdf ?? DEFAULT_KDF));
    writeVaultFile(home, bytes);
    return ok(toUnlockedVault(userId, secrets.value, header.kdf));
  } catch (e) {
    return fail('vault_io', (e as Error).message);
  }
}
