// "Who created it" and "who changed it last", from verified provenance only (DESIGN → Documents:
// never from a field a writer can set). A change is attributed through the envelope that carried it:
// (actor, seq) → the envelope's signing device → its member. Changes no verified envelope covers are
// left unattributed rather than guessed.
import * as A from '@automerge/automerge';
import { changeActorHex, readChangeHeader } from '../envelope/changeHeader.ts';
import type { Provenance } from '../provenance.ts';
import type { Author } from './recordTypes.ts';

/**
 * The document's first change (the one with no dependencies, first in topological order). A long
 * record's history is walked once: `roots` remembers it per document (it never changes), and a
 * remembered hash is used only while the document still holds it as a change without dependencies.
 */
export function rootChangeOf(doc: A.Doc<unknown>, docId: string, roots?: Map<string, string>): A.DecodedChange | undefined {
  const known = roots?.get(docId);
  if (known) {
    const c = A.inspectChange(doc, known);
    if (c && c.deps.length === 0) return c;
  }
  // Only hashes, not every change's metadata: about half the cost of getChangesMetaSince on a long history.
  const first = A.topoHistoryTraversal(doc)[0];
  const c = first === undefined ? undefined : A.inspectChange(doc, first);
  if (!c || c.deps.length !== 0) return undefined;
  roots?.set(docId, first!);
  return c;
}

export function attribute(
  doc: A.Doc<unknown>, provenance: readonly Provenance[], o: { docId?: string; roots?: Map<string, string>; createdBy?: boolean } = {},
): { createdBy?: Author; updatedBy: Author[] } {
  const byChange = new Map<string, Author>();
  // Only envelopes whose signature this device checked: a snapshot's author could have named anyone.
  for (const p of provenance) {
    if (p.viaSnapshot) continue;
    for (const seq of p.seqs ?? []) byChange.set(`${p.actor}:${seq}`, { userId: p.userId, deviceId: p.deviceId, claimedTime: p.claimedTime });
  }
  const root = o.createdBy === false ? undefined : rootChangeOf(doc, o.docId ?? '', o.docId ? o.roots : undefined);
  const createdBy = root ? byChange.get(`${root.actor}:${root.seq}`) : undefined;
  const updatedBy: Author[] = [];
  const seen = new Set<string>();
  // The heads' authors: each head is looked up by its hash, never by walking the history.
  for (const hash of [...A.getHeads(doc)].sort()) {
    const m = A.inspectChange(doc, hash);
    if (!m) continue;
    const a = byChange.get(`${m.actor}:${m.seq}`);
    if (!a || seen.has(`${a.userId}/${a.deviceId}`)) continue;
    seen.add(`${a.userId}/${a.deviceId}`);
    updatedBy.push(a);
  }
  updatedBy.sort((x, y) => y.claimedTime - x.claimedTime);
  return { ...(createdBy ? { createdBy } : {}), updatedBy };
}

/**
 * Of the given verified envelopes, those whose changes set the record's tombstone: a change is
 * matched by (actor, seq) and decoded only when one of these envelopes carried it.
 */
export function tombstoneSetters(doc: A.Doc<unknown>, candidates: readonly Provenance[]): Provenance[] {
  const byChange = new Map<string, Provenance>();
  for (const p of candidates) if (!p.viaSnapshot) for (const seq of p.seqs ?? []) byChange.set(`${p.actor}:${seq}`, p);
  const out = new Set<Provenance>();
  for (const bytes of A.getAllChanges(doc)) {
    const h = readChangeHeader(bytes);
    if (typeof h !== 'object') continue;
    const p = byChange.get(`${changeActorHex(h)}:${h.seq}`);
    if (!p || out.has(p)) continue;
    const sets = A.decodeChange(bytes).ops.some(op => op.obj === '_root' && (op as { key?: unknown }).key === 'deleted' && op.action === 'set' && (op as { value?: unknown }).value === true);
    if (sets) out.add(p);
  }
  return [...out];
}
