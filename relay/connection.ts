// One client connection: sends the challenge, authenticates, then serves requests one at a time in
// arrival order. A push queued for a group commit is answered when it commits, while the next push is
// already being checked; push answers keep arrival order, and any other request waits for them.
// Every handler is wrapped: a bad frame or a failing handler gets an error reply and the connection
// (and the relay) keep serving. Every answer to a request is signed by the relay key and bound to
// this connection's challenge and the request id (src/protocol/signedReply.ts).
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import { randomNonce } from '../src/crypto/bytes.ts';
import { CHALLENGE_NONCE_BYTES, encodeChallenge, signRelayProof, verifyChallengeResponse } from '../src/protocol/challenge.ts';
import { signReceipt } from '../src/protocol/receipt.ts';
import { sealReply } from '../src/protocol/signedReply.ts';
import {
  PROTOCOL_VERSION, decodeClientMessage, encodeMessage, peekRequestId, type ClientMessage, type ErrorCode, type ReplyMessage,
} from '../src/protocol/messages.ts';
import type { RelayContext, Subscriber } from './context.ts';
import { withAdmission } from './admission.ts';
import { fanOut } from './handlers/fanout.ts';
import { issueLease } from './handlers/leases.ts';
import { getMailbox, putMailbox } from './handlers/mailbox.ts';
import { handlePush, type PushOutcome } from './handlers/push.ts';
import { handleSnapshotPut, snapshotPage } from './handlers/snapshots.ts';

let nextConnId = 1;

// Forced closes are paced, a few per turn of the event loop: connections opened together time out
// together, and hundreds of closing handshakes in one turn would hold /healthz and everyone else.
const CLOSES_PER_TURN = 16;
const closeQueue: (() => void)[] = [];
let closeScheduled = false;
function paced(close: () => void): void {
  closeQueue.push(close);
  if (closeScheduled) return;
  closeScheduled = true;
  setImmediate(drainCloses);
}
function drainCloses(): void {
  for (let n = 0; n < CLOSES_PER_TURN && closeQueue.length > 0; n++) {
    try {
      closeQueue.shift()!();
    } catch {
      // the socket is already gone
    }
  }
  if (closeQueue.length > 0) setImmediate(drainCloses);
  else closeScheduled = false;
}

export class Connection implements Subscriber {
  deviceId: string | undefined;
  private readonly challenge: Uint8Array;
  private queue: Promise<void> = Promise.resolve();
  private queued = 0;
  private queuedBytes = 0;
  /** The last of this connection's push answers not sent yet (waiting for a group commit, or behind one). */
  private pushAnswers: Promise<void> | undefined;
  private readonly subscriptions = new Set<string>();
  private readonly log: Logger;
  private readonly authTimer: NodeJS.Timeout | undefined;
  // --- abuse budgets (issue 11): connection caps, frame deadline, idle timeout ---
  private readonly address: string;
  /** Over the per-address cap: closed at once, never served. */
  private readonly refused: boolean = false;
  private deviceCounted = false;
  private isClosed = false;
  private lastFrameAt = Date.now();
  private idleTimer: NodeJS.Timeout | undefined;
  /** When the first bytes of the frame still arriving came in (undefined: no partial frame). */
  private partialSince: number | undefined;
  private frameTimer: NodeJS.Timeout | undefined;
  private bytesReadAtLastFrame = 0;
  private readonly onSocketData = () => this.checkPartialFrame();

  constructor(
    private readonly ctx: RelayContext,
    private readonly ws: WebSocket,
    private readonly track: (p: Promise<unknown>) => void,
    private readonly isShuttingDown: () => boolean,
    private readonly socket?: Socket,
    /** The client's address when a trusted proxy forwarded it (X-Forwarded-For); else the socket's. */
    address?: string,
  ) {
    this.log = ctx.log.child({ conn: nextConnId++ });
    this.address = address ?? socket?.remoteAddress ?? 'unknown';
    if (!ctx.budgets.addresses.open(this.address)) {
      this.refused = true;
      this.challenge = new Uint8Array();
      this.log.warn({ address: this.address }, 'too many connections from one address');
      this.closeHard(1013, 'too many connections from this address');
      return;
    }
    // Registered after ws's own listener: by the time it runs, every frame the chunk completed was received.
    socket?.on('data', this.onSocketData);
    const nonce = randomNonce(CHALLENGE_NONCE_BYTES);
    const time = ctx.now();
    ctx.nonces.issue(nonce);
    this.challenge = encodeChallenge({ relayId: ctx.relayId, nonce, time });
    this.authTimer = setTimeout(() => {
      if (!this.deviceId) this.closeHard(4001, 'authentication timeout');
    }, ctx.limits.authTimeoutMs * (1 + Math.random() / 2)); // jittered: connections opened together don't all time out in one turn
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
      this.closeHard(1008, 'too slow'); // it would not read a close frame either
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
    if (this.refused) return;
    this.ctx.metrics.bytesIn.inc(frame.length);
    this.lastFrameAt = Date.now();
    this.partialSince = undefined;
    this.bytesReadAtLastFrame = this.socket?.bytesRead ?? 0;
    if (this.queued >= this.ctx.limits.maxQueuedFrames || this.queuedBytes + frame.length > this.ctx.limits.maxQueuedBytes) {
      this.log.warn('closing a connection that floods requests');
      this.ws.close(1008, 'too many requests in flight');
      return;
    }
    this.queued++;
    this.queuedBytes += frame.length;
    const task = this.queue.then(() => this.scheduled(frame, isBinary)).finally(() => {
      this.queued--;
      this.queuedBytes -= frame.length;
    });
    this.queue = task.catch(() => undefined);
    this.track(task);
  }

  closed(): void {
    this.isClosed = true;
    clearTimeout(this.authTimer);
    clearTimeout(this.idleTimer);
    clearTimeout(this.frameTimer);
    this.socket?.off('data', this.onSocketData);
    if (!this.refused) this.ctx.budgets.addresses.close(this.address);
    if (this.deviceCounted && this.deviceId) this.ctx.budgets.devices.close(this.deviceId);
    this.deviceCounted = false;
    for (const w of this.subscriptions) this.ctx.subscribers.get(w)?.delete(this);
    this.subscriptions.clear();
  }

  /** Close, and drop the socket if the peer has not finished the closing handshake within a second. */
  private closeHard(code: number, reason: string): void {
    paced(() => {
      this.ws.close(code, reason);
      setTimeout(() => paced(() => this.ws.terminate()), 1000).unref();
    });
  }

  /** One frame, when the fair scheduler gives this connection a turn (relay/scheduler.ts). */
  private async scheduled(frame: Uint8Array, isBinary: boolean): Promise<void> {
    const sched = this.ctx.budgets.scheduler;
    const wait = sched.acquire(this);
    if (wait) await wait;
    try {
      if (this.isClosed) return; // nobody to answer; a push not acknowledged is sent again
      await this.handleFrame(frame, isBinary);
    } finally {
      sched.release();
    }
  }

  /** Whether a frame has started arriving and is not complete (ws's receiver state; else bytes read since the last frame). */
  private partialFrame(): boolean {
    const r = (this.ws as unknown as { _receiver?: { _state?: unknown; _bufferedBytes?: unknown; _fragmented?: unknown } })._receiver;
    if (r && typeof r._state === 'number' && typeof r._bufferedBytes === 'number')
      return r._state !== 0 || r._bufferedBytes > 0 || !!r._fragmented;
    return (this.socket?.bytesRead ?? 0) > this.bytesReadAtLastFrame;
  }

  /** After each chunk from the socket: start (or keep) the frame deadline while a frame is incomplete. */
  private checkPartialFrame(): void {
    if (!this.partialFrame()) {
      this.partialSince = undefined;
      return;
    }
    if (this.partialSince !== undefined) return;
    this.partialSince = Date.now();
    if (!this.frameTimer) this.armFrameTimer(this.ctx.limits.frameDeadlineMs);
  }

  private armFrameTimer(ms: number): void {
    this.frameTimer = setTimeout(() => {
      this.frameTimer = undefined;
      if (this.partialSince === undefined || this.isClosed) return;
      const left = this.partialSince + this.ctx.limits.frameDeadlineMs - Date.now();
      if (left > 0) return this.armFrameTimer(left);
      this.log.warn({ device: this.deviceId, address: this.address }, 'closing a connection whose frame did not finish arriving');
      this.closeHard(1008, 'frame deadline');
    }, Math.max(1, ms));
    this.frameTimer.unref();
  }

  private armIdleTimer(ms: number): void {
    this.idleTimer = setTimeout(() => {
      this.idleTimer = undefined;
      if (this.isClosed) return;
      const left = this.lastFrameAt + this.ctx.limits.idleTimeoutMs - Date.now();
      if (left > 0) return this.armIdleTimer(left);
      this.log.info({ device: this.deviceId }, 'closing an idle connection');
      this.closeHard(4002, 'idle');
    }, Math.max(1, ms));
    this.idleTimer.unref();
  }
  // --- end abuse budgets ---

  private async handleFrame(frame: Uint8Array, isBinary: boolean): Promise<void> {
    if (!this.deviceId && !this.ctx.budgets.preAuth.take(this.address))
      return this.error(isBinary ? peekRequestId(frame) : undefined, 'rate_limited', 'too many requests before authentication from this address');
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
    // Any other request sees (and is answered after) this connection's pushes waiting for a group commit.
    if (msg.t !== 'push') while (this.pushAnswers) await this.pushAnswers;
    try {
      await this.dispatch(msg);
    } catch (e) {
      this.log.error({ err: e instanceof Error ? e.message : String(e), t: msg.t }, 'handler failed');
      this.error(msg.id, 'internal', 'internal error');
    }
  }

  /** The signed answer to a push: ack (with a receipt), held or rejected. */
  private answerPush(id: number, deviceId: string, out: PushOutcome): void {
    const ctx = this.ctx;
    if (out.t === 'ack') {
      if (!out.duplicate) ctx.metrics.accepted.inc();
      const receipt = signReceipt(ctx.relayKey, { workspaceId: out.workspaceId, relaySeq: out.relaySeq, envelopeHash: out.hash });
      return this.reply({ t: 'push_ack', id, relaySeq: out.relaySeq, duplicate: out.duplicate, workspaceId: out.workspaceId, receipt });
    }
    if (out.t === 'held') {
      ctx.metrics.held.inc();
      this.log.info({ device: deviceId, heldId: out.heldId }, 'envelope held');
      return this.reply({ t: 'push_held', id, heldId: out.heldId });
    }
    ctx.metrics.rejected.inc({ reason: out.reason });
    this.log.info({ device: deviceId, reason: out.reason }, 'push rejected');
    return this.reply({ t: 'push_rejected', id, reason: out.reason, ...(out.detail ? { detail: out.detail } : {}) });
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
        if (out.t !== 'queued' && !this.pushAnswers) return this.answerPush(msg.id, deviceId, out);
        // Group commit: the next frame goes on while this push waits for its batch to commit; the ack
        // follows the commit. Answers to pushes keep arrival order; any other request waits for them.
        const prev = this.pushAnswers;
        const answered = (async () => {
          await prev;
          let o: PushOutcome;
          try {
            o = out.t === 'queued' ? await out.outcome : out;
          } catch (e) {
            this.log.error({ err: e instanceof Error ? e.message : String(e), t: msg.t }, 'handler failed');
            return this.error(msg.id, 'internal', 'internal error');
          }
          this.answerPush(msg.id, deviceId, o);
        })().catch((e: unknown) => this.log.error({ err: e instanceof Error ? e.message : String(e), t: msg.t }, 'answering a push failed'));
        this.pushAnswers = answered;
        void answered.then(() => {
          if (this.pushAnswers === answered) this.pushAnswers = undefined;
        });
        this.track(answered); // a graceful shutdown waits for it
        return;
      }
      case 'pull': {
        if (!ctx.budgets.pulls.take(deviceId)) return this.error(msg.id, 'rate_limited', 'too many pulls; retry later');
        if (!(await this.isMember(msg.workspaceId))) return this.error(msg.id, 'not_member', 'not a member of this workspace');
        const limit = Math.min(msg.limit, ctx.limits.maxPullLimit);
        const rows = await ctx.store.listEnvelopes(msg.workspaceId, msg.cursor, limit + 1);
        // The asking device's own envelopes are skipped unless it asks for them (docs/SYNC.md → Own
        // envelopes); the cursor still moves past them, so a page may hold none and say `more`.
        const page = [];
        let scanned = 0;
        let last = msg.cursor;
        let ownSkipped = 0;
        let bytes = 0;
        for (const r of rows.slice(0, limit)) {
          const mine = r.deviceId === deviceId && msg.own !== true;
          if (!mine && page.length > 0 && bytes + r.bytes.length > ctx.limits.maxBatchBytes) break;
          scanned++;
          last = r.relaySeq;
          if (mine) {
            ownSkipped = r.relaySeq;
            continue;
          }
          page.push(r);
          bytes += r.bytes.length;
        }
        return this.reply({
          t: 'batch', id: msg.id, workspaceId: msg.workspaceId,
          envelopes: page.map((r) => ({ relaySeq: r.relaySeq, envelope: r.bytes })),
          nextCursor: last,
          more: rows.length > scanned,
          ...(ownSkipped > 0 ? { ownSkipped } : {}),
        });
      }
      case 'snapshot_put': {
        const out = await handleSnapshotPut(ctx, deviceId, msg.snapshot);
        if (out.t === 'stored') {
          if (!out.duplicate) ctx.metrics.snapshotsStored.inc();
          return this.reply({ t: 'snapshot_stored', id: msg.id, snapshotSeq: out.snapshotSeq, duplicate: out.duplicate });
        }
        ctx.metrics.snapshotsRejected.inc({ reason: out.reason });
        this.log.info({ device: deviceId, reason: out.reason }, 'snapshot rejected');
        return this.reply({ t: 'snapshot_rejected', id: msg.id, reason: out.reason, ...(out.detail ? { detail: out.detail } : {}) });
      }
      case 'snapshot_list': {
        // Charged to the pull budget: a cold start reads snapshots, then pulls.
        if (!ctx.budgets.pulls.take(deviceId)) return this.error(msg.id, 'rate_limited', 'too many pulls; retry later');
        if (!(await this.isMember(msg.workspaceId))) return this.error(msg.id, 'not_member', 'not a member of this workspace');
        const page = await snapshotPage(ctx, msg.workspaceId, msg.after, msg.limit, msg.docId);
        return this.reply({ t: 'snapshots', id: msg.id, workspaceId: msg.workspaceId, ...page });
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
        if (!ctx.budgets.logReads.take(deviceId)) return this.error(msg.id, 'rate_limited', 'too many log reads; retry later');
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
        if (!ctx.budgets.logAppends.take(deviceId)) return this.error(msg.id, 'rate_limited', 'too many log appends; retry later');
        // admission (relay/admission.ts): creating a workspace may need a signup token or an allowlisted device
        const admitted = await withAdmission(ctx, deviceId, msg.workspaceId, msg.token, () => ctx.workspaces.append(msg.workspaceId, msg.entry));
        if (!admitted.ok) return this.error(msg.id, admitted.reason, admitted.detail ?? admitted.reason);
        const r = admitted.value;
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
          await fanOut(ctx, msg.workspaceId, { t: 'envelope', workspaceId: msg.workspaceId, relaySeq: res.relaySeq, envelope: held.bytes }, undefined, undefined, held.deviceId);
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
    if (!ctx.budgets.devices.open(r.value.deviceId)) {
      this.log.warn({ device: r.value.deviceId }, 'too many connections for one device');
      this.error(msg.id, 'rate_limited', 'too many connections for this device');
      return this.closeHard(1013, 'too many connections for this device');
    }
    this.deviceCounted = true;
    this.deviceId = r.value.deviceId;
    clearTimeout(this.authTimer);
    this.armIdleTimer(ctx.limits.idleTimeoutMs);
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
