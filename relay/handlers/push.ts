// The push checks of DESIGN → Relay, in order: decode, device is the authenticated one, workspace
// exists, signature, active writer, log position on the relay's chain, sequence exactly last + 1 (identical re-send acknowledged with its
// original relay seq), lease, rate limit; then store and fan out. Size is enforced by the socket.
import { createHash } from 'node:crypto';
import { toBase64url, toHex } from '../../src/crypto/bytes.ts';
import { decodeEnvelope, verifyEnvelopeSignature } from '../../src/protocol/envelope.ts';
import type { PushRejection, RelayMessage } from '../../src/protocol/messages.ts';
import type { RelayContext, Subscriber } from '../context.ts';
import { fanOut } from './fanout.ts';
import { wallClockMs } from '../metrics.ts';
import { quotaRefusal } from '../admission.ts';
import { defenceOn } from '../defences.ts';

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
  if (h.deviceId !== deviceId && on('relay.device')) return reject('wrong_device');
  const state = await ctx.workspaces.state(h.workspaceId);
  if (state === undefined) return reject('unknown_workspace');
  const info = ctx.model.deviceInfo(state, h.deviceId);
  if (!info) return reject('unknown_device');
  if (on('relay.signature') && !verifyEnvelopeSignature(env, info.signingPub)) return reject('bad_signature');
  // No envelope can be written under an epoch the log has not reached (its key does not exist yet).
  if (h.epoch > ctx.model.epochOf(state)) return reject('unknown_epoch', `epoch ${h.epoch}, workspace at ${ctx.model.epochOf(state)}`);
  if (on('relay.membership')) {
    const judged = ctx.removalJudgement === 'causal' && !ctx.model.isActiveDevice(state, h.deviceId) ? authorsLog(ctx, state, h) : state;
    if (!ctx.model.isActiveDevice(judged, h.deviceId)) return reject(info.revoked ? 'device_revoked' : 'not_a_member');
    if (!ctx.model.canWrite(judged, h.deviceId)) return reject('no_write_permission');
  }
  // DESIGN → Fork detection in the data plane: the author's log position must be on our chain (held ones too).
  if (ctx.model.entryIdAt(state, h.logIndex) !== toBase64url(h.logHead)) return reject('log_position_unknown', `index ${h.logIndex}`);

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

/**
 * Causal removal judgement (sim only): the log as the envelope's author had it, when the envelope names
 * an entry of this chain (logHead at logIndex); else the log as it is now. A removed member can name
 * an old head forever, which is why the product judges at push.
 */
function authorsLog(ctx: RelayContext, state: unknown, h: { logIndex: number; logHead: Uint8Array }): unknown {
  if (ctx.model.entryIdAt(state, h.logIndex) !== toBase64url(h.logHead)) return state;
  return ctx.model.prefix(state, h.logIndex + 1) ?? state;
}
