// Small helpers the random runs (runSim.ts) and the scripted ones (scenario/) share.
import type { SyncSummary } from '../../docs/sync/SyncEngine.ts';

/** Add `n` to a count by reason (absent reasons start at 0; adding 0 leaves no key). */
export const add = (m: Record<string, number>, k: string, n = 1): void => {
  if (n) m[k] = (m[k] ?? 0) + n;
};

/** A pass that moved nothing either way: the end of the final rounds. */
export const quiet = (s: SyncSummary): boolean => s.acked + s.applied + s.logReceived + s.logSent + s.keysShared === 0 && s.outbox === 0;
