// An envelope's identity for duplicate detection: two deliveries of the same bytes are the same
// envelope; a different envelope reusing a (device, doc, seq) is a replay or a bug.
import { toHex } from '../../crypto/bytes.ts';
import { sha256 } from '../../crypto/sha256.ts';

/** hex(SHA-256(envelope bytes)[0..16]) */
export const envelopeHashOf = (bytes: Uint8Array): string => toHex(sha256(bytes).subarray(0, 16));
