// Client transport to a Cloister relay: connect, answer the signed challenge, then request/response
// by id plus live events for subscribed workspaces. Works with the browser's WebSocket and with `ws`
// in Node. No record logic here: callers push and pull opaque envelope bytes. A request is resolved
// only by a reply signed by the relay key for this connection's challenge and its id (openReply):
// anything else is ignored, as if nothing had arrived, so the request waits for the genuine answer or times out.
import { deviceIdOf } from '../../crypto/ids.ts';
import type { DeviceSigningKey, PublicKey } from '../../crypto/keys.ts';
import { equalBytes } from '../../crypto/bytes.ts';
import { randomNonce } from '../../crypto/bytes.ts';
import { challengeIsFor, relayIdOf, signChallenge, verifyRelayProof } from '../../protocol/challenge.ts';
import { verifyReceipt } from '../../protocol/receipt.ts';
import { openReply, type ReplyFailure } from '../../protocol/signedReply.ts';
import { verifyLease, type Lease } from '../../protocol/lease.ts';
import {
  decodeRelayMessage, encodeMessage, type ClientMessageInput, type ErrorCode, type PushRejection, type RelayMessage, type ReplyMessage, type SnapshotRejection, type WireEnvelope, type MailboxSlot,
} from '../../protocol/messages.ts';

/** The subset of the WebSocket API used here (browser WebSocket and `ws` both provide it). */
interface SocketLike {
  binaryType: string;
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: Uint8Array): void;
  close(code?: number, reason?: string): void;
}
type SocketCtor = new (url: string) => SocketLike;

export interface RelayClientOptions {
  url: string;
  signingKey: DeviceSigningKey;
  devicePub: PublicKey;
  /** Workspaces to receive leases for at authentication. */
  workspaces?: string[];
  /** The relay key recorded for this workspace; connecting fails if the relay presents another. */
  expectedRelayPub?: Uint8Array;
  /** WebSocket constructor; default the global one, else `ws`. */
  WebSocket?: SocketCtor;
  /** Per-request timeout, ms (default 30 s). Connect + auth uses the same bound. */
  timeoutMs?: number;
}

export type PushResult =
  /** `receipt` verified against the relay key: proof the relay stored exactly these bytes at relaySeq. */
  | { status: 'acked'; relaySeq: number; duplicate: boolean; receipt: Uint8Array }
  | { status: 'held'; heldId: number }
  | { status: 'rejected'; reason: PushRejection; detail?: string };

export interface EnvelopeEvent {
  workspaceId: string;
  relaySeq: number;
  envelope: Uint8Array;
}
export interface LogEntryEvent {
  workspaceId: string;
  index: number;
  entry: Uint8Array;
}

/** A request the relay answered with an error (code from ERROR_CODES), or a transport failure. */
export class RelayRequestError extends Error {
  constructor(readonly code: ErrorCode | 'timeout' | 'closed' | 'protocol' | 'relay_key_mismatch', message: string) {
    super(`${code}: ${message}`);
    this.name = 'RelayRequestError';
  }
}

type Pending = { resolve: (m: ReplyMessage) => void; reject: (e: Error) => void; timer: ReturnType<typeof setTimeout> };
type Dist<T> = T extends unknown ? Omit<T, 'id'> : never;
type Request = Dist<ClientMessageInput>;

async function defaultSocket(): Promise<SocketCtor> {
  const g = (globalThis as { WebSocket?: SocketCtor }).WebSocket;
  if (g) return g;
  const mod = await import('ws');
  return mod.WebSocket as unknown as SocketCtor;
}

export class RelayClient {
  readonly deviceId: string;
  relayId = '';
  relayPub: Uint8Array = new Uint8Array();
  /** The relay's clock at authentication or the latest ping (ms): a rollback-resistant reference for lease display. */
  relayTime = 0;
  /** Verified leases issued at authentication or by renewLease, by workspace. */
  readonly leases = new Map<string, { lease: Lease; bytes: Uint8Array }>();
  maxFrameBytes = 0;
  /** Frames ignored because they did not open as a signed reply for this connection, by reason (not_cbor/schema: undecodable). */
  readonly ignored: Partial<Record<ReplyFailure | 'not_cbor' | 'schema', number>> = {};

  /** The exact hello.challenge bytes of this connection: every reply is bound to them. */
  private challenge: Uint8Array = new Uint8Array();
  private ws: SocketLike | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly envelopeListeners = new Set<(e: EnvelopeEvent) => void>();
  private readonly logListeners = new Set<(e: LogEntryEvent) => void>();
  private readonly closeListeners = new Set<(code: number, reason: string) => void>();
  private isClosed = false;
  /** performance.now() when relayTime was read. */
  private authAt = 0;

  private constructor(private readonly opts: RelayClientOptions) {
    this.deviceId = deviceIdOf(opts.devicePub);
  }

  /** Connect and authenticate. Rejects with RelayRequestError if the relay refuses or times out. */
  static async connect(opts: RelayClientOptions): Promise<RelayClient> {
    const c = new RelayClient(opts);
    try {
      await c.open();
    } catch (e) {
      c.closeQuietly();
      throw e;
    }
    return c;
  }

  private closeQuietly(): void {
    try {
      this.ws?.close(1000, 'connect failed');
    } catch {
      // already closed or never opened
    }
  }

  private async open(): Promise<void> {
    const Ctor = this.opts.WebSocket ?? (await defaultSocket());
    const timeoutMs = this.opts.timeoutMs ?? 30_000;
    const ws = new Ctor(this.opts.url);
    this.ws = ws;
    ws.binaryType = 'arraybuffer';
    const hello = new Promise<Extract<RelayMessage, { t: 'hello' }>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new RelayRequestError('timeout', 'no hello from relay')), timeoutMs);
      ws.onmessage = (ev) => {
        const m = this.decode(ev.data);
        clearTimeout(timer);
        if (m?.t === 'hello') resolve(m);
        else reject(new RelayRequestError('protocol', 'expected hello'));
      };
      ws.onclose = (ev) => {
        clearTimeout(timer);
        reject(new RelayRequestError('closed', `connection closed (${ev.code})`));
      };
      ws.onerror = () => undefined; // onclose follows
    });
    const h = await hello;
    if (this.opts.expectedRelayPub && !equalBytes(h.relayPub, this.opts.expectedRelayPub)) {
      ws.close(1000, 'unexpected relay key');
      throw new RelayRequestError('relay_key_mismatch', 'the relay presented a different key than recorded');
    }
    if (h.relayId !== relayIdOf(h.relayPub) || !challengeIsFor(h.challenge, h.relayPub)) {
      ws.close(1000, 'inconsistent hello');
      throw new RelayRequestError('protocol', "the relay's challenge does not name its own key");
    }
    this.relayId = h.relayId;
    this.relayPub = h.relayPub;
    this.challenge = h.challenge;
    this.maxFrameBytes = h.maxFrameBytes;
    ws.onmessage = (ev) => this.onFrame(ev.data);
    ws.onclose = (ev) => this.onClosed(ev.code, ev.reason);
    const clientNonce = randomNonce(32);
    const auth = await this.request({
      t: 'auth',
      clientNonce,
      deviceId: this.deviceId,
      devicePub: this.opts.devicePub,
      challenge: h.challenge,
      signature: signChallenge(this.opts.signingKey, this.opts.devicePub, h.challenge),
      workspaces: this.opts.workspaces ?? [],
    });
    if (auth.t !== 'auth_ok') throw new RelayRequestError('protocol', `unexpected ${auth.t}`);
    if (!verifyRelayProof(h.relayPub, h.challenge, clientNonce, this.opts.devicePub, auth.relayProof)) {
      ws.close(1000, 'relay proof failed');
      throw new RelayRequestError('relay_key_mismatch', 'the relay did not prove it holds the key it announced');
    }
    this.relayTime = auth.time;
    this.authAt = performance.now();
    for (const bytes of auth.leases) this.keepLease(bytes);
  }

  private keepLease(bytes: Uint8Array): Lease {
    const v = verifyLease(bytes, this.relayPub);
    if (!v.ok || v.value.deviceId !== this.deviceId || v.value.relayId !== this.relayId)
      throw new RelayRequestError('protocol', `invalid lease from relay (${v.ok ? 'wrong device/relay' : v.reason})`);
    this.leases.set(v.value.workspaceId, { lease: v.value, bytes });
    return v.value;
  }

  private decode(data: unknown): RelayMessage | undefined {
    const bytes =
      data instanceof ArrayBuffer ? new Uint8Array(data) : data instanceof Uint8Array ? data : undefined;
    if (!bytes) return this.ignore('not_cbor');
    const m = decodeRelayMessage(bytes);
    return m.ok ? m.value : this.ignore(m.reason);
  }

  private ignore(reason: keyof RelayClient['ignored']): undefined {
    this.ignored[reason] = (this.ignored[reason] ?? 0) + 1;
    return undefined;
  }

  private onFrame(data: unknown): void {
    const f = this.decode(data);
    if (!f) return; // a relay that sends nonsense is ignored, not obeyed
    // Live events carry their authors' signatures, checked where they are opened.
    if (f.t === 'envelope') {
      for (const l of this.envelopeListeners) l({ workspaceId: f.workspaceId, relaySeq: f.relaySeq, envelope: f.envelope });
      return;
    }
    if (f.t === 'log_entry') {
      for (const l of this.logListeners) l({ workspaceId: f.workspaceId, index: f.index, entry: f.entry });
      return;
    }
    // Everything else must be a reply signed for this connection and this request: a forged or moved one
    // resolves nothing (DESIGN → Relay), the request waits for the genuine answer or times out.
    const opened = openReply(this.relayPub, this.challenge, f);
    if (!opened.ok) return void this.ignore(opened.reason);
    const m = opened.value;
    const p = this.pending.get(m.id);
    if (!p) return;
    this.pending.delete(m.id);
    clearTimeout(p.timer);
    if (m.t === 'error') p.reject(new RelayRequestError(m.code, m.message));
    else p.resolve(m);
  }

  private onClosed(code: number, reason: string): void {
    this.isClosed = true;
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new RelayRequestError('closed', `connection closed (${code})`));
    }
    this.pending.clear();
    for (const l of this.closeListeners) l(code, reason);
  }

  /** Send one request and wait for the signed reply with its id. */
  request(req: Request): Promise<ReplyMessage> {
    if (this.isClosed) return Promise.reject(new RelayRequestError('closed', 'connection closed'));
    const id = this.nextId++;
    const frame = encodeMessage({ ...req, id } as ClientMessageInput);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new RelayRequestError('timeout', `${req.t} timed out`));
      }, this.opts.timeoutMs ?? 30_000);
      this.pending.set(id, { resolve, reject, timer });
      try {
        this.ws!.send(frame);
      } catch (e) {
        this.pending.delete(id);
        clearTimeout(timer);
        reject(new RelayRequestError('closed', e instanceof Error ? e.message : 'send failed'));
      }
    });
  }

  private async expect<T extends ReplyMessage['t']>(req: Request, t: T): Promise<Extract<ReplyMessage, { t: T }>> {
    const m = await this.request(req);
    if (m.t !== t) throw new RelayRequestError('protocol', `expected ${t}, got ${m.t}`);
    return m as Extract<ReplyMessage, { t: T }>;
  }

  /**
   * Push one envelope. Rejections are results (quarantine them by reason), not exceptions. An ack is
   * returned only with a receipt that verifies under the relay key; otherwise this throws.
   */
  async push(envelope: Uint8Array): Promise<PushResult> {
    const m = await this.request({ t: 'push', envelope });
    if (m.t === 'push_ack') {
      if (!verifyReceipt(this.relayPub, m.workspaceId, m.relaySeq, envelope, m.receipt))
        throw new RelayRequestError('protocol', 'push_ack without a valid relay receipt: treat the envelope as not stored');
      return { status: 'acked', relaySeq: m.relaySeq, duplicate: m.duplicate, receipt: m.receipt };
    }
    if (m.t === 'push_held') return { status: 'held', heldId: m.heldId };
    if (m.t === 'push_rejected') return { status: 'rejected', reason: m.reason, ...(m.detail ? { detail: m.detail } : {}) };
    throw new RelayRequestError('protocol', `unexpected ${m.t}`);
  }

  /** Envelopes with relaySeq > cursor. Continue from nextCursor while `more`. */
  /** A page of envelopes after `cursor`; this device's own are left out unless `own` (docs/SYNC.md → Own envelopes). */
  async pull(workspaceId: string, cursor: number, limit = 500, own = false): Promise<{ envelopes: WireEnvelope[]; nextCursor: number; more: boolean; ownSkipped?: number }> {
    const m = await this.expect({ t: 'pull', workspaceId, cursor, limit, ...(own ? { own } : {}) }, 'batch');
    return { envelopes: m.envelopes, nextCursor: m.nextCursor, more: m.more, ...(m.ownSkipped !== undefined ? { ownSkipped: m.ownSkipped } : {}) };
  }

  /** Store a snapshot (docs/SNAPSHOTS.md). Refusals are results, with the relay's reason code. */
  async putSnapshot(snapshot: Uint8Array): Promise<{ status: 'stored'; snapshotSeq: number; duplicate: boolean } | { status: 'rejected'; reason: SnapshotRejection; detail?: string }> {
    const m = await this.request({ t: 'snapshot_put', snapshot });
    if (m.t === 'snapshot_stored') return { status: 'stored', snapshotSeq: m.snapshotSeq, duplicate: m.duplicate };
    if (m.t === 'snapshot_rejected') return { status: 'rejected', reason: m.reason, ...(m.detail ? { detail: m.detail } : {}) };
    throw new RelayRequestError('protocol', `unexpected ${m.t}`);
  }

  /** A page of snapshots: the newest of each document after `after`, or every one kept for `docId` (newest first). */
  async listSnapshots(workspaceId: string, after = 0, limit = 200, docId?: string): Promise<{ snapshots: { snapshotSeq: number; snapshot: Uint8Array }[]; next: number; more: boolean }> {
    const m = await this.expect({ t: 'snapshot_list', workspaceId, after, limit, ...(docId ? { docId } : {}) }, 'snapshots');
    return { snapshots: m.snapshots, next: m.next, more: m.more };
  }

  /** Receive live 'envelope' and 'log_entry' events for this workspace. Returns the relay's head seq at subscription. */
  async subscribe(workspaceId: string): Promise<{ head: number }> {
    const m = await this.expect({ t: 'subscribe', workspaceId }, 'subscribed');
    return { head: m.head };
  }

  async unsubscribe(workspaceId: string): Promise<void> {
    await this.expect({ t: 'unsubscribe', workspaceId }, 'unsubscribed');
  }

  /** The workspace's membership chain (links: entry + relay countersignature) from index `start`. Allowed before joining. */
  async getLog(workspaceId: string, start = 0): Promise<Uint8Array[]> {
    const out: Uint8Array[] = [];
    for (let from = start; ; ) {
      const page = await this.expect({ t: 'log_get', workspaceId, from }, 'log');
      out.push(...page.entries);
      // A page must move forward: a relay that says "more" without entries is not followed in circles.
      if (!page.more || page.next <= from || page.entries.length === 0) return out;
      from = page.next;
    }
  }

  /**
   * Append a membership entry, built on the relay's head (else RelayRequestError 'log_stale');
   * resolves to its index and the countersigned link, for the caller to verify. Idempotent.
   * `signupToken`: for the root of a new workspace on a relay that admits by token (docs/RELAY.md → Admission).
   */
  async appendLog(workspaceId: string, entry: Uint8Array, signupToken?: string): Promise<{ index: number; link: Uint8Array }> {
    const r = await this.expect({ t: 'log_append', workspaceId, entry, ...(signupToken ? { token: signupToken } : {}) }, 'log_appended');
    return { index: r.index, link: r.link };
  }

  /** The relay's clock now, estimated from its time at authentication plus the time elapsed here. */
  relayNow(): number {
    return this.relayTime + Math.round(performance.now() - this.authAt);
  }

  /** A fresh lease for a workspace (also kept in `leases`). */
  async renewLease(workspaceId: string): Promise<Lease> {
    return this.keepLease((await this.expect({ t: 'lease_renew', workspaceId }, 'lease')).lease);
  }

  /** Admins: envelopes held under policy 'hold'. */
  async listHeld(workspaceId: string): Promise<Extract<RelayMessage, { t: 'held' }>['items']> {
    return (await this.expect({ t: 'held_list', workspaceId }, 'held')).items;
  }

  /** Admins: release a held envelope into the workspace; resolves to its relay seq. */
  async approveHeld(workspaceId: string, heldId: number): Promise<number> {
    return (await this.expect({ t: 'held_approve', workspaceId, heldId }, 'held_approved')).relaySeq;
  }

  /** Store a sealed item in a device-link mailbox slot; resolves to the mailbox's expiry (relay clock). */
  async putMailbox(box: string, slot: MailboxSlot, data: Uint8Array): Promise<number> {
    return (await this.expect({ t: 'mailbox_put', box, slot, data }, 'mailbox_stored')).expiresAt;
  }

  /** A device-link mailbox slot's item, or undefined while it is empty (or after the mailbox expired). */
  async getMailbox(box: string, slot: MailboxSlot): Promise<Uint8Array | undefined> {
    return (await this.expect({ t: 'mailbox_get', box, slot }, 'mailbox_item')).data;
  }

  /** Round trip; resolves to the relay's clock (and re-anchors relayNow on it). */
  async ping(): Promise<number> {
    const time = (await this.expect({ t: 'ping' }, 'pong')).time;
    this.relayTime = time;
    this.authAt = performance.now();
    return time;
  }

  onEnvelope(cb: (e: EnvelopeEvent) => void): () => void {
    this.envelopeListeners.add(cb);
    return () => this.envelopeListeners.delete(cb);
  }

  onLogEntry(cb: (e: LogEntryEvent) => void): () => void {
    this.logListeners.add(cb);
    return () => this.logListeners.delete(cb);
  }

  onClose(cb: (code: number, reason: string) => void): () => void {
    this.closeListeners.add(cb);
    return () => this.closeListeners.delete(cb);
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Close the connection; pending requests reject with code 'closed'. */
  close(): void {
    if (!this.isClosed) this.ws?.close(1000, 'bye');
  }
}
