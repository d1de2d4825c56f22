// A fresh document id: a random (v4) UUID in automerge-repo's base58check form, like
// generateAutomergeUrl(), but drawn through our randomBytes so a seeded simulation run gets the same
// ids every time (src/cli/sim/seededRandom.ts).
import { interpretAsDocumentId, type BinaryDocumentId, type DocumentId } from '@automerge/automerge-repo';
import { randomBytes } from '../crypto/bytes.ts';

export function newDocumentId(): DocumentId {
  const b = randomBytes(16);
  b[6] = (b[6]! & 0x0f) | 0x40; // version 4
  b[8] = (b[8]! & 0x3f) | 0x80; // RFC 4122 variant
  return interpretAsDocumentId(b as BinaryDocumentId);
}
