// The vault where there is no file system (the web app): the same format, wraps and Argon2id as the
// Node vault (vaultFile.ts, secrets.ts), stored as one value in a BytesStore (IndexedDB). A KDF upgrade
// at unlock re-wraps in place. There is no back-off counter here: a page reload would reset it, so
// the Argon2id cost per guess is the only throttle (the same real defence as on disk).
import { DEFAULT_KDF, kdfNeedsUpgrade, validateKdfParams } from '../../crypto/argon2.ts';
import { wipe } from '../../crypto/bytes.ts';
import { DOMAIN } from '../../crypto/domains.ts';
import { fail, ok, type Result } from '../../crypto/result.ts';
import type { BytesStore } from './idbBytes.ts';
import { parseRecoveryKey } from './recoveryKey.ts';
import { newVault } from './newVault.ts';
import { openWithPassword, rewrapPassword, strongerKdf } from './rewrap.ts';
import { recoveryKek, toUnlockedVault, unwrap, type VaultSecrets } from './secrets.ts';
import type { UnlockedVault, VaultFailure, VaultKdfOptions } from './types.ts';
import { decodeVaultFile, recoveryAd, type VaultFile, type VaultHeader } from './vaultFile.ts';

/** The key the vault's bytes live under in the store. */
export const BROWSER_VAULT_KEY = 'vault';

export async function browserVaultExists(store: BytesStore): Promise<boolean> {
  return (await store.get(BROWSER_VAULT_KEY)) !== undefined;
}

/** Create a vault in `store`; the recovery key is returned once. Refuses to overwrite an existing one. */
export async function createBrowserVault(store: BytesStore, password: string, opts: VaultKdfOptions = {}): Promise<Result<{ vault: UnlockedVault; recoveryKey: string }, VaultFailure>> {
  if (await browserVaultExists(store)) return fail('vault_exists');
  if (password.length === 0) return fail('password_empty');
  const kdf = validateKdfParams(opts.kdf ?? DEFAULT_KDF);
  if (!kdf.ok) return fail('kdf_params_invalid', kdf.detail);
  const made = await newVault(password, kdf.value);
  try {
    await store.put(BROWSER_VAULT_KEY, made.bytes);
  } catch (e) {
    return fail('vault_io', (e as Error).message);
  }
  return ok({ vault: made.vault, recoveryKey: made.recoveryKey });
}

async function readFile(store: BytesStore): Promise<Result<VaultFile, VaultFailure>> {
  let bytes: Uint8Array | undefined;
  try {
    bytes = await store.get(BROWSER_VAULT_KEY);
  } catch (e) {
    return fail('vault_io', (e as Error).message);
  }
  if (!bytes) return fail('vault_missing');
  return decodeVaultFile(bytes);
}

/** Re-wrap under `password` (fresh salt, `kdf`; the recovery wrap kept byte for byte) and replace the stored vault. */
async function rewrap(store: BytesStore, file: VaultFile, secrets: VaultSecrets, password: string, kdf: VaultHeader['kdf']): Promise<VaultHeader> {
  const { header, bytes } = await rewrapPassword(file, secrets, password, kdf);
  await store.put(BROWSER_VAULT_KEY, bytes);
  return header;
}

/** Unlock with the password; a wrong one is `wrong_password` and nothing more. */
export async function unlockBrowserVault(store: BytesStore, password: string, opts: VaultKdfOptions = {}): Promise<Result<UnlockedVault, VaultFailure>> {
  const file = await readFile(store);
  if (!file.ok) return file;
  const secrets = await openWithPassword(file.value, password);
  if (!secrets.ok) return secrets;
  let kdf = file.value.header.kdf;
  const target = opts.kdf ?? DEFAULT_KDF;
  if (kdfNeedsUpgrade(kdf, target)) {
    try {
      kdf = (await rewrap(store, file.value, secrets.value, password, strongerKdf(kdf, target))).kdf;
    } catch {
      /* the old vault is intact; the upgrade waits for next time */
    }
  }
  return ok(toUnlockedVault(file.value.header.userId, secrets.value, kdf));
}

/** Change the password: only the password wrap changes (no data is re-encrypted). */
export async function changeBrowserPassword(store: BytesStore, oldPassword: string, newPassword: string, opts: VaultKdfOptions = {}): Promise<Result<UnlockedVault, VaultFailure>> {
  if (newPassword.length === 0) return fail('password_empty');
  const file = await readFile(store);
  if (!file.ok) return file;
  const secrets = await openWithPassword(file.value, oldPassword);
  if (!secrets.ok) return secrets;
  try {
    const header = await rewrap(store, file.value, secrets.value, newPassword, strongerKdf(file.value.header.kdf, opts.kdf ?? DEFAULT_KDF));
    return ok(toUnlockedVault(header.userId, secrets.value, header.kdf));
  } catch (e) {
    return fail('vault_io', (e as Error).message);
  }
}

/** Forgot the password: open the recovery wrap with the recovery key and set a new password. */
export async function recoverBrowserVault(store: BytesStore, recoveryKey: string, newPassword: string, opts: VaultKdfOptions = {}): Promise<Result<UnlockedVault, VaultFailure>> {
  if (newPassword.length === 0) return fail('password_empty');
  const key = parseRecoveryKey(recoveryKey);
  if (!key.ok) return key;
  const file = await readFile(store);
  if (!file.ok) return file;
  const userId = file.value.header.userId;
  const kek = recoveryKek(key.value, userId);
  const secrets = unwrap(kek, file.value.recoveryWrap, DOMAIN.vaultRecovery, recoveryAd(userId));
  wipe(kek, key.value);
  if (!secrets.ok) return secrets.reason === 'wrong_key' ? fail('wrong_recovery_key') : fail(secrets.reason, secrets.detail);
  try {
    const header = await rewrap(store, file.value, secrets.value, newPassword, strongerKdf(file.value.header.kdf, opts.kdf ?? DEFAULT_KDF));
    return ok(toUnlockedVault(userId, secrets.value, header.kdf));
  } catch (e) {
    return fail('vault_io', (e as Error).message);
  }
}
