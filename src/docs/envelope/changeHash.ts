// The Automerge hash of a raw change: SHA-256 over chunkType ‖ length ‖ contents (the bytes after
// magic and checksum). Compressed chunks fall back to decodeChange. Used only off the hot path
// (when some changes wait for dependencies).
import { decodeChange } from '@automerge/automerge';
import { sha256 } from '../../crypto/sha256.ts';
import { toHex } from '../../crypto/bytes.ts';

export function changeHashOf(change: Uint8Array): string {
  if (change.length > 9 && change[8] === 1) return toHex(sha256(change.subarray(8)));
  return decodeChange(change).hash;
}
