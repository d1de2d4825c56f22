// snapshot_put and snapshot_list (issue 13; docs/RELAY.md → Snapshots and pruning). A snapshot is judged
// as a push is (judgeAuthor.ts: same checks, same order, same codes), then: every cover must name an
// envelope seq the relay has stored for that device and document (snapshot_covers_unknown), it must not
// fall behind what the relay already pruned for the document (else a new device starting from it could
// not rebuild the document), and the workspace quota must have room. The relay keeps the newest
// `snapshotsPerDoc` per document; it never reads the body.
import { createHash } from 'node:crypto';
import { toHex } from '../../src/crypto/bytes.ts';
import { decodeSnapshot, verifySnapshotSignature } from '../../src/protocol/snapshot.ts';
import type { SnapshotRejection } from '../../src/protocol/messages.ts';
import type { RelayContext } from '../context.ts';
import { quotaRefusal } from '../admission.ts';
import { judgeAuthor } from './judgeAuthor.ts';

export type SnapshotPutOutcome =
  | { t: 'stored'; snapshotSeq: number; duplicate: boolean }
  | { t: 'rejected'; reason: SnapshotRejection; detail?: string };

const reject = (reason: SnapshotRejection, detail?: string): SnapshotPutOutcome => ({ t: 'rejected', reason, ...(detail ? { detail: detail.slice(0, 500) } : {}) });

/** Covers checked between two turns of the event loop (a header may name up to MAX_COVERS). */
const COVERS_PER_TURN = 256;
/** Most snapshots read from the store for one snapshot_list page (each may be up to a frame). */
export const MAX_SNAPSHOT_PAGE = 100;

const yieldToEventLoop = () => new Promise<void>((r) => setImmediate(r));

export async function handleSnapshotPut(ctx: RelayContext, deviceId: string, bytes: Uint8Array): Promise<SnapshotPutOutcome> {
  // Every snapshot_put costs a token before any work, accepted or refused.
  if (!ctx.snapshotBuckets.take(deviceId)) return reject('rate_limited');
  if (bytes.length > ctx.limits.maxFrameBytes) return reject('snapshot_too_large');
  const dec = decodeSnapshot(bytes);
  if (!dec.ok) return reject(dec.reason, dec.detail);
  const snap = dec.value;
  const h = snap.header;
  const judged = await judgeAuthor(ctx, deviceId, h, (pub) => verifySnapshotSignature(snap, pub));
  if (!judged.ok) return reject(judged.reason, judged.detail);
  const hash = createHash('sha256').update(bytes).digest('hex');
  const snapshotId = toHex(h.snapshotId);

  // One document at a time on this instance: the checks below and the insert see the same store.
  return ctx.seqLock.run(`snapshot\u0000${h.workspaceId}\u0000${h.docId}`, async () => {
    const kept = await ctx.store.listSnapshots(h.workspaceId, 0, Math.max(1, ctx.limits.snapshotsPerDoc), h.docId);
    const same = kept.find((k) => k.snapshotId === snapshotId || k.hash === hash);
    if (same) return { t: 'stored', snapshotSeq: same.snapshotSeq, duplicate: true }; // a re-send: acknowledged, even on a full workspace

    for (let i = 0; i < h.covers.length; i++) {
      if (i > 0 && i % COVERS_PER_TURN === 0) await yieldToEventLoop();
      const c = h.covers[i]!;
      const last = ctx.model.deviceInfo(judged.state, c.deviceId) ? await ctx.store.lastSeq(h.workspaceId, c.deviceId, h.docId) : 0;
      if (c.seq > last) return reject('snapshot_covers_unknown', `covers ${c.deviceId} through seq ${c.seq}; the relay has stored through ${last}`);
    }

    // The newest stored snapshot covers everything pruned for this document (the store prunes no further
    // than newer snapshots cover), so only its devices can have pruned envelopes.
    const covers = new Map(h.covers.map((c) => [c.deviceId, c.seq]));
    for (const c of kept[0]?.covers ?? []) {
      const pruned = await ctx.store.prunedThrough(h.workspaceId, c.deviceId, h.docId);
      const mine = covers.get(c.deviceId) ?? 0;
      if (mine < pruned)
        return reject('snapshot_behind_pruned', `covers ${c.deviceId} through seq ${mine}, but the relay pruned its envelopes through ${pruned}: a device starting from this snapshot could not rebuild the document`);
    }

    const full = await quotaRefusal(ctx, h.workspaceId, bytes.length);
    if (full) return reject('quota_exceeded', full);

    const res = await ctx.store.insertSnapshot(
      { workspaceId: h.workspaceId, docId: h.docId, deviceId: h.deviceId, snapshotId, covers: h.covers, hash, bytes, receivedAt: ctx.now() },
      ctx.limits.snapshotsPerDoc,
    );
    return { t: 'stored', snapshotSeq: res.snapshotSeq, duplicate: res.status === 'duplicate' };
  });
}

export interface SnapshotPage {
  snapshots: { snapshotSeq: number; snapshot: Uint8Array }[];
  next: number;
  more: boolean;
}

/**
 * One snapshot_list page (the caller has checked membership and the budget): at most `limit` (and
 * MAX_SNAPSHOT_PAGE) snapshots and about maxBatchBytes, always at least one. Without docId, the newest
 * of each document after `after`, ascending: read on from `next` while `more`. With docId, the kept
 * snapshots of that document, newest first; `next` is the highest snapshotSeq returned.
 */
export async function snapshotPage(ctx: RelayContext, workspaceId: string, after: number, limit: number, docId?: string): Promise<SnapshotPage> {
  const n = Math.min(limit, MAX_SNAPSHOT_PAGE);
  const rows = await ctx.store.listSnapshots(workspaceId, after, n + 1, docId);
  const page: SnapshotPage['snapshots'] = [];
  let bytes = 0;
  let next = after;
  for (const r of rows.slice(0, n)) {
    if (page.length > 0 && bytes + r.bytes.length > ctx.limits.maxBatchBytes) break;
    page.push({ snapshotSeq: r.snapshotSeq, snapshot: r.bytes });
    bytes += r.bytes.length;
    next = Math.max(next, r.snapshotSeq);
  }
  return { snapshots: page, next, more: rows.length > page.length };
}
