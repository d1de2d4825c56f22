// The push checks of DESIGN → Relay, in order: decode, device is the authenticated one, workspace
// exists, signature, active writer, log position on the relay's chain (judgeAuthor.ts, shared with
// snapshots), sequence exactly last + 1 (identical re-send acknowledged with its original relay seq; a
// re-send of one pruned under a snapshot is covered_by_snapshot), lease, rate limit; then store and fan
// out. Size is enforced by the socket.
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

const reject = (reason: PushRejection, detail?: string): PushOutcome => ({ t: 'rejected', reason, ...(detail ? { detail } : {}) });

export async function handlePush(ctx: RelayContext, deviceId: string, bytes: Uint8Array, from?: Subscriber): Promise<PushOutcome> {
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
  return ctx.seqLock.run(key, async () => {
    const digest = new Uint8Array(createHash('sha256').update(bytes).digest());
    const hash = toHex(digest);
    const last = Math.max(
      await ctx.store.lastSeq(h.workspaceId, h.deviceId, h.docId),
      await ctx.store.lastHeldSeq(h.workspaceId, h.deviceId, h.docId),
    );
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

    const res = await ctx.store.insertEnvelope({
      workspaceId: h.workspaceId, deviceId: h.deviceId, docId: h.docId, seq: h.seq, hash, bytes, receivedAt: now,
    });
    if (res.status === 'conflict') return reject('seq_replay');
    if (res.status === 'inserted') {
      const storedAt = wallClockMs();
      const event: RelayMessage = { t: 'envelope', workspaceId: h.workspaceId, relaySeq: res.relaySeq, envelope: bytes };
      await fanOut(ctx, h.workspaceId, event, from, { storedAt, source: 'local' }, h.deviceId);
    }
    return { t: 'ack', relaySeq: res.relaySeq, duplicate: res.status === 'duplicate', workspaceId: h.workspaceId, hash: digest };
  });
}
