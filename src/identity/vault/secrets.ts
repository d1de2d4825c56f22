// The vault's secrets and their two wraps: under KEK = Argon2id(password) with the header as
// associated data (DOMAIN.vault), and under HKDF(recovery key) with magic ‖ version ‖ userId as
// associated data (DOMAIN.vaultRecovery). The recovery key is 256 random bits, so HKDF suffices;
// Argon2id would add nothing but delay.
import { deriveKek, type KdfParams } from '../../crypto/argon2.ts';
import { openBytes, sealBytes } from '../../crypto/aead.ts';
import { concat, randomBytes, utf8, wipe } from '../../crypto/bytes.ts';
import { DOMAIN, INFO } from '../../crypto/domains.ts';
import { publicKeyOf } from '../../crypto/ed25519.ts';
import { deriveSubkey } from '../../crypto/hkdf.ts';
import { deviceIdOf } from '../../crypto/ids.ts';
import { asKey, type BoxSecretKey, type DataKey, type DeviceSigningKey, type KeyEncryptionKey, type RecoveryKey, type SigningSecretKey } from '../../crypto/keys.ts';
import { boxPublicKeyOf } from '../../crypto/lockbox.ts';
import { fail, ok, type Result } from '../../crypto/result.ts';
import type { UnlockedVault } from './types.ts';
import { encodeHeader, recoveryAd, SALT_MIN, SECRETS_BYTES, type VaultHeader } from './vaultFile.ts';

const SECRETS_VERSION = 1;

export interface VaultSecrets {
  dataKey: DataKey;
  deviceSigningKey: DeviceSigningKey;
  deviceBoxKey: BoxSecretKey;
  userSigningKey: SigningSecretKey;
}

export function encodeSecrets(s: VaultSecrets): Uint8Array {
  return concat(Uint8Array.of(SECRETS_VERSION), s.dataKey, s.deviceSigningKey, s.deviceBoxKey, s.userSigningKey);
}

export function decodeSecrets(b: Uint8Array): Result<VaultSecrets, 'vault_malformed'> {
  if (b.length !== SECRETS_BYTES || b[0] !== SECRETS_VERSION) return fail('vault_malformed', 'bad secrets layout');
  const at = (i: number) => b.slice(1 + 32 * i, 33 + 32 * i);
  return ok({
    dataKey: asKey<DataKey>(at(0)),
    deviceSigningKey: asKey<DeviceSigningKey>(at(1)),
    deviceBoxKey: asKey<BoxSecretKey>(at(2)),
    userSigningKey: asKey<SigningSecretKey>(at(3)),
  });
}

export function newSalt(): Uint8Array {
  return randomBytes(SALT_MIN);
}

export function recoveryKek(recoveryKey: RecoveryKey, userId: string): KeyEncryptionKey {
  return deriveSubkey<KeyEncryptionKey>(recoveryKey, INFO.vaultRecoveryKek, utf8(userId));
}

/** Seal the secrets under a fresh password wrap for `header` (its salt and KDF parameters). */
export async function wrapWithPassword(secrets: VaultSecrets, header: VaultHeader, password: string): Promise<Uint8Array> {
  const kek = await deriveKek(password, header.salt, header.kdf);
  const plain = encodeSecrets(secrets);
  try {
    return sealBytes(kek, plain, DOMAIN.vault, encodeHeader(header));
  } finally {
    wipe(kek, plain);
  }
}

export function wrapWithRecoveryKey(secrets: VaultSecrets, userId: string, recoveryKey: RecoveryKey): Uint8Array {
  const kek = recoveryKek(recoveryKey, userId);
  const plain = encodeSecrets(secrets);
  try {
    return sealBytes(kek, plain, DOMAIN.vaultRecovery, recoveryAd(userId));
  } finally {
    wipe(kek, plain);
  }
}

export type UnwrapFailure = 'wrong_key' | 'vault_tampered' | 'vault_malformed';

/** Open a wrap. The AEAD's key commitment tells a wrong key (wrong password) apart from altered bytes. */
export function unwrap(kek: KeyEncryptionKey, wrap: Uint8Array, domain: typeof DOMAIN.vault | typeof DOMAIN.vaultRecovery, ad: Uint8Array): Result<VaultSecrets, UnwrapFailure> {
  const opened = openBytes(kek, wrap, domain, ad);
  if (!opened.ok) {
    if (opened.reason === 'aead_wrong_key') return fail('wrong_key');
    if (opened.reason === 'aead_auth_failed') return fail('vault_tampered');
    return fail('vault_malformed', 'bad wrap');
  }
  const secrets = decodeSecrets(opened.value);
  wipe(opened.value);
  return secrets;
}

/** Derive the public halves and ids the rest of Cloister uses. */
export function toUnlockedVault(userId: string, s: VaultSecrets, kdf: KdfParams): UnlockedVault {
  const signingPub = publicKeyOf(s.deviceSigningKey);
  return {
    userId,
    dataKey: s.dataKey,
    device: {
      deviceId: deviceIdOf(signingPub),
      signingKey: s.deviceSigningKey,
      signingPub,
      boxKey: s.deviceBoxKey,
      boxPub: boxPublicKeyOf(s.deviceBoxKey),
    },
    user: { userId, signingKey: s.userSigningKey, signingPub: publicKeyOf(s.userSigningKey) },
    kdf,
  };
}
