// The vault's public types: what an unlocked vault holds, and every reason an operation on it can fail.
// Reason codes are stable (scripts and tests match on them); VAULT_FAILURE_TEXT says each in words.
import type { BoxSecretKey, DataKey, DeviceSigningKey, SigningSecretKey } from '../../crypto/keys.ts';
import type { KdfParams } from '../../crypto/argon2.ts';

export type { KdfParams };

export interface UnlockedVault {
  userId: string;
  /** The DEK: random, 256-bit, encrypts all local storage. */
  dataKey: DataKey;
  device: { deviceId: string; signingKey: DeviceSigningKey; signingPub: Uint8Array; boxKey: BoxSecretKey; boxPub: Uint8Array };
  user: { userId: string; signingKey: SigningSecretKey; signingPub: Uint8Array };
  /** The Argon2id parameters the vault is wrapped under now (after any upgrade). */
  kdf: KdfParams;
}

export const VAULT_FAILURE_TEXT = {
  wrong_password: 'wrong password',
  wrong_recovery_key: 'wrong recovery key',
  recovery_key_malformed: 'that is not a valid recovery key (check it for typos)',
  password_empty: 'the password must not be empty',
  vault_missing: 'no vault here (run `cloister init` first)',
  vault_exists: 'a vault already exists here',
  vault_malformed: 'the vault file is damaged',
  vault_tampered: 'the vault file is damaged or was altered (authentication failed)',
  vault_version_unsupported: 'the vault file was written by a newer, unsupported version of Cloister',
  kdf_params_invalid: 'the vault file asks for unsafe key-derivation parameters',
  vault_io: 'the vault file could not be read or written',
} as const;

export type VaultFailure = keyof typeof VAULT_FAILURE_TEXT;

/** One line for a person: the reason in words plus the detail, if any. Never includes secrets. */
export function describeVaultFailure(f: { reason: VaultFailure; detail?: string }): string {
  const text = VAULT_FAILURE_TEXT[f.reason];
  return f.detail ? `${text}: ${f.detail}` : text;
}

/** Options shared by the verbs that derive a new password wrap. */
export interface VaultKdfOptions {
  /** Argon2id parameters for a new wrap, and the upgrade target at unlock. Default: DEFAULT_KDF. */
  kdf?: KdfParams;
}
