// The push checks of DESIGN → Relay, in order: decode, device is the authenticated one, workspace
// exists, signature, active writer, log position on the relay's chain (judgeAuthor.ts, shared with
// snapshots), sequence exactly last + 1 (identical re-send acknowledged with its original relay seq; a
// re-send of one pruned under a snapshot is covered_by_snapshot), lease, rate limit; then store and fan
// out. Size is enforced by the socket. With a group-committing store the insert is queued and the push
// answered 'queued': the ack (and fan-out) follow the commit, while the next push of the same document
// is already checked against the queued seq.
import { createHash } from 'node:crypto';
import { toHex } from '../../src/crypto/bytes.ts';
import { decodeEnvelope, verifyEnvelopeSignature } from '../../src/protocol/envelope.ts';
import type { PushRejection, RelayMessage } from '../../src/protocol/messages.ts';
import type { RelayContext, Subscriber } from '../context.ts';
import { fanOut } from './fanout.ts';
import { wallClockMs } from '../metrics.ts';
import { quotaRefusal } from '../admission.ts';
import { defenceOn } from '../defences.ts';
import { judgeAuthor } from './judgeAuthor.ts';

export type PushOutcome =
  | { t: 'ack'; relaySeq: number; duplicate: boolean; workspaceId: string; hash: Uint8Array }
  | { t: 'held'; heldId: number }
  | { t: 'rejected'; reason: PushRejection; detail?: string };

/** The insert is queued for a group commit (RelayStore.groupCommit): `outcome` settles after it commits. */
export interface QueuedPush {
  t: 'queued';
  outcome: Promise<PushOutcome>;
}

const reject = (reason: PushRejection, detail?: string): PushOutcome => ({ t: 'rejected', reason, ...(detail ? { detail } : {}) });

export async function handlePush(ctx: RelayContext, deviceId: string, bytes: Uint8Array, from?: Subscriber): Promise<PushOutcome | QueuedPush> {
  // Every push costs a token before any work: accepted, held and refused alike (a bad signature too).
  if (!ctx.buckets.take(deviceId)) return reject('rate_limited');
  const dec = decodeEnvelope(bytes);
  if (!dec.ok) return reject(dec.reason);
  const env = dec.value;
  const h = env.header;
  const on = (d: Parameters<typeof defenceOn>[1]) => defenceOn(ctx.defencesOff, d);
  const judged = await judgeAuthor(ctx, deviceId, h, (pub) => verifyEnvelopeSignature(env, pub));
  if (!judged.ok) return reject(judged.reason, judged.detail);
  const state = judged.state;

  const key = `${h.workspaceId}\u0000${h.deviceId}\u0000${h.docId}`;
  const gc = ctx.store.groupCommit;
  return ctx.seqLock.run(key, async (): Promise<PushOutcome | QueuedPush> => {
    const digest = new Uint8Array(createHash('sha256').update(bytes).digest());
    const hash = toHex(digest);
    // The queue is read first: a commit in between moves seqs from the queue into the table, never back.
    let failures = gc?.failures ?? 0;
    const lastOf = async () => {
      failures = gc?.failures ?? 0;
      const queued = gc?.queuedLastSeq(h.workspaceId, h.deviceId, h.docId) ?? 0;
      return Math.max(queued, await ctx.store.lastSeq(h.workspaceId, h.deviceId, h.docId), await ctx.store.lastHeldSeq(h.workspaceId, h.deviceId, h.docId));
    };
    let last = await lastOf();
    // At or below a queued seq (a re-send while the first is queued): decide on committed rows only.
    if (h.seq <= last && gc && gc.queuedLastSeq(h.workspaceId, h.deviceId, h.docId) >= h.seq) {
      await gc.settle();
      last = await lastOf();
    }
    if (h.seq <= last) {
      const stored = await ctx.store.getEnvelope(h.workspaceId, h.deviceId, h.docId, h.seq);
      if (stored && stored.hash === hash && on('relay.dedupe')) return { t: 'ack', relaySeq: stored.relaySeq, duplicate: true, workspaceId: h.workspaceId, hash: digest };
      const held = await ctx.store.getHeldAt(h.workspaceId, h.deviceId, h.docId, h.seq);
      if (held && held.hash === hash) return { t: 'held', heldId: held.heldId };
      // Pruned under a snapshot (relay/handlers/snapshots.ts): the relay no longer has it to compare or
      // to give a relay seq for; a client treats this as acknowledged.
      if (!stored && !held && h.seq <= (await ctx.store.prunedThrough(h.workspaceId, h.deviceId, h.docId)))
        return reject('covered_by_snapshot', `seq ${h.seq} was pruned under a snapshot`);
      return reject('seq_replay', `last=${last}`);
    }
    if (h.seq > last + 1) return reject('seq_gap', `last=${last}`);
    // Storage quota (relay/admission.ts): held envelopes count too. A re-send above was acknowledged already.
    const full = await quotaRefusal(ctx, h.workspaceId, bytes.length);
    if (full) return reject('quota_exceeded', full);

    const now = ctx.now();
    const lease = await ctx.store.getLease(h.leaseId);
    const leaseKnown = !!lease && lease.deviceId === h.deviceId && lease.workspaceId === h.workspaceId;
    const leaseOk = (leaseKnown && now >= lease.issuedAt && now <= lease.notAfter) || !on('relay.lease');
    if (!leaseOk) {
      if (ctx.model.policy(state).leasePolicy === 'hold') {
        const heldId = await ctx.store.insertHeld({
          workspaceId: h.workspaceId, deviceId: h.deviceId, docId: h.docId, seq: h.seq, hash, bytes, receivedAt: now,
          reason: leaseKnown ? 'lease_expired' : 'lease_unknown',
        });
        return { t: 'held', heldId };
      }
      return reject(leaseKnown ? 'lease_expired' : 'lease_unknown');
    }

    // A queued insert that failed since `last` was read may have been this one's predecessor: not stored with a gap.
    if (gc && gc.failures !== failures) return reject('seq_gap', 'an envelope queued before it was not stored');
    const stored = ctx.store.insertEnvelope({
      workspaceId: h.workspaceId, deviceId: h.deviceId, docId: h.docId, seq: h.seq, hash, bytes, receivedAt: now,
    });
    // Answered only once committed: a client retires an acknowledged envelope from its outbox.
    const outcome = stored.then(async (res): Promise<PushOutcome> => {
      if (res.status === 'conflict') return reject('seq_replay');
      if (res.status === 'inserted') {
        const storedAt = wallClockMs();
        const event: RelayMessage = { t: 'envelope', workspaceId: h.workspaceId, relaySeq: res.relaySeq, envelope: bytes };
        await fanOut(ctx, h.workspaceId, event, from, { storedAt, source: 'local' }, h.deviceId);
      }
      return { t: 'ack', relaySeq: res.relaySeq, duplicate: res.status === 'duplicate', workspaceId: h.workspaceId, hash: digest };
    });
    // Queued: the lock is released now, and the next seq of this document is checked against the queued one.
    return gc ? { t: 'queued', outcome } : await outcome;
  });
}
