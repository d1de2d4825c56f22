// Snapshot covers as both stores keep them (JSON text), and the rule that bounds pruning: an envelope
// is deleted only if the pruned snapshot and every newer snapshot of the document cover it, so the
// newest snapshot (the one a new device starts from) always holds everything pruned.
import type { StoredSnapshot } from './RelayStore.ts';

export type Covers = StoredSnapshot['covers'];

/** The covers column back to a list ([] if it does not parse: the relay wrote it, but never trust a disk). */
export function decodeCovers(text: string): Covers {
  try {
    const v = JSON.parse(text) as unknown;
    if (!Array.isArray(v)) return [];
    return v.filter(
      (c): c is Covers[number] =>
        typeof c === 'object' && c !== null && typeof (c as Covers[number]).deviceId === 'string' && Number.isSafeInteger((c as Covers[number]).seq),
    );
  } catch {
    return [];
  }
}

/** Per device, the seq up to which `covers` and every one of `newer` cover the document (devices at 0 left out). */
export function effectiveCovers(covers: Covers, newer: Covers[]): Covers {
  const maps = newer.map((n) => new Map(n.map((c) => [c.deviceId, c.seq])));
  const out: Covers = [];
  for (const c of covers) {
    const seq = maps.reduce((m, n) => Math.min(m, n.get(c.deviceId) ?? 0), c.seq);
    if (seq > 0) out.push({ deviceId: c.deviceId, seq });
  }
  return out;
}
