// Invitation codes and proofs. A code is 16 random bytes in Crockford base32 (26 characters, no
// I L O U). The invite entry publishes only a public key derived from the code (HKDF, INFO.invitationKey);
// the joiner proves knowledge of the code by signing its own identity with the derived key, which any
// member and the relay can check without ever seeing the code.
import { decodeCrockford, encodeCrockford, normalizeCrockford } from '../../crypto/base32.ts';
import { ByteWriter, concat, randomBytes, toBase64url, utf8 } from '../../crypto/bytes.ts';
import { DOMAIN, INFO } from '../../crypto/domains.ts';
import { publicKeyOf, sign, verify } from '../../crypto/ed25519.ts';
import { deriveSubkey } from '../../crypto/hkdf.ts';
import { sha256 } from '../../crypto/sha256.ts';
import { boxPublicKeyOf } from '../../crypto/lockbox.ts';
import type { BoxSecretKey, Key, PublicKey } from '../../crypto/keys.ts';
import { fail, ok, type Result } from '../../crypto/result.ts';

export const CODE_BYTES = 16;
export const CODE_CHARS = 26;
export { encodeCrockford };

/** Decode a code as typed by a person: case-insensitive, dashes/spaces ignored, O→0, I/L→1. */
export function decodeCode(code: string): Result<Uint8Array, 'invitation_code_invalid'> {
  const out = decodeCrockford(normalizeCrockford(code), CODE_BYTES);
  return out ? ok(out) : fail('invitation_code_invalid');
}

export const newCode = (): string => encodeCrockford(randomBytes(CODE_BYTES));

export interface CodeKeys {
  id: string;
  signingKey: Key<'SigningKey'>;
  pub: PublicKey;
  boxKey: BoxSecretKey;
  boxPub: PublicKey;
}

/** Keys derived from a code; `purpose` keeps invitation and device-link keys apart. */
export function deriveCodeKeys(code: string, purpose: 'invitation' | 'device-link' = 'invitation'): Result<CodeKeys, 'invitation_code_invalid'> {
  const bytes = decodeCode(code);
  if (!bytes.ok) return bytes;
  const signingKey = deriveSubkey<Key<'SigningKey'>>(bytes.value, INFO.invitationKey, utf8(`${purpose}/sign`));
  const boxKey = deriveSubkey<BoxSecretKey>(bytes.value, INFO.invitationKey, utf8(`${purpose}/box`));
  const pub = publicKeyOf(signingKey);
  return ok({ id: invitationIdOf(pub), signingKey, pub, boxKey, boxPub: boxPublicKeyOf(boxKey) });
}

export function invitationIdOf(pub: PublicKey): string {
  return toBase64url(sha256(concat(utf8(DOMAIN.invitationId), Uint8Array.of(0), pub)).subarray(0, 16));
}

export interface JoinerIdentity {
  userId: string;
  deviceId: string;
  signingPub: PublicKey;
  boxPub: PublicKey;
}

function proofMessage(workspaceId: string, invitationId: string, j: JoinerIdentity): Uint8Array {
  return new ByteWriter()
    .string(workspaceId)
    .string(invitationId)
    .string(j.userId)
    .string(j.deviceId)
    .bytes(j.signingPub)
    .bytes(j.boxPub)
    .finish();
}

/** Signature by the code-derived key over (workspace, invitation, joiner's user id and device keys). */
export function signInvitationProof(keys: CodeKeys, workspaceId: string, joiner: JoinerIdentity): Uint8Array {
  return sign(keys.signingKey, DOMAIN.invitationProof, proofMessage(workspaceId, keys.id, joiner));
}

export function verifyInvitationProof(invitationPub: PublicKey, workspaceId: string, invitationId: string, joiner: JoinerIdentity, proof: Uint8Array): boolean {
  return verify(invitationPub, DOMAIN.invitationProof, proofMessage(workspaceId, invitationId, joiner), proof);
}

/** What a person is handed: the workspace id and the secret code (the CLI adds the relay separately). */
/**
 * What people pass around: `inv.` ‖ workspace id ‖ `.` ‖ code. The prefix keeps a token from ever
 * starting with '-' (a workspace id is base64url), which a command line would take for an option.
 */
const TOKEN_PREFIX = 'inv.';

export function formatInvitationToken(workspaceId: string, code: string): string {
  return `${TOKEN_PREFIX}${workspaceId}.${code}`;
}

/** A token, with or without the prefix (tokens printed before it existed still work). */
export function parseInvitationToken(token: string): Result<{ workspaceId: string; code: string }, 'invitation_code_invalid'> {
  const t = token.trim();
  const m = /^([A-Za-z0-9_-]{1,64})\.([0-9A-Za-z\s-]{26,40})$/.exec(t.startsWith(TOKEN_PREFIX) ? t.slice(TOKEN_PREFIX.length) : t);
  if (!m || !decodeCode(m[2]!).ok) return fail('invitation_code_invalid');
  return ok({ workspaceId: m[1]!, code: m[2]! });
}
