// The plaintext anchor for sync_10k_ms: the same 10,000 keystroke changes sent from device A to
// device B through automerge-repo's own WebSocket sync server on loopback, no encryption at all.
import * as A from '@automerge/automerge';
import { Repo, type AnyDocumentId } from '@automerge/automerge-repo';
import { WebSocketClientAdapter, WebSocketServerAdapter } from '@automerge/automerge-repo-network-websocket';
import { WebSocketServer } from 'ws';

type TextDoc = {
  text: string;
};

/** 10,000 single-character insertions, one change each, as a typist would make them. */
export function keystrokeDoc(n: number, actor?: string): A.Doc<TextDoc> {
  let doc = A.from<TextDoc>({ text: '' }, actor ? { actor } : undefined);
  for (let i = 0; i < n; i++) doc = A.change(doc, (d) => A.splice(d, ['text'], i, 0, String.fromCharCode(97 + (i % 26))));
  return doc;
}

/** Milliseconds from A's import of n offline changes until B's copy has the same heads. */
export async function automergeRepoSyncMs(n: number): Promise<number> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const port = (wss.address() as { port: number }).port;
  const server = new Repo({ network: [new WebSocketServerAdapter(wss as never)], sharePolicy: async () => true });
  const url = `ws://127.0.0.1:${port}`;
  const repoA = new Repo({ network: [new WebSocketClientAdapter(url)] });
  const repoB = new Repo({ network: [new WebSocketClientAdapter(url)] });
  try {
    await Promise.all([repoA.networkSubsystem.whenReady(), repoB.networkSubsystem.whenReady()]);
    const source = keystrokeDoc(n);
    const want = A.getHeads(source).slice().sort().join();
    const t0 = performance.now();
    const handleA = repoA.import<TextDoc>(A.save(source));
    const handleB = await repoB.find<TextDoc>(handleA.url as AnyDocumentId);
    while (A.getHeads(handleB.doc()).slice().sort().join() !== want) {
      await new Promise<void>((r) => handleB.once('change', () => r()));
    }
    return performance.now() - t0;
  } finally {
    await Promise.allSettled([repoA.shutdown(), repoB.shutdown(), server.shutdown()]);
    wss.close();
  }
}
