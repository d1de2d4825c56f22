// "Who created it" and "who changed it last", from verified provenance only (DESIGN → Documents:
// never from a field a writer can set). A change is attributed through the envelope that carried it:
// (actor, seq) → the envelope's signing device → its member. Changes no verified envelope covers are
// left unattributed rather than guessed.
import * as A from '@automerge/automerge';
import type { Provenance } from '../provenance.ts';
import type { Author } from './recordTypes.ts';

export function attribute(doc: A.Doc<unknown>, provenance: readonly Provenance[]): { createdBy?: Author; updatedBy: Author[] } {
  const byChange = new Map<string, Author>();
  for (const p of provenance) {
    for (const seq of p.seqs ?? []) byChange.set(`${p.actor}:${seq}`, { userId: p.userId, deviceId: p.deviceId, claimedTime: p.claimedTime });
  }
  const heads = new Set(A.getHeads(doc));
  const metas = A.getChangesMetaSince(doc, []);
  const root = metas.find(m => m.deps.length === 0);
  const createdBy = root ? byChange.get(`${root.actor}:${root.seq}`) : undefined;
  const updatedBy: Author[] = [];
  const seen = new Set<string>();
  for (const m of metas) {
    if (!heads.has(m.hash)) continue;
    const a = byChange.get(`${m.actor}:${m.seq}`);
    if (!a || seen.has(`${a.userId}/${a.deviceId}`)) continue;
    seen.add(`${a.userId}/${a.deviceId}`);
    updatedBy.push(a);
  }
  updatedBy.sort((x, y) => y.claimedTime - x.claimedTime);
  return { ...(createdBy ? { createdBy } : {}), updatedBy };
}
