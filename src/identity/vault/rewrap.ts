// Shared by unlock, password change and recovery: open the password wrap, and write a new password
// wrap (fresh salt, possibly stronger KDF parameters) while keeping the recovery wrap byte for byte.
// Only the wrap changes; the DEK stays, so no local data is re-encrypted.
import { deriveKek, type KdfParams } from '../../crypto/argon2.ts';
import { DOMAIN } from '../../crypto/domains.ts';
import { wipe } from '../../crypto/bytes.ts';
import { fail, type Result } from '../../crypto/result.ts';
import { newSalt, unwrap, wrapWithPassword, type VaultSecrets } from './secrets.ts';
import type { VaultFailure } from './types.ts';
import { encodeVaultFile, type VaultFile, type VaultHeader } from './vaultFile.ts';

/**
 * Try a password. There is no stored password hash to compare against: a successful AEAD unwrap is
 * the check. A separate verifier would be one more thing to guess against offline at the same cost
 * and adds nothing (NIST SP 800-63B §5.2.11 asks for a salted, costly KDF over the secret, which the
 * Argon2id KEK is). A wrong password says only "wrong password".
 */
export async function openWithPassword(file: VaultFile, password: string): Promise<Result<VaultSecrets, VaultFailure>> {
  // A vault is never created with an empty password (and hash-wasm refuses one), so it is simply wrong.
  if (password.length === 0) return fail('wrong_password');
  const kek = await deriveKek(password, file.header.salt, file.header.kdf);
  const opened = unwrap(kek, file.passwordWrap, DOMAIN.vault, file.headerBytes);
  wipe(kek);
  if (opened.ok) return opened;
  return opened.reason === 'wrong_key' ? fail('wrong_password') : fail(opened.reason, opened.detail);
}

/** Never weaker than what is stored: the stronger of the two in each dimension. */
export function strongerKdf(stored: KdfParams, target: KdfParams): KdfParams {
  return { alg: 'argon2id', m_kib: Math.max(stored.m_kib, target.m_kib), t: Math.max(stored.t, target.t), p: target.p };
}

/** Re-wrap the secrets under `password` with `kdf` and a fresh salt: the new vault bytes, for the caller to store atomically. */
export async function rewrapPassword(file: VaultFile, secrets: VaultSecrets, password: string, kdf: KdfParams): Promise<{ header: VaultHeader; bytes: Uint8Array }> {
  const header: VaultHeader = { ...file.header, kdf, salt: newSalt() };
  const passwordWrap = await wrapWithPassword(secrets, header, password);
  return { header, bytes: encodeVaultFile(header, passwordWrap, file.recoveryWrap) };
}
