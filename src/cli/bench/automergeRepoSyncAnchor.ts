// The plaintext anchor for sync_10k_ms: the same 10,000 keystroke changes sent from device A to
// device B through automerge-repo's own WebSocket sync server on loopback, no encryption at all;
// B holding nothing, or (bHoldsBase) the document as it was before the changes, as Cloister's B does.
// With `storageDir`, every peer keeps its documents in NodeFS storage there (the long-document
// anchors, longDocBench.ts), and live edits on the synced document can be timed after the sync.
import * as A from '@automerge/automerge';
import { Repo, type AnyDocumentId, type DocHandle } from '@automerge/automerge-repo';
import { WebSocketClientAdapter, WebSocketServerAdapter } from '@automerge/automerge-repo-network-websocket';
import { NodeFSStorageAdapter } from '@automerge/automerge-repo-storage-nodefs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocketServer } from 'ws';

type TextDoc = {
  text: string;
};

/** 10,000 single-character insertions, one change each, as a typist would make them (on `base`, if given). */
export function keystrokeDoc(n: number, actor?: string, base?: A.Doc<TextDoc>): A.Doc<TextDoc> {
  let doc = base ? A.clone(base) : A.from<TextDoc>({ text: '' }, actor ? { actor } : undefined);
  for (let i = 0; i < n; i++) doc = A.change(doc, (d) => A.splice(d, ['text'], i, 0, String.fromCharCode(97 + (i % 26))));
  return doc;
}

export interface AnchorOptions {
  /** Keep each peer's documents in NodeFS storage under this directory (none: memory only). */
  storageDir?: string;
  /** After the sync, this many single-keystroke edits on A, each timed until B has it. */
  liveEdits?: number;
  /**
   * B already holds the document as it was before the n changes, as Cloister's B holds the record
   * (created and synced before the typing): the n changes then reach B as changes. Without it B holds
   * nothing, and Automerge's sync protocol sends it the whole document instead, which B loads far
   * faster than it applies the changes one by one (A.load against applyChanges).
   */
  bHoldsBase?: boolean;
}

const headsOf = (doc: A.Doc<unknown>): string => A.getHeads(doc).slice().sort().join();

/** Until B's copy has `want` heads, and (with storage) B has them on disk, as Cloister has before it says applied. */
async function untilHeads(repo: Repo, handle: DocHandle<TextDoc>, want: string): Promise<void> {
  while (headsOf(handle.doc()) !== want) await new Promise<void>((r) => handle.once('change', () => r()));
  if (repo.storageSubsystem) await repo.flush([handle.documentId]);
}

/**
 * repo.find, asked again when automerge-repo gives up on a document the server holds (it marks the
 * handle unavailable when its request goes unanswered in time, as on a loaded machine, or when B asks
 * the server before A's copy reached it: find() then rejects "Document … is unavailable", seen in CI).
 * The anchor is timed until the document is there, as a user of automerge-repo would wait for it.
 */
export async function findRetrying<T>(repo: Repo, id: AnyDocumentId, attempts = 5): Promise<DocHandle<T>> {
  const h = await repo.find<T>(id, { allowableStates: ['ready', 'unavailable'] });
  for (let i = 1; !h.isReady(); i++) {
    if (i >= attempts) throw new Error(`automerge-repo anchor: document ${id} stays unavailable`);
    h.request();
    // whenReady rejects after automerge-repo's own timeout: that is one more failed attempt, not an error.
    await Promise.race([h.whenReady(['ready']).catch(() => undefined), new Promise((r) => setTimeout(r, 10_000))]);
  }
  return h;
}

/**
 * Milliseconds from A's import of n offline changes until B's copy has the same heads, then (with
 * `liveEdits`) the milliseconds of each live edit on A until B has it.
 */
export async function automergeRepoSyncRun(n: number, o: AnchorOptions = {}): Promise<{ syncMs: number; liveEditMs: number[] }> {
  const storage = (peer: string) => (o.storageDir ? { storage: new NodeFSStorageAdapter(join(o.storageDir, peer)) } : {});
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const port = (wss.address() as { port: number }).port;
  const server = new Repo({ network: [new WebSocketServerAdapter(wss as never)], sharePolicy: async () => true, ...storage('server') });
  const url = `ws://127.0.0.1:${port}`;
  const repoA = new Repo({ network: [new WebSocketClientAdapter(url)], ...storage('a') });
  // With bHoldsBase, B keeps its copy to itself until asked (announce: false), so the server first
  // hears of the document from A with everything in it, as Cloister's relay receives A's envelopes.
  const quietB = o.bHoldsBase ? { shareConfig: { announce: async () => false, access: async () => true } } : {};
  const repoB = new Repo({ network: [new WebSocketClientAdapter(url)], ...storage('b'), ...quietB });
  try {
    await Promise.all([repoA.networkSubsystem.whenReady(), repoB.networkSubsystem.whenReady()]);
    const base = A.from<TextDoc>({ text: '' });
    const source = keystrokeDoc(n, undefined, o.bHoldsBase ? base : undefined);
    const heldByB = o.bHoldsBase ? repoB.import<TextDoc>(A.save(base)) : undefined;
    if (heldByB && repoB.storageSubsystem) await repoB.flush([heldByB.documentId]);
    const t0 = performance.now();
    const handleA = repoA.import<TextDoc>(A.save(source), heldByB ? { docId: heldByB.documentId } : {});
    const handleB = heldByB ?? (await findRetrying<TextDoc>(repoB, handleA.url as AnyDocumentId));
    await untilHeads(repoB, handleB, headsOf(source));
    const syncMs = performance.now() - t0;
    const liveEditMs: number[] = [];
    for (let e = 0; e < (o.liveEdits ?? 0); e++) {
      const t1 = performance.now();
      handleA.change((d) => A.splice(d, ['text'], d.text.length, 0, 'z'));
      await untilHeads(repoB, handleB, headsOf(handleA.doc()));
      liveEditMs.push(performance.now() - t1);
    }
    return { syncMs, liveEditMs };
  } finally {
    await shutDownInOrder([repoB, repoA], server);
    wss.close();
  }
}

/**
 * Clients first, one at a time, then the server once their last messages have landed. Shut down all at
 * once, the server's synchronizer can still be answering a client's message with a `find` for a document
 * whose handle is going away; that find rejects ("Document … is unavailable") inside automerge-repo with
 * nobody to catch it, and an unhandled rejection ends the bench (seen once in CI).
 */
export async function shutDownInOrder(clients: readonly (Repo | undefined)[], server: Repo): Promise<void> {
  for (const c of clients) await c?.shutdown().catch(() => undefined);
  await new Promise<void>((r) => setTimeout(r, 100));
  await server.shutdown().catch(() => undefined);
  // shutdown() leaves a throttled sync-state save pending (saveDebounceRate, 100 ms by default): let it
  // land before anyone removes the storage directory, or it rejects with ENOENT and nobody catches it.
  await new Promise<void>((r) => setTimeout(r, 500));
}

/** Milliseconds from A's import of n offline changes until B's copy has the same heads (memory only). */
export async function automergeRepoSyncMs(n: number): Promise<number> {
  return (await automergeRepoSyncRun(n)).syncMs;
}

/** The same with every peer storing its documents in NodeFS storage (a temporary directory, removed after). */
export async function automergeRepoSyncFsMs(n: number, o: Pick<AnchorOptions, 'bHoldsBase'> = {}): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'cloister-anchor-'));
  try {
    return (await automergeRepoSyncRun(n, { storageDir: dir, ...o })).syncMs;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
