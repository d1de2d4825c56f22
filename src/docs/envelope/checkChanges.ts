// Which kind of Automerge chunk a change's bytes claim to be, read from the chunk header alone, so a
// hostile change is refused before Automerge touches it (DESIGN → Hostile change bytes). Layout
// (Automerge binary format, "Chunk container"): magic(4) ‖ checksum(4) ‖ chunkType(1) ‖ uLEB(len) ‖ body;
// chunkType 0 = document, 1 = change, 2 = compressed change (deflate). Cloister clients only ever
// write type 1 (Automerge's getChanges/getAllChanges return raw chunks), so a compressed one is
// refused unread: inflating it is what lets 261 KB become 256 MiB.

const MAGIC = [0x85, 0x6f, 0x4a, 0x83] as const;
export const CHUNK_DOCUMENT = 0;
export const CHUNK_CHANGE = 1;
export const CHUNK_COMPRESSED_CHANGE = 2;

export type ChunkCheck =
  | { ok: true }
  | { ok: false; reason: 'changes_compressed' | 'changes_malformed'; detail: string };

/** Is this a plain (uncompressed) Automerge change chunk, judged from its first nine bytes? */
export function checkChangeChunk(b: Uint8Array): ChunkCheck {
  if (b.length < 10 || MAGIC.some((m, i) => b[i] !== m)) return { ok: false, reason: 'changes_malformed', detail: 'not an Automerge chunk' };
  const type = b[8]!;
  if (type === CHUNK_CHANGE) return { ok: true };
  if (type === CHUNK_COMPRESSED_CHANGE) return { ok: false, reason: 'changes_compressed', detail: `compressed change chunk of ${b.length} bytes` };
  return { ok: false, reason: 'changes_malformed', detail: type === CHUNK_DOCUMENT ? 'a document chunk, not a change' : `chunk type ${type}` };
}

/** The first change (by index) that is not a plain change chunk, or ok. */
export function checkChangeChunks(changes: readonly Uint8Array[]): ChunkCheck {
  for (const [i, c] of changes.entries()) {
    const r = checkChangeChunk(c);
    if (!r.ok) return { ...r, detail: `change ${i}: ${r.detail}` };
  }
  return { ok: true };
}
