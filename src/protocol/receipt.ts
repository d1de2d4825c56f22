// Relay receipts: every push_ack carries the relay's Ed25519 signature over what it stored, so a
// client drops an envelope from its outbox only on proof from the relay key it has pinned — a network
// attacker or an impostor relay can't fake an acknowledgement and make an edit vanish.
// receipt = Ed25519(relay, "cloister/relay-receipt/v1" ‖ 0x00 ‖ workspaceId ‖ u64 relaySeq ‖ SHA-256(envelope))
import { sha256 } from '../crypto/sha256.ts';
import { ByteWriter } from '../crypto/bytes.ts';
import { DOMAIN } from '../crypto/domains.ts';
import { sign, verify } from '../crypto/ed25519.ts';
import type { PublicKey, SigningSecretKey } from '../crypto/keys.ts';

export interface ReceiptFields {
  workspaceId: string;
  relaySeq: number;
  /** SHA-256 of the envelope bytes (32 bytes). */
  envelopeHash: Uint8Array;
}

function receiptMessage(r: ReceiptFields): Uint8Array {
  return new ByteWriter().string(r.workspaceId).u64(r.relaySeq).bytes(r.envelopeHash).finish();
}

/** SHA-256 of an envelope, as receipts name it. */
export const receiptHashOf = (envelope: Uint8Array): Uint8Array => sha256(envelope);

export function signReceipt(relayKey: SigningSecretKey, r: ReceiptFields): Uint8Array {
  return sign(relayKey, DOMAIN.relayReceipt, receiptMessage(r));
}

/** Client side: does `signature` prove the relay stored exactly `envelope` at `relaySeq`? */
export function verifyReceipt(relayPub: PublicKey, workspaceId: string, relaySeq: number, envelope: Uint8Array, signature: Uint8Array): boolean {
  return verify(relayPub, DOMAIN.relayReceipt, receiptMessage({ workspaceId, relaySeq, envelopeHash: receiptHashOf(envelope) }), signature);
}
