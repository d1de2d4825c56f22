// The vault where there is no file system (the web app): the same format, wraps and Argon2id as the
// Node vault (vaultFile.ts, secrets.ts), stored as one value in a BytesStore (IndexedDB). A KDF upgrade
// at unlock re-wraps in place. There is no back-off counter here: a page reload would reset it, so
// the Argon2id cost per guess is the only throttle (the same real defence as on disk).
import { DEFAULT_KDF, kdfNeedsUpgrade, validateKdfParams } from '../../crypto/argon2.ts';
import { randomBytes, toBase64url } from '../../crypto/bytes.ts';
import { generateSigningKey } from '../../crypto/ed25519.ts';
import { asKey, type DataKey, type DeviceSigningKey, type RecoveryKey, type SigningSecretKey } from '../../crypto/keys.ts';
import { generateBoxKey } from '../../crypto/lockbox.ts';
import { fail, ok, type Result } from '../../crypto/result.ts';
import type { BytesStore } from './idbBytes.ts';
import { formatRecoveryKey } from './recoveryKey.ts';
import { openWithPassword, strongerKdf } from './rewrap.ts';
import { newSalt, toUnlockedVault, wrapWithPassword, wrapWithRecoveryKey, type VaultSecrets } from './secrets.ts';
import type { UnlockedVault, VaultFailure, VaultKdfOptions } from './types.ts';
import { decodeVaultFile, encodeVaultFile, VAULT_VERSION, type VaultHeader } from './vaultFile.ts';

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
  try {
    await store.put(BROWSER_VAULT_KEY, encodeVaultFile(header, passwordWrap, recoveryWrap));
  } catch (e) {
    return fail('vault_io', (e as Error).message);
  }
  const shown = formatRecoveryKey(recoveryKey);
  recoveryKey.fill(0);
  return ok({ vault: toUnlockedVault(userId, secrets, kdf.value), recoveryKey: shown });
}

/** Unlock with the password; a wrong one is `wrong_password` and nothing more. */
export async function unlockBrowserVault(store: BytesStore, password: string, opts: VaultKdfOptions = {}): Promise<Result<UnlockedVault, VaultFailure>> {
  let bytes: Uint8Array | undefined;
  try {
    bytes = await store.get(BROWSER_VAULT_KEY);
  } catch (e) {
    return fail('vault_io', (e as Error).message);
  }
  if (!bytes) return fail('vault_missing');
  const file = decodeVaultFile(bytes);
  if (!file.ok) return file;
  const secrets = await openWithPassword(file.value, password);
  if (!secrets.ok) return secrets;
  let kdf = file.value.header.kdf;
  const target = opts.kdf ?? DEFAULT_KDF;
  if (kdfNeedsUpgrade(kdf, target)) {
    try {
      const header: VaultHeader = { ...file.value.header, kdf: strongerKdf(kdf, target), salt: newSalt() };
      const passwordWrap = await wrapWithPassword(secrets.value, header, password);
      await store.put(BROWSER_VAULT_KEY, encodeVaultFile(header, passwordWrap, file.value.recoveryWrap));
      kdf = header.kdf;
    } catch {
      /* the old vault is intact; the upgrade waits for next time */
    }
  }
  return ok(toUnlockedVault(file.value.header.userId, secrets.value, kdf));
}
