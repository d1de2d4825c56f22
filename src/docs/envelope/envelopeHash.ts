// An envelope's identity for duplicate detection: two deliveries of the same bytes are the same
// envelope; a different envelope reusing a (device, doc, seq) is a replay or a bug.
// SHA-256 is native on Node (about 10× noble on envelope-sized input), noble elsewhere.
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { toHex } from '../../crypto/bytes.ts';

import { nodeCrypto } from '../../crypto/_platform.ts';

const sha256 = (bytes: Uint8Array): Uint8Array =>
  nodeCrypto ? new Uint8Array(nodeCrypto.createHash('sha256').update(bytes).digest()) : nobleSha256(bytes);

/** hex(SHA-256(envelope bytes)[0..16]) */
export const envelopeHashOf = (bytes: Uint8Array): string => toHex(sha256(bytes).subarray(0, 16));
