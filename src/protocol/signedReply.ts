// Authenticated relay replies (DESIGN → Relay: "every reply that changes client state is authenticated").
// The relay answers every request with { t: 'reply', id, body, sig }, where body is the CBOR of the reply
// message and sig = Ed25519(relay, "cloister/relay-reply/v1" ‖ 0x00 ‖ u32be len ‖ challenge ‖ u64be id ‖ body):
// over the exact body bytes sent (DESIGN → Cryptography), bound to this connection's hello.challenge and to
// the request id. A network attacker can then neither forge an answer nor move one to another request or
// another connection; the client treats anything that fails openReply as if nothing had arrived.
import { ByteWriter } from '../crypto/bytes.ts';
import { DOMAIN } from '../crypto/domains.ts';
import { sign, verify } from '../crypto/ed25519.ts';
import type { PublicKey, SigningSecretKey } from '../crypto/keys.ts';
import { fail, ok, type Result } from '../crypto/result.ts';
import { decodeRelayMessage, encodeMessage, UNSIGNED_RELAY_MESSAGES, type RelayMessage, type ReplyMessage } from './messages.ts';

/** Why a client ignored a frame that claimed to answer a request. */
export type ReplyFailure =
  | 'reply_unsigned' // an answer-shaped message outside a reply frame
  | 'reply_bad_signature' // not signed by the relay key for this connection's challenge and this id
  | 'reply_body_malformed' // the signed body is not a relay message
  | 'reply_not_an_answer' // the signed body is a hello, a live event or another reply
  | 'reply_id_mismatch'; // the body names another request than the frame

function signedPart(challenge: Uint8Array, id: number, body: Uint8Array): Uint8Array {
  return new ByteWriter().bytes(challenge).u64(id).raw(body).finish();
}

/** Relay side: the signature binding `body` (the exact bytes sent) to the connection's challenge and the request id. */
export function signReply(relayKey: SigningSecretKey, challenge: Uint8Array, id: number, body: Uint8Array): Uint8Array {
  return sign(relayKey, DOMAIN.relayReply, signedPart(challenge, id, body));
}

/** Relay side: the frame answering request `msg.id` on the connection that was sent `challenge`. */
export function sealReply(relayKey: SigningSecretKey, challenge: Uint8Array, msg: ReplyMessage): Uint8Array {
  const body = encodeMessage(msg);
  return encodeMessage({ t: 'reply', id: msg.id, body, sig: signReply(relayKey, challenge, msg.id, body) });
}

const UNSIGNED: ReadonlySet<string> = new Set<string>([...UNSIGNED_RELAY_MESSAGES, 'reply']);

/**
 * Client side: the answer inside a frame from the relay, if `frame` is a reply signed by `relayPub` for this
 * connection's `challenge` and its own id, and its body is an answer with that same id. Never throws.
 */
export function openReply(relayPub: PublicKey, challenge: Uint8Array, frame: RelayMessage): Result<ReplyMessage, ReplyFailure> {
  if (frame.t !== 'reply') return fail('reply_unsigned');
  if (!verify(relayPub, DOMAIN.relayReply, signedPart(challenge, frame.id, frame.body), frame.sig)) return fail('reply_bad_signature');
  const inner = decodeRelayMessage(frame.body);
  if (!inner.ok) return fail('reply_body_malformed', inner.reason);
  if (UNSIGNED.has(inner.value.t)) return fail('reply_not_an_answer', inner.value.t);
  const m = inner.value as ReplyMessage;
  if (m.id !== frame.id) return fail('reply_id_mismatch');
  return ok(m);
}
