// Unlock: read and strictly decode the vault, wait out any (advisory) back-off, derive the KEK with
// Argon2id and open the password wrap. When the stored KDF parameters are below the target
// (DEFAULT_KDF unless given), re-wrap under the stronger ones now, while we hold the password.
import { DEFAULT_KDF, kdfNeedsUpgrade } from '../../crypto/argon2.ts';
import { ok, type Result } from '../../crypto/result.ts';
import { clearFailures, recordFailure, waitBeforeAttempt, type BackoffOptions } from './backoff.ts';
import { openWithPassword, rewrapPassword, strongerKdf } from './rewrap.ts';
import { toUnlockedVault } from './secrets.ts';
import { readVaultFile, writeVaultFile } from './store.ts';
import type { UnlockedVault, VaultFailure, VaultKdfOptions } from './types.ts';

export interface UnlockOptions extends VaultKdfOptions, BackoffOptions {
  /** Told when the KDF upgrade could not be written (e.g. read-only home); the unlock still succeeds. */
  onUpgradeFailed?: (error: Error) => void;
}

export async function unlockVault(home: string, password: string, opts: UnlockOptions = {}): Promise<Result<UnlockedVault, VaultFailure>> {
  const file = readVaultFile(home);
  if (!file.ok) return file;
  await waitBeforeAttempt(home, opts);
  const secrets = await openWithPassword(file.value, password);
  if (!secrets.ok) {
    if (secrets.reason === 'wrong_password') noteFailure(home, opts);
    return secrets;
  }
  clearFailuresQuietly(home);
  let kdf = file.value.header.kdf;
  const target = opts.kdf ?? DEFAULT_KDF;
  if (kdfNeedsUpgrade(kdf, target)) {
    try {
      const rewrapped = await rewrapPassword(file.value, secrets.value, password, strongerKdf(kdf, target));
      writeVaultFile(home, rewrapped.bytes);
      kdf = rewrapped.header.kdf;
    } catch (e) {
      // The old vault is intact (atomic write) and unlocking succeeded; the upgrade waits for next time.
      opts.onUpgradeFailed?.(e as Error);
    }
  }
  return ok(toUnlockedVault(file.value.header.userId, secrets.value, kdf));
}

/** The counter is advisory; failing to write it must not change the outcome. */
export function noteFailure(home: string, opts: BackoffOptions): void {
  try {
    recordFailure(home, (opts.now ?? Date.now)());
  } catch { /* read-only home: no back-off, nothing else changes */ }
}

export function clearFailuresQuietly(home: string): void {
  try {
    clearFailures(home);
  } catch { /* advisory */ }
}
