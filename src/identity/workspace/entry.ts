// Membership-log entries: the typed body, its zod schema, and the one canonical wire encoding.
// Wire = u8 version ‖ u32-len canonical-JSON body ‖ u32-len Ed25519 signature; the signature covers
// exactly the body bytes (DOMAIN.membership), and the entry id is SHA-256 of those body bytes.
// Format 2 is a chain (DESIGN → Membership log): each body names its index and `prev`, the id of
// the entry before it, so an entry's id fixes its whole past. Format 1 (a DAG with `parents`) is
// refused with its own reason code, `log_format_v1`.
import { z } from 'zod';
import { ByteReader, ByteWriter, fromBase64url, fromUtf8, toBase64url, utf8 } from '../../crypto/bytes.ts';
import { sha256 } from '../../crypto/sha256.ts';
import { fail, ok, type Result } from '../../crypto/result.ts';
import { canonicalJson, parseCanonical } from './canonicalJson.ts';
import type { WorkspaceRejection } from './rejections.ts';

export const ENTRY_VERSION = 2;
/** The DAG format of the first release: recognised only to refuse it clearly. */
export const ENTRY_VERSION_DAG = 1;
export const MAX_ENTRY_BYTES = 1 << 20;

export type Role = 'admin' | 'writer' | 'reader';
export const ROLES: readonly Role[] = ['admin', 'writer', 'reader'];
export type LeasePolicy = 'reject' | 'hold';
export interface Policy {
  maxOfflineMs: number;
  leasePolicy: LeasePolicy;
}

const b64 = (len?: number, max = 4096) =>
  z.string().max(max).refine((s) => {
    const b = fromBase64url(s);
    return b !== undefined && (len === undefined || b.length === len);
  }, 'bad base64url');
const id = z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/);
const int = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const role = z.enum(['admin', 'writer', 'reader']);
const policy = z.strictObject({ maxOfflineMs: int, leasePolicy: z.enum(['reject', 'hold']) });
const deviceKeys = z.strictObject({ deviceId: id, signingPub: b64(32), boxPub: b64(32) });
// check: the signed key-check value of the epoch the box is for, so a replica records the box only
// under the epoch key it was made for (concurrent rotations can give the same number to two keys).
const lockboxRef = z.strictObject({ epoch: int, box: b64(undefined, 512), check: b64(32) });
const rotation = z.strictObject({
  epoch: int,
  lockboxes: z.record(z.string().min(1).max(80), b64(undefined, 512)),
  check: b64(32),
  /** The key-check value of the epoch this one follows (whose key `chain` seals). */
  prev: b64(32),
  chain: b64(undefined, 512),
});
/** The id of the entry before (base64url SHA-256, 43 characters); '' only at index 0. */
const prev = z.union([z.literal(''), z.string().length(43).regex(/^[A-Za-z0-9_-]+$/)]);
const common = { v: z.literal(ENTRY_VERSION), ws: id, index: z.number().int().nonnegative().max(2 ** 32), prev, author: id, at: int };
/** A name sealed under a key derived from an epoch key (names.ts): the relay never reads it. */
const name = z.strictObject({ epoch: int, box: b64(undefined, 1024) });

export const entryBodySchema = z.discriminatedUnion('kind', [
  z.strictObject({
    ...common,
    kind: z.literal('create'),
    name,
    founder: z.strictObject({ userId: id, userSigningPub: b64(32).optional(), name: name.optional() }),
    device: deviceKeys,
    epoch0: z.strictObject({ lockbox: b64(undefined, 512), check: b64(32) }),
    policy,
  }),
  z.strictObject({
    ...common,
    kind: z.literal('invite'),
    invitation: z.strictObject({ id, pub: b64(32), boxPub: b64(32), role, expiresAt: int, maxUses: z.number().int().min(1).max(1000) }),
    lockbox: lockboxRef,
  }),
  z.strictObject({
    ...common,
    kind: z.literal('join'),
    invitation: id,
    user: z.strictObject({ userId: id, userSigningPub: b64(32).optional(), name: name.optional() }),
    device: deviceKeys,
    proof: b64(64),
    lockbox: lockboxRef,
  }),
  z.strictObject({ ...common, kind: z.literal('add_device'), device: deviceKeys, deviceSig: b64(64), lockbox: lockboxRef }),
  z.strictObject({ ...common, kind: z.literal('revoke_device'), device: id, rotation }),
  z.strictObject({ ...common, kind: z.literal('remove_member'), member: id, rotation }),
  z.strictObject({ ...common, kind: z.literal('set_role'), member: id, role }),
  z.strictObject({ ...common, kind: z.literal('rotate_key'), rotation }),
  z.strictObject({ ...common, kind: z.literal('revoke_invitation'), invitation: id }),
  z.strictObject({ ...common, kind: z.literal('set_policy'), policy }),
  /** The author's own display name, sealed for the member's slot (names.ts); the latest one stands. */
  z.strictObject({ ...common, kind: z.literal('set_name'), name }),
]);

export type EntryBody = z.infer<typeof entryBodySchema>;
export type EntryKind = EntryBody['kind'];
export type BodyOf<K extends EntryKind> = Extract<EntryBody, { kind: K }>;
export type Rotation = z.infer<typeof rotation>;

/** A decoded entry: the exact bytes, its id, the signed body bytes and the parsed body. */
export interface Entry {
  id: string;
  bytes: Uint8Array;
  bodyBytes: Uint8Array;
  signature: Uint8Array;
  body: EntryBody;
}

export const entryIdOf = (bodyBytes: Uint8Array): string => toBase64url(sha256(bodyBytes));

/** Encode a body canonically (our own input: throws on misuse). */
export function encodeBody(body: EntryBody): Uint8Array {
  return utf8(canonicalJson(body));
}

export function encodeEntry(bodyBytes: Uint8Array, signature: Uint8Array): Uint8Array {
  return new ByteWriter().u8(ENTRY_VERSION).bytes(bodyBytes).bytes(signature).finish();
}

/** Strictly decode untrusted entry bytes. Checks framing, canonical form and schema; not the signature. */
export function decodeEntry(bytes: Uint8Array): Result<Entry, WorkspaceRejection> {
  if (!(bytes instanceof Uint8Array) || bytes.length > MAX_ENTRY_BYTES) return fail('entry_malformed');
  const r = new ByteReader(bytes);
  const version = r.u8();
  if (version === undefined) return fail('entry_malformed');
  if (version === ENTRY_VERSION_DAG) return fail('log_format_v1');
  if (version !== ENTRY_VERSION) return fail('entry_wrong_version');
  const bodyBytes = r.bytes(MAX_ENTRY_BYTES);
  const signature = r.bytes(64);
  if (!bodyBytes || !signature || signature.length !== 64 || r.remaining !== 0) return fail('entry_malformed');
  let text: string;
  try {
    text = fromUtf8(bodyBytes);
  } catch {
    return fail('entry_malformed', 'body is not UTF-8');
  }
  const parsed = parseCanonical(text);
  if (!parsed) return fail('entry_malformed', 'body is not JSON');
  if (!parsed.canonical) return fail('entry_not_canonical');
  const body = entryBodySchema.safeParse(parsed.value);
  if (!body.success) return fail('entry_malformed', body.error.issues[0]?.message);
  const b = body.data;
  if ((b.kind === 'create') !== (b.index === 0) || (b.index === 0) !== (b.prev === '')) return fail('entry_bad_position');
  return ok({ id: entryIdOf(bodyBytes), bytes, bodyBytes, signature, body: body.data });
}

/** base64url → bytes for fields the schema already checked. */
export const b64bytes = (s: string): Uint8Array => fromBase64url(s)!;
