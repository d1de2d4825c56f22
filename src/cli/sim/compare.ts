// The end-of-run comparison for `cloister sim`: a digest of every document's heads per replica (equal
// digests = converged), and which resolved edits (their heads right after the call) every remaining
// replica holds (Automerge.hasHeads).
import * as A from '@automerge/automerge';
import { sha256 } from '@noble/hashes/sha2.js';
import { toHex, utf8 } from '../../crypto/bytes.ts';
import type { OpenReplica } from './profiles.ts';

export interface Compared {
  name: string;
  o: OpenReplica;
  removed: boolean;
}

export interface EditMark {
  replica: number;
  docId: string;
  heads: A.Heads;
}

export interface EditsPresence {
  made: number;
  present: number;
  missing: number;
  byRemovedMember: number;
  byRemovedMemberPresent: number;
}

async function docOf(r: Compared, docId: string): Promise<A.Doc<unknown> | undefined> {
  if (!(await r.o.s.session.has(docId as never))) return undefined;
  return (await r.o.s.session.open<unknown>(docId))?.doc() as A.Doc<unknown> | undefined;
}

export const headsKey = (doc: A.Doc<unknown> | undefined): string => (doc ? [...A.getHeads(doc)].sort().join(',') : '-');

/**
 * Per replica: how many of the documents any remaining replica holds it has, a digest of all their
 * heads, and a digest of the documents themselves (every `Automerge.save()`, byte for byte: what a
 * seed-exact run must reproduce).
 */
export async function headsDigests(replicas: readonly Compared[], created: readonly string[]): Promise<{ replica: string; removed: boolean; docs: number; digest: string; documents: string }[]> {
  const active = replicas.filter(r => !r.removed);
  const ids = new Set<string>();
  for (const r of active) {
    ids.add(r.o.s.records.indexId);
    for (const s of await r.o.s.records.list({ includeDeleted: true })) ids.add(s.id);
    for (const id of created) if (await r.o.s.session.has(id as never)) ids.add(id);
  }
  const allDocs = [...ids].sort();
  const out = [];
  for (const r of replicas) {
    const parts: string[] = [];
    const saved = sha256.create();
    let docs = 0;
    for (const id of allDocs) {
      const d = await docOf(r, id);
      if (d) docs++;
      parts.push(`${id}:${headsKey(d)}`);
      saved.update(utf8(`${id}\n`));
      if (d) saved.update(A.save(d));
    }
    out.push({ replica: r.name, removed: r.removed, docs, digest: toHex(sha256(utf8(parts.join('\n')))).slice(0, 32), documents: toHex(saved.digest()).slice(0, 32) });
  }
  return out;
}

/** Which edits every remaining replica holds; edits by members removed during the run are counted apart. */
export async function editsPresence(edits: readonly EditMark[], replicas: readonly Compared[]): Promise<EditsPresence> {
  const active = replicas.filter(r => !r.removed);
  const out: EditsPresence = { made: 0, present: 0, missing: 0, byRemovedMember: 0, byRemovedMemberPresent: 0 };
  for (const e of edits) {
    let everywhere = true;
    for (const r of active) {
      const d = await docOf(r, e.docId);
      if (!d || !A.hasHeads(d, e.heads)) everywhere = false;
    }
    if (replicas[e.replica]!.removed) {
      out.byRemovedMember++;
      if (everywhere) out.byRemovedMemberPresent++;
      continue;
    }
    out.made++;
    if (everywhere) out.present++;
    else out.missing++;
  }
  return out;
}
