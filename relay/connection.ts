// One client connection: sends the challenge, authenticates, then serves requests one at a time in
// arrival order. Every handler is wrapped: a bad frame or a failing handler gets an error reply and
// the connection (and the relay) keep serving. Every answer to a request is signed by the relay key and
// bound to this connection's challenge and the request id (src/protocol/signedReply.ts).
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import { randomBytes } from '../src/crypto/bytes.ts';
import { CHALLENGE_NONCE_BYTES, encodeChallenge, signRelayProof, verifyChallengeResponse } from '../src/protocol/challenge.ts';
import { signReceipt } from '../src/protocol/receipt.ts';
import { sealReply } from '../src/protocol/signedReply.ts';
import {
  PROTOCOL_VERSION, decodeClientMessage, encodeMessage, peekRequestId, type ClientMessage, type ErrorCode, type ReplyMessage,
} from '../src/protocol/messages.ts';
import type { RelayContext, Subscriber } from './context.ts';
import { fanOut } from './handlers/fanout.ts';
import { issueLease } from './handlers/leases.ts';
import { getMailbox, putMailbox } from './handlers/mailbox.ts';
import { handlePush } from './handlers/push.ts';

let nextConnId = 1;

export class Connection implements Subscriber {
  deviceId: string | undefined;
  private readonly challenge: Uint8Array;
  private queue: Promise<void> = Promise.resolve();
  private queued = 0;
  private queuedBytes = 0;
  private readonly subscriptions = new Set<string>();
  private readonly log: Logger;
  private readonly authTimer: NodeJS.Timeout;

  constructor(
    private readonly ctx: RelayContext,
    private readonly ws: WebSocket,
    private readonly track: (p: Promise<unknown>) => void,
    private readonly isShuttingDown: () => boolean,
  ) {
    this.log = ctx.log.child({ conn: nextConnId++ });
    const nonce = randomBytes(CHALLENGE_NONCE_BYTES);
    const time = ctx.now();
    ctx.nonces.issue(nonce);
    this.challenge = encodeChallenge({ relayId: ctx.relayId, nonce, time });
    this.authTimer = setTimeout(() => {
      if (!this.deviceId) ws.close(4001, 'authentication timeout');
    }, ctx.limits.authTimeoutMs);
    this.authTimer.unref();
    this.send(encodeMessage({
      t: 'hello', protocol: PROTOCOL_VERSION, relayId: ctx.relayId, relayPub: ctx.relayPub, challenge: this.challenge,
      time, maxFrameBytes: ctx.limits.maxFrameBytes,
    }));
  }

  send(frame: Uint8Array): void {
    if (this.ws.readyState !== this.ws.OPEN) return;
    if (this.ws.bufferedAmount > this.ctx.limits.maxBufferedBytes) {
      this.log.warn('closing a connection that does not read');
      this.ws.close(1008, 'too slow');
      return;
    }
    this.ctx.metrics.bytesOut.inc(frame.length);
    this.ws.send(frame, { binary: true });
  }

  /** Every answer to a request goes out signed, bound to this connection's challenge and the request id. */
  private reply(msg: ReplyMessage): void {
    this.send(sealReply(this.ctx.relayKey, this.challenge, msg));
  }

  private error(id: number | undefined, code: ErrorCode, message: string): void {
    const m = { t: 'error', code, message: message.slice(0, 500) } as const;
    // A frame that was not a request has no id to bind an answer to: sent bare, and clients act on none.
    if (id === undefined) this.send(encodeMessage(m));
    else this.reply({ ...m, id });
  }

  /** Queue one received frame; frames are handled strictly in order. */
  receive(frame: Uint8Array, isBinary: boolean): void {
    this.ctx.metrics.bytesIn.inc(frame.length);
    if (this.queued >= this.ctx.limits.maxQueuedFrames || this.queuedBytes + frame.length > this.ctx.limits.maxQueuedBytes) {
      this.log.warn('closing a connection that floods requests');
      this.ws.close(1008, 'too many requests in flight');
      return;
    }
    this.queued++;
    this.queuedBytes += frame.length;
    const task = this.queue.then(() => this.handleFrame(frame, isBinary)).finally(() => {
      this.queued--;
      this.queuedBytes -= frame.length;
    });
    this.queue = task.catch(() => undefined);
    this.track(task);
  }

  closed(): void {
    clearTimeout(this.authTimer);
    for (const w of this.subscriptions) this.ctx.subscribers.get(w)?.delete(this);
    this.subscriptions.clear();
  }

  private async handleFrame(frame: Uint8Array, isBinary: boolean): Promise<void> {
    if (!isBinary) {
      this.ctx.metrics.malformed.inc();
      return this.error(undefined, 'malformed_message', 'binary frames only');
    }
    const m = decodeClientMessage(frame);
    if (!m.ok) {
      this.ctx.metrics.malformed.inc();
      this.log.debug({ reason: m.reason }, 'malformed message');
      return this.error(peekRequestId(frame), 'malformed_message', m.detail ? `${m.reason}: ${m.detail}` : m.reason);
    }
    const msg = m.value;
    if (this.isShuttingDown()) return this.error(msg.id, 'shutting_down', 'relay is shutting down');
    try {
      await this.dispatch(msg);
    } catch (e) {
      this.log.error({ err: e instanceof Error ? e.message : String(e), t: msg.t }, 'handler failed');
      this.error(msg.id, 'internal', 'internal error');
    }
  }

  private async dispatch(msg: ClientMessage): Promise<void> {
    if (msg.t === 'auth') return this.auth(msg);
    if (msg.t === 'ping') return this.reply({ t: 'pong', id: msg.id, time: this.ctx.now() });
    const deviceId = this.deviceId;
    if (!deviceId) return this.error(msg.id, 'not_authenticated', 'authenticate first');
    const ctx = this.ctx;
    switch (msg.t) {
      case 'push': {
        const out = await handlePush(ctx, deviceId, msg.envelope, this);
        if (out.t === 'ack') {
          if (!out.duplicate) ctx.metrics.accepted.inc();
          const receipt = signReceipt(ctx.relayKey, { workspaceId: out.workspaceId, relaySeq: out.relaySeq, envelopeHash: out.hash });
          return this.reply({ t: 'push_ack', id: msg.id, relaySeq: out.relaySeq, duplicate: out.duplicate, workspaceId: out.workspaceId, receipt });
        }
        if (out.t === 'held') {
          ctx.metrics.held.inc();
          this.log.info({ device: deviceId, heldId: out.heldId }, 'envelope held');
          return this.reply({ t: 'push_held', id: msg.id, heldId: out.heldId });
        }
        ctx.metrics.rejected.inc({ reason: out.reason });
        this.log.info({ device: deviceId, reason: out.reason }, 'push rejected');
        return this.reply({ t: 'push_rejected', id: msg.id, reason: out.reason, ...(out.detail ? { detail: out.detail } : {}) });
      }
      case 'pull': {
        if (!(await this.isMember(msg.workspaceId))) return this.error(msg.id, 'not_member', 'not a member of this workspace');
        const limit = Math.min(msg.limit, ctx.limits.maxPullLimit);
        const rows = await ctx.store.listEnvelopes(msg.workspaceId, msg.cursor, limit + 1);
        const page = [];
        let bytes = 0;
        for (const r of rows.slice(0, limit)) {
          if (page.length > 0 && bytes + r.bytes.length > ctx.limits.maxBatchBytes) break;
          page.push(r);
          bytes += r.bytes.length;
        }
        return this.reply({
          t: 'batch', id: msg.id, workspaceId: msg.workspaceId,
          envelopes: page.map((r) => ({ relaySeq: r.relaySeq, envelope: r.bytes })),
          nextCursor: page.length ? page[page.length - 1]!.relaySeq : msg.cursor,
          more: rows.length > page.length,
        });
      }
      case 'subscribe': {
        if (!(await this.isMember(msg.workspaceId))) return this.error(msg.id, 'not_member', 'not a member of this workspace');
        let subs = ctx.subscribers.get(msg.workspaceId);
        if (!subs) ctx.subscribers.set(msg.workspaceId, (subs = new Set()));
        subs.add(this);
        this.subscriptions.add(msg.workspaceId);
        return this.reply({ t: 'subscribed', id: msg.id, workspaceId: msg.workspaceId, head: await ctx.store.headRelaySeq(msg.workspaceId) });
      }
      case 'unsubscribe': {
        ctx.subscribers.get(msg.workspaceId)?.delete(this);
        this.subscriptions.delete(msg.workspaceId);
        return this.reply({ t: 'unsubscribed', id: msg.id, workspaceId: msg.workspaceId });
      }
      case 'log_get': {
        // Any authenticated device may read a log by workspace id: it holds public keys, signatures and
        // sealed lockboxes only, and a joiner needs it before it is a member (docs/RELAY.md → Join).
        const all = await ctx.workspaces.entries(msg.workspaceId);
        if (!all) return this.error(msg.id, 'unknown_workspace', 'no such workspace');
        // One page: up to `limit` entries and half a frame of bytes (always at least one entry).
        const entries: Uint8Array[] = [];
        let bytes = 0;
        for (let i = msg.from; i < all.length && entries.length < msg.limit; i++) {
          if (entries.length && bytes + all[i]!.length > ctx.limits.maxFrameBytes / 2) break;
          entries.push(all[i]!);
          bytes += all[i]!.length;
        }
        const next = msg.from + entries.length;
        return this.reply({ t: 'log', id: msg.id, workspaceId: msg.workspaceId, entries, next, more: next < all.length });
      }
      case 'log_append': {
        const r = await ctx.workspaces.append(msg.workspaceId, msg.entry);
        if (!r.ok) {
          this.log.info({ device: deviceId, reason: r.reason }, 'log entry rejected');
          const why = `${r.reason}${r.detail ? `: ${r.detail}` : ''}`.slice(0, 400);
          return this.error(msg.id, r.reason === 'log_stale' ? 'log_stale' : 'log_rejected', why);
        }
        this.reply({ t: 'log_appended', id: msg.id, workspaceId: msg.workspaceId, index: r.value.index, link: r.value.link });
        if (r.value.appended)
          await fanOut(ctx, msg.workspaceId, { t: 'log_entry', workspaceId: msg.workspaceId, index: r.value.index, entry: r.value.link }, this);
        return;
      }
      case 'lease_renew': {
        const lease = await issueLease(ctx, msg.workspaceId, deviceId);
        if (!lease) return this.error(msg.id, 'not_member', 'no lease: not an active member');
        return this.reply({ t: 'lease', id: msg.id, lease });
      }
      case 'held_list': {
        if (!(await this.isAdmin(msg.workspaceId))) return this.error(msg.id, 'not_admin', 'admins only');
        const items = (await ctx.store.listHeld(msg.workspaceId)).map((h) => ({
          heldId: h.heldId, deviceId: h.deviceId, docId: h.docId, seq: h.seq, receivedAt: h.receivedAt,
        }));
        return this.reply({ t: 'held', id: msg.id, items });
      }
      case 'held_approve': {
        if (!(await this.isAdmin(msg.workspaceId))) return this.error(msg.id, 'not_admin', 'admins only');
        const held = (await ctx.store.listHeld(msg.workspaceId)).find((h) => h.heldId === msg.heldId);
        if (!held) return this.error(msg.id, 'not_found', 'no such held envelope');
        const key = `${held.workspaceId}\u0000${held.deviceId}\u0000${held.docId}`;
        const res = await ctx.seqLock.run(key, () => ctx.store.releaseHeld(msg.workspaceId, msg.heldId));
        if (!res || res.status === 'conflict') return this.error(msg.id, 'not_found', 'held envelope conflicts with a stored one');
        if (res.status === 'inserted') {
          ctx.metrics.accepted.inc();
          await fanOut(ctx, msg.workspaceId, { t: 'envelope', workspaceId: msg.workspaceId, relaySeq: res.relaySeq, envelope: held.bytes });
        }
        this.log.info({ device: deviceId, heldId: msg.heldId }, 'held envelope approved');
        return this.reply({ t: 'held_approved', id: msg.id, relaySeq: res.relaySeq });
      }
      case 'mailbox_put': {
        const r = await putMailbox(ctx, deviceId, msg.box, msg.slot, msg.data);
        ctx.metrics.mailbox.inc({ op: 'put', result: r.ok ? 'stored' : r.code });
        if (!r.ok) return this.error(msg.id, r.code, r.message);
        return this.reply({ t: 'mailbox_stored', id: msg.id, box: msg.box, slot: msg.slot, expiresAt: r.expiresAt });
      }
      case 'mailbox_get': {
        const r = await getMailbox(ctx, deviceId, msg.box, msg.slot);
        ctx.metrics.mailbox.inc({ op: 'get', result: r.ok ? (r.item ? 'found' : 'empty') : r.code });
        if (!r.ok) return this.error(msg.id, r.code, r.message);
        return this.reply({
          t: 'mailbox_item', id: msg.id, box: msg.box, slot: msg.slot,
          ...(r.item ? { data: r.item.data, expiresAt: r.item.expiresAt } : {}),
        });
      }
    }
  }

  private async isMember(workspaceId: string): Promise<boolean> {
    const state = await this.ctx.workspaces.state(workspaceId);
    return state !== undefined && !!this.deviceId && this.ctx.model.isActiveDevice(state, this.deviceId);
  }

  private async isAdmin(workspaceId: string): Promise<boolean> {
    const state = await this.ctx.workspaces.state(workspaceId);
    return state !== undefined && !!this.deviceId && this.ctx.model.isAdmin(state, this.deviceId);
  }

  private async auth(msg: Extract<ClientMessage, { t: 'auth' }>): Promise<void> {
    if (this.deviceId) return this.error(msg.id, 'already_authenticated', 'already authenticated');
    const ctx = this.ctx;
    const r = verifyChallengeResponse(msg, this.challenge, ctx.relayId, ctx.now(), (n) => ctx.nonces.consume(n));
    if (!r.ok) {
      this.log.info({ reason: r.reason }, 'authentication failed');
      return this.error(msg.id, 'auth_failed', r.reason);
    }
    this.deviceId = r.value.deviceId;
    clearTimeout(this.authTimer);
    this.log.info({ device: this.deviceId }, 'authenticated');
    const leases: Uint8Array[] = [];
    for (const w of new Set(msg.workspaces)) {
      const l = await issueLease(ctx, w, this.deviceId);
      if (l) leases.push(l);
    }
    const relayProof = signRelayProof(ctx.relayKey, this.challenge, msg.clientNonce, msg.devicePub);
    this.reply({ t: 'auth_ok', id: msg.id, deviceId: this.deviceId, leases, time: ctx.now(), relayProof });
  }
}
