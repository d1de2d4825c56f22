// Another tab of this profile changed a document (it applied envelopes from the relay, or sealed an
// edit): its Repo saved the changes to the shared encrypted IndexedDB. Load what is stored and merge it
// into this tab's open copy, so the change shows without a reload. Merging only adds changes; this
// session's own unsealed edits stay (and only they are sealed here: DocSession seals by actor).
import * as A from '@automerge/automerge';
import type { DocumentId, Repo } from '@automerge/automerge-repo';

/** Merge the stored copy of each open document in `docIds`; returns the ids that changed here. */
export async function mergeFromStorage(repo: Repo, docIds: readonly string[]): Promise<string[]> {
  const changed: string[] = [];
  for (const id of new Set(docIds)) {
    const handle = repo.handles[id as DocumentId];
    if (!handle || !handle.isReady() || !repo.storageSubsystem) continue; // not open here: it loads fresh when opened
    let stored: A.Doc<unknown> | null;
    try {
      stored = await repo.storageSubsystem.loadDoc<unknown>(id as DocumentId);
    } catch {
      continue; // unreadable right now (e.g. mid-compaction elsewhere): the next change brings it
    }
    if (!stored) continue;
    const before = A.getHeads(handle.doc());
    const missing = A.getHeads(stored).some((h) => !A.hasHeads(handle.doc(), [h]));
    if (!missing) continue;
    handle.update((d) => A.merge(d, stored));
    if (A.getHeads(handle.doc()).join() !== before.join()) changed.push(id);
  }
  return changed;
}
