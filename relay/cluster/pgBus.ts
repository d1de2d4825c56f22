// Cross-instance coordination for several relay instances on one PostgreSQL database (DESIGN → Relay).
// Sequencing is already transactional in the store; what each instance keeps in memory must follow
// what the others commit:
//  - live fan-out: after an instance commits an envelope (push or held approval) or a membership-log
//    link, it NOTIFYs ids only ({instance, kind, workspace, relaySeq | log index}); every other
//    instance loads that item from the database and fans it out to its own subscribers;
//  - membership caches: a log notification invalidates the workspace's cached chain first, so a
//    removal on instance A refuses the removed device's next push on instance B (and drops its live
//    subscriptions there on the next fan-out);
//  - after the LISTEN connection drops, every cached chain is forgotten when it is back, since
//    notifications sent meanwhile are lost (clients catch up on envelopes by pulling anyway).
// A notification is sent after the commit, from this module's own pool: an instance that dies in
// between loses only the live event (the item is stored and acknowledged; clients pull it).
import { createHash, randomBytes } from 'node:crypto';
import pg from 'pg';
import type { RelayContext } from '../context.ts';
import { fanOut, type FanOutOrigin } from '../handlers/fanout.ts';
import { wallClockMs } from '../metrics.ts';
import type { RelayStore } from '../store/RelayStore.ts';

/** Notifications sent in one statement, at most. */
const NOTIFY_BATCH = 500;

/** PostgreSQL refuses a NOTIFY payload of 8,000 bytes or more. */
export const MAX_NOTIFY_BYTES = 7_999;

export interface ClusterNotice {
  /** Sending instance. */
  i: string;
  /** 'e': an envelope stored at relaySeq n; 'l': a log link stored at index n. */
  k: 'e' | 'l';
  w: string;
  n: number;
  /** When the sender committed the item and queued this notification: wall-clock ms (relay/metrics.ts wallClockMs).
   *  Optional: older instances (during a rolling upgrade) don't send it. Feeds the notification-lag and fan-out metrics. */
  t?: number;
}

export interface RelayCluster {
  readonly instanceId: string;
  /** The store, with notifications sent after each commit other instances must hear about. */
  wrapStore(store: RelayStore): RelayStore;
  /** Start listening and delivering other instances' commits to this relay's subscribers and caches. */
  attach(ctx: RelayContext): Promise<void>;
  /** Stop listening; closes this module's own connections (not the store). */
  close(): Promise<void>;
}

export interface PgClusterOptions {
  /** The store's connection string (without ?schema=). */
  connectionString: string;
  /** The store's schema: instances on one schema share a channel. Default 'public'. */
  schema?: string;
  /** Delay before re-listening after the LISTEN connection dropped. Default 500 ms. */
  reconnectMs?: number;
}

/** The NOTIFY channel of a schema's relay instances (an identifier: at most 63 bytes). */
export function channelOf(schema: string): string {
  return schema === 'public' ? 'cloister_relay' : `cloister_relay_${createHash('sha256').update(schema).digest('hex').slice(0, 24)}`;
}

export function encodeNotice(n: ClusterNotice): string | undefined {
  const s = JSON.stringify(n);
  return Buffer.byteLength(s) <= MAX_NOTIFY_BYTES ? s : undefined;
}

export function decodeNotice(s: string | undefined): ClusterNotice | undefined {
  if (!s) return undefined;
  try {
    const v = JSON.parse(s) as Partial<ClusterNotice>;
    if (typeof v.i !== 'string' || (v.k !== 'e' && v.k !== 'l') || typeof v.w !== 'string' || !Number.isSafeInteger(v.n)) return undefined;
    if (v.t !== undefined && (typeof v.t !== 'number' || !Number.isFinite(v.t))) delete v.t;
    return v as ClusterNotice;
  } catch {
    return undefined;
  }
}

export class PgCluster implements RelayCluster {
  readonly instanceId = randomBytes(8).toString('hex');
  readonly channel: string;
  private readonly pool: pg.Pool;
  private listener: pg.Client | undefined;
  private ctx: RelayContext | undefined;
  private closed = false;
  private sending: Promise<void> = Promise.resolve();
  private handling: Promise<void> = Promise.resolve();
  private readonly outgoing: string[] = [];
  private flushing = false;
  private readonly incoming: ClusterNotice[] = [];
  private draining = false;
  private retry: NodeJS.Timeout | undefined;
  /** Notifications received from other instances (tests and metrics). */
  received = 0;

  constructor(private readonly opts: PgClusterOptions) {
    const schema = opts.schema ?? 'public';
    if (!/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) throw new Error(`invalid schema name "${schema}"`);
    this.channel = channelOf(schema);
    this.pool = new pg.Pool({ connectionString: opts.connectionString, max: 2 });
    this.pool.on('error', () => undefined);
  }

  wrapStore(store: RelayStore): RelayStore {
    const notify = (k: 'e' | 'l', w: string, n: number) => this.notify({ i: this.instanceId, k, w, n, t: Math.round(wallClockMs() * 1000) / 1000 });
    const overrides: Partial<RelayStore> = {
      insertEnvelope: async (e) => {
        const r = await store.insertEnvelope(e);
        if (r.status === 'inserted') notify('e', e.workspaceId, r.relaySeq);
        return r;
      },
      releaseHeld: async (workspaceId, heldId) => {
        const r = await store.releaseHeld(workspaceId, heldId);
        if (r?.status === 'inserted') notify('e', workspaceId, r.relaySeq);
        return r;
      },
      appendLogEntry: async (workspaceId, index, entry) => {
        const r = await store.appendLogEntry(workspaceId, index, entry);
        if (r) notify('l', workspaceId, index);
        return r;
      },
    };
    // Every other method (including ones the store gains later) goes to the store itself.
    return new Proxy(store, {
      get(target, prop, receiver) {
        if (Object.prototype.hasOwnProperty.call(overrides, prop)) return overrides[prop as keyof RelayStore];
        const v = Reflect.get(target, prop, receiver) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
  }

  /**
   * Queued in order and sent in batches (one statement for everything queued meanwhile, in order),
   * so a burst of pushes costs a few round trips, not one each. A failure is logged and never fails
   * the request that caused it.
   */
  private notify(n: ClusterNotice): void {
    const payload = encodeNotice(n);
    if (!payload || this.closed) return;
    this.outgoing.push(payload);
    if (this.flushing) return;
    this.flushing = true;
    this.sending = this.sending.then(() => this.flush());
  }

  private async flush(): Promise<void> {
    while (this.outgoing.length > 0) {
      const batch = this.outgoing.splice(0, NOTIFY_BATCH);
      try {
        await this.pool.query('SELECT pg_notify($1, u.p) FROM unnest($2::text[]) WITH ORDINALITY AS u(p, i) ORDER BY u.i', [this.channel, batch]);
      } catch (e) {
        this.ctx?.log.warn({ err: e instanceof Error ? e.message : String(e), count: batch.length }, 'cluster notifications not sent');
      }
    }
    this.flushing = false;
  }

  async attach(ctx: RelayContext): Promise<void> {
    this.ctx = ctx;
    await this.listen();
  }

  private async listen(): Promise<void> {
    const c = new pg.Client({ connectionString: this.opts.connectionString });
    const lost = (why: string) => {
      if (this.listener !== c) return;
      this.listener = undefined;
      void c.end().catch(() => undefined);
      if (this.closed) return;
      this.ctx?.log.warn({ err: why }, 'cluster LISTEN connection lost; re-listening');
      this.scheduleRelisten();
    };
    c.on('error', (e) => lost(e.message));
    c.on('end', () => lost('connection ended'));
    c.on('notification', (m) => {
      if (m.channel !== this.channel) return;
      const n = decodeNotice(m.payload);
      if (!n || n.i === this.instanceId) return;
      this.received++;
      const metrics = this.ctx?.metrics;
      if (metrics) {
        metrics.notificationsReceived.inc();
        metrics.notificationsPending.inc();
        if (n.t !== undefined) {
          // Clocks of different hosts: a negative lag (skew) counts as 0.
          const lag = Math.max(0, wallClockMs() - n.t) / 1000;
          metrics.notificationLag.observe(lag);
          metrics.notificationLagLast.set(lag);
        }
      }
      this.incoming.push(n);
      if (this.draining) return;
      this.draining = true;
      this.handling = this.handling.then(() => this.drainIncoming());
    });
    await c.connect();
    await c.query(`LISTEN ${this.channel}`);
    if (this.closed) {
      await c.end().catch(() => undefined);
      return;
    }
    this.listener = c;
  }

  private scheduleRelisten(): void {
    if (this.closed || this.retry) return;
    this.retry = setTimeout(() => {
      this.retry = undefined;
      this.listen().then(
        () => this.ctx?.workspaces.invalidateAll(), // notifications sent while we were away are lost
        (e: unknown) => {
          this.ctx?.log.warn({ err: e instanceof Error ? e.message : String(e) }, 'cluster LISTEN failed; retrying');
          this.scheduleRelisten();
        },
      );
    }, this.opts.reconnectMs ?? 500);
    this.retry.unref();
  }

  /**
   * Handle everything received so far as one batch: log notices first (in order: they invalidate
   * membership caches before the envelopes are authorised for delivery), then each workspace's
   * envelopes with one range query, fanned out in relay-seq order.
   */
  private async drainIncoming(): Promise<void> {
    while (this.incoming.length > 0) {
      const batch = this.incoming.splice(0);
      const logs = batch.filter((n) => n.k === 'l');
      const envelopes = new Map<string, ClusterNotice[]>();
      for (const n of batch) if (n.k === 'e') envelopes.set(n.w, [...(envelopes.get(n.w) ?? []), n]);
      for (const n of logs) await this.settle(n.w, () => this.deliverLog(n));
      for (const [w, ns] of envelopes) await this.settle(w, () => this.deliverEnvelopes(w, ns));
      this.ctx?.metrics.notificationsPending.dec(batch.length);
    }
    this.draining = false;
  }

  private async settle(workspace: string, work: () => Promise<void>): Promise<void> {
    try {
      await work();
    } catch (e) {
      this.ctx?.log.warn({ err: e instanceof Error ? e.message : String(e), workspace }, 'cluster notification not delivered');
    }
  }

  /** Another instance appended link `n.n`: refresh the cached chain and tell our subscribers. */
  private async deliverLog(n: ClusterNotice): Promise<void> {
    const ctx = this.ctx;
    if (!ctx) return;
    ctx.workspaces.invalidate(n.w);
    if (!ctx.subscribers.get(n.w)?.size) return;
    const links = await ctx.workspaces.entries(n.w);
    const link = links?.[n.n];
    if (link) await fanOut(ctx, n.w, { t: 'log_entry', workspaceId: n.w, index: n.n, entry: link });
  }

  /** Other instances stored these envelopes of `w`: load them in one query and fan them out in order. */
  private async deliverEnvelopes(w: string, ns: ClusterNotice[]): Promise<void> {
    const ctx = this.ctx;
    if (!ctx || !ctx.subscribers.get(w)?.size) return;
    const wanted = new Map(ns.map((n) => [n.n, n]));
    const seqs = [...wanted.keys()].sort((a, b) => a - b);
    const from = seqs[0]!;
    const to = seqs[seqs.length - 1]!;
    for (let cursor = from - 1; cursor < to; ) {
      const page = await ctx.store.listEnvelopes(w, cursor, Math.min(1000, to - cursor));
      if (page.length === 0) break;
      for (const e of page) {
        const n = wanted.get(e.relaySeq);
        if (!n) continue; // ours (already fanned out here) or not announced
        const origin: FanOutOrigin | undefined = n.t !== undefined ? { storedAt: n.t, source: 'cluster' } : undefined;
        await fanOut(ctx, w, { t: 'envelope', workspaceId: w, relaySeq: e.relaySeq, envelope: e.bytes }, undefined, origin, e.deviceId);
      }
      cursor = page[page.length - 1]!.relaySeq;
    }
  }

  /** Resolves when every notification received so far has been handled (tests). */
  async drained(): Promise<void> {
    await this.handling;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    await this.sending;
    const l = this.listener;
    this.listener = undefined;
    await l?.end().catch(() => undefined);
    await this.pool.end().catch(() => undefined);
  }
}

/** The coordination a relay needs for its store spec: PostgreSQL gets a PgCluster, SQLite (one instance) none. */
export function clusterFor(spec: string): PgCluster | undefined {
  if (!spec.startsWith('postgres://') && !spec.startsWith('postgresql://')) return undefined;
  const url = new URL(spec);
  const schema = url.searchParams.get('schema') ?? 'public';
  url.searchParams.delete('schema');
  return new PgCluster({ connectionString: url.toString(), schema });
}
