// The workspace index document's id, the same on every device: derived from the workspace id, so two
// devices that create it independently write into one document (its root map merges entry by entry).
import { parseAutomergeUrl, stringifyAutomergeUrl, type DocumentId } from '@automerge/automerge-repo';
import { sha256 } from '../../crypto/sha256.ts';
import { concat, utf8 } from '../../crypto/bytes.ts';
import { DOMAIN } from '../../crypto/domains.ts';

export function indexDocIdFor(workspaceId: string): DocumentId {
  const bin = sha256(concat(utf8(DOMAIN.indexDocId), Uint8Array.of(0), utf8(workspaceId))).slice(0, 16);
  return parseAutomergeUrl(stringifyAutomergeUrl(bin as Parameters<typeof stringifyAutomergeUrl>[0])).documentId;
}
