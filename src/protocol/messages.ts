// Relay wire messages (DESIGN → Relay → Transport). One binary WebSocket frame = one CBOR map with a
// string field `t` naming the message. Every frame received, by either side, is validated against the
// zod schemas below before use; anything else decodes to a failure, never a throw.
// Requests carry a numeric `id`. The relay answers each one with a signed `reply` frame carrying the
// same `id`, whose `body` is the CBOR of the reply message below (src/protocol/signedReply.ts).
import { Encoder } from 'cbor-x';
import { z } from 'zod';
import { fail, ok, type Result } from '../crypto/result.ts';

export const PROTOCOL_VERSION = 1;

/**
 * Why a push was refused (push_rejected.reason). Stable codes: clients quarantine by them. The
 * envelope codes are the ones of src/docs/rejections.ts (test/relay/reasons.test.ts keeps them in
 * step); RELAY_ONLY_REJECTIONS are about the relay connection rather than the envelope.
 */
export const RELAY_ONLY_REJECTIONS = [
  'wrong_device', // header.deviceId is not the authenticated device
  'unknown_workspace', // the relay has no membership log for header.workspaceId
  'rate_limited', // the device's token bucket is empty; retry later
  'internal', // the relay failed to store it; retry
  'quota_exceeded', // the workspace's storage quota on this relay is full (envelopes + held + log); retry once space is made
] as const;
export const PUSH_REJECTION_REASONS = [
  'envelope_malformed', // the bytes are not an envelope
  'envelope_version_unsupported',
  'envelope_too_large',
  'unknown_device', // the device is not in the workspace's membership log
  'bad_signature', // the device's signing key does not verify the envelope
  'not_a_member', // the device's member was removed
  'device_revoked', // the device was revoked
  'no_write_permission', // the member is a reader
  'seq_replay', // a different envelope already holds this (device, doc, seq), or seq is older than the last
  'seq_gap', // seq is more than last + 1
  'covered_by_snapshot', // a re-send of an envelope the relay pruned under a snapshot (seq <= its prunedThrough): treat as acknowledged
  'lease_unknown', // the lease id was never issued by this relay, or to another device/workspace (policy reject)
  'lease_expired', // the relay's clock is past the lease's notAfter (policy reject)
  'log_position_unknown', // the header names a membership-log index and head hash the relay's chain does not have
  'unknown_epoch', // the header names a key epoch beyond the workspace's current one
  ...RELAY_ONLY_REJECTIONS,
] as const;
export type PushRejection = (typeof PUSH_REJECTION_REASONS)[number];

/**
 * Why a snapshot was refused (snapshot_rejected.reason). Stable codes (docs/SNAPSHOTS.md). The relay
 * judges a snapshot as it judges a push: the author is the authenticated device, a current member with
 * write rights, at a log position the relay has; and it may cover only envelopes the relay has stored.
 */
export const SNAPSHOT_REJECTION_REASONS = [
  'snapshot_malformed',
  'snapshot_version_unsupported',
  'snapshot_too_large',
  'wrong_device',
  'unknown_workspace',
  'unknown_device',
  'bad_signature',
  'not_a_member',
  'device_revoked',
  'no_write_permission',
  'log_position_unknown',
  'unknown_epoch',
  'snapshot_covers_unknown', // a cover names a (device, seq) beyond what the relay has stored for this document
  'snapshot_behind_pruned', // a cover stops below what the relay already pruned for that device: a new device could not rebuild the document from it
  'rate_limited',
  'quota_exceeded',
  'internal',
] as const;
export type SnapshotRejection = (typeof SNAPSHOT_REJECTION_REASONS)[number];

/** error.code values: replies to requests that could not be served, or to frames that were not requests. */
export const ERROR_CODES = [
  'malformed_message', // not CBOR, or fails the schema
  'not_authenticated', // a request other than auth before auth
  'already_authenticated',
  'auth_failed', // with message = the ChallengeFailure reason
  'not_member', // pull/subscribe/lease on a workspace the device does not belong to
  'unknown_workspace',
  'log_rejected', // log_append refused by the identity library (message = its reason code, then detail)
  'log_stale', // log_append built on an older head: fetch the log and rebuild the entry on the current head
  'not_admin',
  'not_found',
  'rate_limited',
  'shutting_down',
  'internal',
  'mailbox_taken', // mailbox_put to a slot that already holds an item (each slot is written once)
  'too_large', // mailbox_put data over the relay's limit
  'admission_required', // log_append creating a workspace without the signup token this relay requires
  'admission_refused', // workspace creation refused: unknown, used-up or expired signup token, or device not on the allowlist
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

const bytes = z.custom<Uint8Array>((v) => v instanceof Uint8Array, "expected bytes");
const id = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);
const wsId = z.string().min(1).max(128);
const cursor = z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER);

/**
 * The device-link mailbox (docs/DEVICES.md): a rendezvous id derived from a one-time code, with one
 * write-once slot per step. The data is sealed under a key derived from the code; the relay stores
 * and forwards it without being able to read or forge it.
 */
export const MAILBOX_SLOTS = ['request', 'offer', 'enrol', 'done'] as const;
export type MailboxSlot = (typeof MAILBOX_SLOTS)[number];
const mailboxId = z.string().regex(/^[A-Za-z0-9_-]{16,64}$/, 'expected a mailbox id');
const mailboxSlot = z.enum(MAILBOX_SLOTS);

// ---- client → relay ----
export const ClientMessage = z.discriminatedUnion('t', [
  z.object({
    t: z.literal('auth'),
    id,
    deviceId: z.string().min(1).max(128),
    devicePub: bytes,
    /** The exact challenge bytes from hello. */
    challenge: bytes,
    signature: bytes,
    /** 32 fresh random bytes; the relay signs them back in auth_ok (verifyRelayProof). */
    clientNonce: z.custom<Uint8Array>((v) => v instanceof Uint8Array && v.length === 32, 'expected 32 bytes'),
    /** Workspaces to issue leases for. */
    workspaces: z.array(wsId).max(64).default([]),
  }),
  z.object({ t: z.literal('push'), id, envelope: bytes }),
  /** `own`: include the asking device's own envelopes (left out by default: docs/SYNC.md → Own envelopes). */
  z.object({ t: z.literal('pull'), id, workspaceId: wsId, cursor, limit: z.number().int().min(1).max(10_000).default(500), own: z.boolean().optional() }),
  z.object({ t: z.literal('subscribe'), id, workspaceId: wsId }),
  z.object({ t: z.literal('unsubscribe'), id, workspaceId: wsId }),
  /** A page of the membership log: entries from index `from`, at most `limit` (and a byte budget); follow `next` while `more`. */
  z.object({ t: z.literal('log_get'), id, workspaceId: wsId, from: cursor.default(0), limit: z.number().int().min(1).max(1000).default(500) }),
  /** The relay validates the entry at its current head with the identity library, countersigns and stores it. */
  /** `token`: a signup token, for the entry that creates the workspace on a relay with admission 'token' (relay/admission.ts). */
  z.object({ t: z.literal('log_append'), id, workspaceId: wsId, entry: bytes, token: z.string().min(1).max(256).optional() }),
  z.object({ t: z.literal('lease_renew'), id, workspaceId: wsId }),
  z.object({ t: z.literal('held_list'), id, workspaceId: wsId }),
  z.object({ t: z.literal('held_approve'), id, workspaceId: wsId, heldId: z.number().int().nonnegative() }),
  z.object({ t: z.literal('ping'), id }),
  /** Store a snapshot (src/protocol/snapshot.ts). Identical bytes, or the same snapshot id for the document, are acknowledged as duplicates. */
  z.object({ t: z.literal('snapshot_put'), id, snapshot: bytes }),
  /**
   * Snapshots of a workspace with snapshotSeq > `after`, ascending, at most `limit`: without `docId` only
   * the newest of each document; with `docId` every one kept for that document (newest first, `after` ignored).
   */
  z.object({ t: z.literal('snapshot_list'), id, workspaceId: wsId, after: cursor.default(0), limit: z.number().int().min(1).max(1000).default(200), docId: z.string().min(1).max(128).optional() }),
  /** Store one sealed item in a device-link mailbox slot (write once; 'request' opens the mailbox). */
  z.object({ t: z.literal('mailbox_put'), id, box: mailboxId, slot: mailboxSlot, data: bytes }),
  /** Read a mailbox slot (empty if nothing is there yet, or the mailbox expired). */
  z.object({ t: z.literal('mailbox_get'), id, box: mailboxId, slot: mailboxSlot }),
]);
export type ClientMessage = z.output<typeof ClientMessage>;
export type ClientMessageInput = z.input<typeof ClientMessage>;

const storedEnvelope = z.object({ relaySeq: cursor, envelope: bytes });
export type WireEnvelope = z.output<typeof storedEnvelope>;

// ---- relay → client ----
export const RelayMessage = z.discriminatedUnion('t', [
  z.object({
    t: z.literal('hello'),
    protocol: z.number().int(),
    relayId: z.string().min(1).max(256),
    relayPub: bytes,
    /** encodeChallenge({relayId, nonce, time}); sign it with signChallenge. */
    challenge: bytes,
    time: z.number(),
    maxFrameBytes: z.number().int().positive(),
  }),
  /** relayProof = signRelayProof(relayKey, challenge, clientNonce, devicePub). */
  z.object({ t: z.literal('auth_ok'), id, deviceId: z.string(), leases: z.array(bytes), time: z.number(), relayProof: bytes }),
  /** receipt = signReceipt(relayKey, {workspaceId, relaySeq, SHA-256(envelope)}): drop from the outbox only if it verifies. */
  z.object({ t: z.literal('push_ack'), id, relaySeq: cursor, duplicate: z.boolean(), workspaceId: wsId, receipt: bytes }),
  z.object({ t: z.literal('push_rejected'), id, reason: z.enum(PUSH_REJECTION_REASONS), detail: z.string().max(500).optional() }),
  /** Stored for an admin to approve (lease outside its window under policy 'hold'). Not yet delivered. */
  z.object({ t: z.literal('push_held'), id, heldId: z.number().int().nonnegative() }),
  /** `ownSkipped`: the highest relay seq of the asking device's own envelopes left out of this page (none: absent). */
  z.object({ t: z.literal('batch'), id, workspaceId: wsId, envelopes: z.array(storedEnvelope), nextCursor: cursor, more: z.boolean(), ownSkipped: cursor.optional() }),
  z.object({ t: z.literal('subscribed'), id, workspaceId: wsId, head: cursor }),
  z.object({ t: z.literal('unsubscribed'), id, workspaceId: wsId }),
  /** Live: a new envelope in a subscribed workspace. */
  z.object({ t: z.literal('envelope'), workspaceId: wsId, relaySeq: cursor, envelope: bytes }),
  /** Live: a new membership log entry in a subscribed workspace. */
  /** Live: a new link of the membership chain (entry + relay countersignature) in a subscribed workspace. */
  z.object({ t: z.literal('log_entry'), workspaceId: wsId, index: cursor, entry: bytes }),
  /** A page of the chain: links from index `from`. */
  z.object({ t: z.literal('log'), id, workspaceId: wsId, entries: z.array(bytes), next: cursor, more: z.boolean() }),
  /** The appended entry's link (with the relay's countersignature) at `index`. */
  z.object({ t: z.literal('log_appended'), id, workspaceId: wsId, index: cursor, link: bytes }),
  z.object({ t: z.literal('lease'), id, lease: bytes }),
  z.object({
    t: z.literal('held'),
    id,
    items: z.array(z.object({ heldId: z.number().int(), deviceId: z.string(), docId: z.string(), seq: z.number().int(), receivedAt: z.number() })),
  }),
  z.object({ t: z.literal('held_approved'), id, relaySeq: cursor }),
  z.object({ t: z.literal('pong'), id, time: z.number() }),
  z.object({ t: z.literal('snapshot_stored'), id, snapshotSeq: cursor, duplicate: z.boolean() }),
  z.object({ t: z.literal('snapshot_rejected'), id, reason: z.enum(SNAPSHOT_REJECTION_REASONS), detail: z.string().max(500).optional() }),
  z.object({ t: z.literal('snapshots'), id, workspaceId: wsId, snapshots: z.array(z.object({ snapshotSeq: cursor, snapshot: bytes })), next: cursor, more: z.boolean() }),
  /** The item is stored; the whole mailbox expires at expiresAt (relay clock). */
  z.object({ t: z.literal('mailbox_stored'), id, box: mailboxId, slot: mailboxSlot, expiresAt: z.number() }),
  /** The slot's item, or no data if it is empty or the mailbox expired. */
  z.object({ t: z.literal('mailbox_item'), id, box: mailboxId, slot: mailboxSlot, data: bytes.optional(), expiresAt: z.number().optional() }),
  /** Inside a reply body, or bare (no id) for a frame that was not a request: a client acts only on signed ones. */
  z.object({ t: z.literal('error'), id: id.optional(), code: z.enum(ERROR_CODES), message: z.string().max(500) }),
  /**
   * The envelope of every answer to a request: body = the CBOR of the reply message (same id),
   * sig = signReply(relayKey, hello.challenge, id, body). Clients open it with openReply.
   */
  z.object({ t: z.literal('reply'), id, body: bytes, sig: bytes }),
]);
export type RelayMessage = z.output<typeof RelayMessage>;
/** Frames the relay sends unsigned: the hello, live events (author-signed) and id-less errors. */
export const UNSIGNED_RELAY_MESSAGES = ['hello', 'envelope', 'log_entry'] as const;
/** What a reply body may hold: an answer to one request, with its id. */
export type ReplyMessage = Exclude<RelayMessage, { t: (typeof UNSIGNED_RELAY_MESSAGES)[number] | 'reply' }> & { id: number };

export type MessageFailure = 'not_cbor' | 'schema';

const encoder = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false, pack: false, structuredClone: false });

/** Encode one message as a binary frame. Only for messages built by our own code. */
export function encodeMessage(msg: ClientMessageInput | RelayMessage): Uint8Array {
  // Copy: cbor-x reuses its output buffer across calls.
  return new Uint8Array(encoder.encode(dropUndefined(msg)));
}

function dropUndefined(o: object): object {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

function decodeCbor(frame: Uint8Array): Result<unknown, MessageFailure> {
  if (!(frame instanceof Uint8Array) || frame.length === 0) return fail('not_cbor');
  try {
    const v: unknown = encoder.decode(frame);
    // Plain objects only: a CBOR map keyed "__proto__" must not smuggle fields in through the prototype.
    if (v === null || typeof v !== 'object' || Object.getPrototypeOf(v) !== Object.prototype) return fail('schema');
    return ok(v);
  } catch (e) {
    return fail('not_cbor', e instanceof Error ? e.message.slice(0, 200) : undefined);
  }
}

function parseWith<S extends z.ZodType>(schema: S, frame: Uint8Array): Result<z.output<S>, MessageFailure> {
  const raw = decodeCbor(frame);
  if (!raw.ok) return raw;
  const parsed = schema.safeParse(raw.value);
  if (!parsed.success) return fail('schema', parsed.error.issues[0]?.message?.slice(0, 200));
  return ok(parsed.data);
}

/** Relay side: a validated client message, or why not. Never throws. */
export const decodeClientMessage = (frame: Uint8Array): Result<ClientMessage, MessageFailure> => parseWith(ClientMessage, frame);
/** Client side: a validated relay message, or why not. Never throws. */
export const decodeRelayMessage = (frame: Uint8Array): Result<RelayMessage, MessageFailure> => parseWith(RelayMessage, frame);

/** Best effort: the request id of a frame that failed validation, so the error reply can name it. */
export function peekRequestId(frame: Uint8Array): number | undefined {
  const raw = decodeCbor(frame);
  if (!raw.ok) return undefined;
  const v = (raw.value as { id?: unknown }).id;
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined;
}
