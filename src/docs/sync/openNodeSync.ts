// One call for Node callers (CLI, benchmarks, simulations): open a profile's record session and a
// sync engine on it. close() stops the engine and flushes the session.
import { fail, ok, type Result } from '../../crypto/result.ts';
import { openRecordSession, type OpenSessionFailure, type OpenSessionOptions, type RecordSession } from '../openSession.ts';
import { syncSessionOf } from './nodeSyncSession.ts';
import { SyncEngine, type SyncEngineOptions } from './SyncEngine.ts';

export interface NodeSync {
  session: RecordSession;
  engine: SyncEngine;
  close(): Promise<void>;
}

export async function openNodeSync(
  o: OpenSessionOptions & { engine?: SyncEngineOptions },
): Promise<Result<NodeSync, OpenSessionFailure | 'no_relay'>> {
  const { engine: engineOptions, ...sessionOptions } = o;
  const s = await openRecordSession(sessionOptions);
  if (!s.ok) return s;
  const relayUrl = engineOptions?.relayUrl ?? s.value.workspace.meta.relay;
  if (!relayUrl) {
    await s.value.close();
    return fail('no_relay', 'this workspace has no relay url');
  }
  const engine = new SyncEngine(syncSessionOf(s.value, o.vault, o.home), { ...engineOptions, relayUrl });
  return ok({
    session: s.value,
    engine,
    async close() {
      await engine.stop();
      await s.value.close();
    },
  });
}
