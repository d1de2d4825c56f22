// The vault file codec (binary, version 1). Layout, all integers big-endian:
//   header   = "CLOISTER-VAULT" ‖ version u8 ‖ userId (u32-len string) ‖ alg u8 (1 = argon2id)
//              ‖ m_kib u32 ‖ t u32 ‖ p u32 ‖ salt (u32-len bytes)
//   file     = header ‖ passwordWrap (u32-len) ‖ recoveryWrap (u32-len) ‖ SHA-256(everything before)
// The header bytes are the associated data of the password wrap, so changing any of them makes the
// unwrap fail. The recovery wrap's AD is only magic ‖ version ‖ userId, so it survives a password
// change (which rewrites salt and KDF parameters) without needing the recovery key. The trailing
// unkeyed checksum only tells accidental damage apart from a wrong password; the AEADs give integrity.
// Decoding is strict: every truncation, stray byte or absurd parameter is a result, never a throw,
// and KDF parameters are validated here, before anything allocates Argon2id memory.
import { sha256 } from '../../crypto/sha256.ts';
import { validateKdfParams, type KdfParams } from '../../crypto/argon2.ts';
import { COMMITMENT_BYTES, NONCE_BYTES, TAG_BYTES } from '../../crypto/aead.ts';
import { ByteReader, ByteWriter, concat, equalBytes, utf8 } from '../../crypto/bytes.ts';
import { fail, ok, type Result } from '../../crypto/result.ts';

export const VAULT_MAGIC = utf8('CLOISTER-VAULT');
export const VAULT_VERSION = 1;
const ALG_ARGON2ID = 1;
const CHECKSUM_BYTES = 32;
export const SALT_MIN = 16;
export const SALT_MAX = 64;
const USER_ID = /^[A-Za-z0-9_-]{1,64}$/;

/** The secrets inside each wrap: format version u8 ‖ DEK ‖ device signing seed ‖ device box key ‖ user signing seed. */
export const SECRETS_BYTES = 1 + 4 * 32;
/** A sealed wrap of the secrets: AEAD version ‖ nonce ‖ commitment ‖ ciphertext ‖ tag. */
export const WRAP_BYTES = 1 + NONCE_BYTES + COMMITMENT_BYTES + SECRETS_BYTES + TAG_BYTES;

export interface VaultHeader {
  version: number;
  userId: string;
  kdf: KdfParams;
  salt: Uint8Array;
}

export interface VaultFile {
  header: VaultHeader;
  /** The exact header bytes as stored: the password wrap's associated data. */
  headerBytes: Uint8Array;
  passwordWrap: Uint8Array;
  recoveryWrap: Uint8Array;
}

export type VaultDecodeFailure = 'vault_malformed' | 'vault_version_unsupported' | 'kdf_params_invalid';

export function encodeHeader(h: VaultHeader): Uint8Array {
  return new ByteWriter()
    .raw(VAULT_MAGIC)
    .u8(h.version)
    .string(h.userId)
    .u8(ALG_ARGON2ID)
    .u32(h.kdf.m_kib)
    .u32(h.kdf.t)
    .u32(h.kdf.p)
    .bytes(h.salt)
    .finish();
}

/** Associated data of the recovery wrap: what never changes for this vault. */
export function recoveryAd(userId: string): Uint8Array {
  return new ByteWriter().raw(VAULT_MAGIC).u8(VAULT_VERSION).string(userId).finish();
}

export function encodeVaultFile(header: VaultHeader, passwordWrap: Uint8Array, recoveryWrap: Uint8Array): Uint8Array {
  const body = new ByteWriter().raw(encodeHeader(header)).bytes(passwordWrap).bytes(recoveryWrap).finish();
  return concat(body, sha256(body));
}

export function decodeVaultFile(bytes: Uint8Array): Result<VaultFile, VaultDecodeFailure> {
  if (bytes.length < VAULT_MAGIC.length + 1) return fail('vault_malformed', `truncated (${bytes.length} bytes)`);
  if (!equalBytes(bytes.subarray(0, VAULT_MAGIC.length), VAULT_MAGIC)) return fail('vault_malformed', 'not a Cloister vault file');
  const r = new ByteReader(bytes.subarray(VAULT_MAGIC.length));
  const version = r.u8()!;
  if (version !== VAULT_VERSION) return fail('vault_version_unsupported', `version ${version}`);
  const userId = r.string(64);
  const alg = r.u8();
  const m_kib = r.u32();
  const t = r.u32();
  const p = r.u32();
  const salt = r.bytes(SALT_MAX);
  const headerEnd = VAULT_MAGIC.length + r.offset;
  const passwordWrap = r.bytes(WRAP_BYTES);
  const recoveryWrap = r.bytes(WRAP_BYTES);
  if (userId === undefined || alg === undefined || m_kib === undefined || t === undefined || p === undefined ||
    salt === undefined || passwordWrap === undefined || recoveryWrap === undefined || r.remaining < CHECKSUM_BYTES)
    return fail('vault_malformed', `truncated or bad field length (${bytes.length} bytes)`);
  if (r.remaining > CHECKSUM_BYTES) return fail('vault_malformed', `${r.remaining - CHECKSUM_BYTES} unexpected trailing bytes`);
  const bodyEnd = bytes.length - CHECKSUM_BYTES;
  if (!equalBytes(sha256(bytes.subarray(0, bodyEnd)), bytes.subarray(bodyEnd))) return fail('vault_malformed', 'checksum mismatch');
  if (alg !== ALG_ARGON2ID) return fail('kdf_params_invalid', `unknown algorithm ${alg}`);
  const kdf = validateKdfParams({ alg: 'argon2id', m_kib, t, p });
  if (!kdf.ok) return fail('kdf_params_invalid', `${kdf.detail} (m=${m_kib} KiB, t=${t}, p=${p})`);
  if (!USER_ID.test(userId)) return fail('vault_malformed', 'bad user id');
  if (salt.length < SALT_MIN) return fail('vault_malformed', 'salt too short');
  if (passwordWrap.length !== WRAP_BYTES || recoveryWrap.length !== WRAP_BYTES) return fail('vault_malformed', 'bad wrap length');
  return ok({
    header: { version, userId, kdf: kdf.value, salt: salt.slice() },
    headerBytes: bytes.slice(0, headerEnd),
    passwordWrap: passwordWrap.slice(),
    recoveryWrap: recoveryWrap.slice(),
  });
}

