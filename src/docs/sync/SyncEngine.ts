// The client sync engine for one workspace: connect and authenticate (relayClient), pin the relay key
// on first use, take leases, sync the membership log both ways (and re-key when an active device has
// no lockbox for the current epoch), push the outbox pipelined, pull since the persisted cursor and
// apply in large batches, and — when started — follow live envelopes and log entries, reconnecting
// with exponential backoff and jitter. Nothing is dropped: acked envelopes leave the outbox, refused
// ones go to quarantine with the relay's reason, transient refusals stay in the outbox for the next pass.
import { equalBytes, fromBase64url, toBase64url } from '../../crypto/bytes.ts';
import type { PushRejection, WireEnvelope } from '../../protocol/messages.ts';
import { RETRY_AFTER_LOG_SYNC, type ApplyReport } from '../DocSession.ts';
import type { OutboxEntry } from '../outbox.ts';
import { Mutex } from '../seqLock.ts';
import { forkMessage, syncMembershipLog } from './syncMembershipLog.ts';
import type { ForkEvidence } from './chainSync.ts';
import { decodeEnvelope } from '../../protocol/envelope.ts';
import { RelayClient, RelayRequestError } from './relayClient.ts';
import { resealUnleased } from './resealUnleased.ts';
import { settleResubmitted } from './resubmit.ts';
import { fillGapsFromSnapshots, loadSnapshots, sealDueSnapshots, SNAPSHOT_EVERY, snapshotWeight } from './snapshotSync.ts';

export { SyncError, type SyncEngineOptions, type SyncEvents, type SyncSession, type SyncSummary, type WorkspaceStorePort } from './syncTypes.ts';
import { bump, SyncError, type SyncEngineOptions, type SyncEvents, type SyncSession, type SyncSummary } from './syncTypes.ts';

/** Relay refusals that are about timing, not the envelope: keep it in the outbox and retry. */
const TRANSIENT: ReadonlySet<PushRejection> = new Set<PushRejection>(['rate_limited', 'internal', 'seq_gap', 'unknown_workspace', 'quota_exceeded']);

const emptySummary = (workspaceId: string, relay: string): SyncSummary => ({
  workspaceId, relay, pushed: 0, acked: 0, duplicates: 0, held: 0, rejected: {}, retry: 0, pulled: 0, applied: 0, alreadyHad: 0, heldRemote: 0,
  quarantinedRemote: {}, logReceived: 0, logSent: 0, logRejected: {}, keysShared: 0, access: 'member', cursor: 0, outbox: 0,
  offlineRemainingMs: 0, snapshots: { loaded: 0, refused: {}, sealed: 0 }, ms: 0,
});

/**
 * The relay URLs of a `--relay` value or a workspace's stored relay: one URL, or several instances of
 * one deployment separated by commas (tried in order; a client whose instance dies moves to the next).
 */
export function relayUrlsOf(spec: string): string[] {
  return spec.split(',').map(u => u.trim()).filter(u => u.length > 0);
}

/** Every URL of a `--relay` list looks like ws(s)://HOST[:PORT]... */
export function validRelayList(spec: string): boolean {
  const urls = relayUrlsOf(spec);
  return urls.length > 0 && urls.every(u => /^wss?:\/\/[^\s/,]+/.test(u));
}

const outboxKey = (entries: readonly OutboxEntry[]): string => entries.map(e => `${e.docId}:${e.seq}`).join(',');

export class SyncEngine {
  /** As configured: one URL or a comma-separated list of instances (relayUrls). */
  readonly relayUrl: string;
  readonly relayUrls: readonly string[];
  /** Index in relayUrls of the instance to try first (the one connected to, or the next after one that died). */
  #urlIndex = 0;
  readonly #s: SyncSession;
  readonly #o: SyncEngineOptions;
  readonly #mutex = new Mutex();
  readonly #listeners = new Map<keyof SyncEvents, Set<(v: never) => void>>();
  readonly #now: () => number;
  #client: RelayClient | undefined;
  #connecting: Promise<RelayClient> | undefined;
  #cursor: number | undefined;
  /** relaySeqs above the persisted cursor already applied from live events (skipped when pulled). */
  readonly #liveApplied = new Set<number>();
  #running = false;
  #attempt = 0;
  #timers = new Set<ReturnType<typeof setTimeout>>();
  readonly #polls = new Set<ReturnType<typeof setTimeout>>();
  #keepalive: ReturnType<typeof setInterval> | undefined;
  #lastPushed = '';
  /** The outbox's size when the last push round ended, not counting seals after #sealedMark (undefined: not counted yet). */
  #outboxCount: number | undefined;
  #sealedMark = 0;
  /** The highest relay seq acked for our envelopes in this process (persisted as ownAcked at the end of each pass). */
  #ackedHigh = 0;
  /** Envelopes sealed by this session so far. */
  #sealed = 0;
  /** Envelopes per document applied or acked since the last snapshot step (snapshotSync.ts). */
  readonly #touched = new Map<string, number>();
  /** Sequence gaps already looked up in the relay's snapshots (fillGapsFromSnapshots). */
  readonly #gapsTried = new Set<string>();
  #liveQueue: WireEnvelope[] = [];
  #liveScheduled = false;
  #pushScheduled = false;
  #pullScheduled = false;
  #logScheduled = false;
  /** The connection whose live subscription the relay accepted (none yet: refused or not asked). */
  #subscribed: RelayClient | undefined;
  #unsubscribers: (() => void)[] = [];
  #stopped: Promise<void> | undefined;
  #idle: Promise<unknown> = Promise.resolve();
  /** The membership view the quarantine was last retried against (a new one may bring keys or devices). */
  #retriedAgainst: unknown[] | undefined;

  constructor(session: SyncSession, options: SyncEngineOptions = {}) {
    this.#s = session;
    this.#o = options;
    this.#now = options.now ?? Date.now;
    session.docs.onSealed(() => void this.#sealed++);
    const url = options.relayUrl;
    if (!url) throw new SyncError('no_relay', 'this workspace has no relay: pass --relay ws://HOST:PORT (or create it with --relay)');
    this.relayUrl = url;
    this.relayUrls = relayUrlsOf(url);
    if (this.relayUrls.length === 0) throw new SyncError('no_relay', 'this workspace has no relay: pass --relay ws://HOST:PORT (or create it with --relay)');
  }

  /** The relay instance connected to (or to be tried first). */
  get currentRelayUrl(): string {
    return this.relayUrls[this.#urlIndex % this.relayUrls.length]!;
  }

  get workspaceId(): string {
    return this.#s.live.workspaceId;
  }

  /** Subscribe to an event; returns the unsubscribe function. */
  on<K extends keyof SyncEvents>(event: K, cb: (v: SyncEvents[K]) => void): () => void {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    set.add(cb as (v: never) => void);
    return () => set.delete(cb as (v: never) => void);
  }

  #emit<K extends keyof SyncEvents>(event: K, v: SyncEvents[K]): void {
    for (const cb of this.#listeners.get(event) ?? []) {
      try {
        (cb as (v: SyncEvents[K]) => void)(v);
      } catch {
        /* a listener's failure is not the engine's */
      }
    }
  }

  #log(level: 'info' | 'warn' | 'error', msg: string, detail?: Record<string, unknown>): void {
    this.#o.log?.(level, msg, { workspace: this.workspaceId, ...detail });
  }

  /** One full pass: connect if needed, log both ways, lease, push, pull and apply. */
  syncOnce(): Promise<SyncSummary> {
    return this.#mutex.run(async () => {
      const t0 = performance.now();
      const s = emptySummary(this.workspaceId, this.relayUrl);
      const client = await this.#connect();
      await this.#syncLog(client, s);
      await this.#retryCurable(s);
      await this.#ensureLease(client);
      await this.#push(client, s);
      await this.#pull(client, s);
      await this.#sealSnapshots(client, s);
      await this.#finish(s, t0);
      this.#emit('synced', s);
      return s;
    });
  }

  /** Keep syncing (live subscription, pushes soon after each edit, reconnect with backoff) until stop(). */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#stopped = undefined;
    this.#unsubscribers.push(this.#s.docs.onSealed(() => this.#schedulePush()));
    this.#cycle(0);
    this.#pollOutbox();
    this.#startKeepalive();
  }

  /** Default keepalive period: well under the relay's default idle timeout (15 min). */
  static readonly KEEPALIVE_MS = 4 * 60_000;

  /**
   * The relay closes an authenticated connection that sends nothing for its idleTimeoutMs (4002), which
   * a live subscriber on a quiet workspace would do: ping every keepaliveMs while connected. A ping
   * that fails is left to the connection's close handler (reconnect); it also refreshes the relay clock.
   */
  #startKeepalive(): void {
    const every = this.#o.keepaliveMs ?? SyncEngine.KEEPALIVE_MS;
    if (!(every > 0) || this.#keepalive) return;
    this.#keepalive = setInterval(() => {
      const client = this.#client;
      if (!this.#running || !client || client.closed) return;
      client.ping().then(
        t => this.#s.lease.observe(t),
        () => undefined,
      );
    }, every);
  }

  /** Other processes on this profile (e.g. `cloister record add` next to `sync --watch`) fill the outbox on disk too. */
  #pollOutbox(): void {
    const every = this.#o.outboxPollMs ?? 2_000;
    const t = setTimeout(() => {
      this.#polls.delete(t);
      if (!this.#running) return;
      void this.#s.docs.outbox.pending().then(
        p => {
          // Only when something new appeared: held or gap-blocked envelopes are not re-sent every poll.
          if (p.length > 0 && outboxKey(p) !== this.#lastPushed && this.#client && !this.#client.closed) this.#schedulePush();
        },
        () => undefined,
      );
      this.#pollOutbox();
    }, every);
    this.#polls.add(t);
  }

  /** Stop long-running mode (if started) and close the connection; waits for the pass in progress. */
  stop(): Promise<void> {
    return (this.#stopped ??= (async () => {
      this.#running = false;
      if (this.#keepalive) clearInterval(this.#keepalive);
      this.#keepalive = undefined;
      for (const t of [...this.#timers, ...this.#polls]) clearTimeout(t);
      this.#timers.clear();
      this.#polls.clear();
      for (const u of this.#unsubscribers.splice(0)) u();
      await this.#mutex.run(async () => undefined);
      await this.#idle.catch(() => undefined);
      this.#client?.close();
      this.#client = undefined;
    })());
  }

  /** Resolves when every push/pull/log pass queued so far has run (handy in tests and benchmarks). */
  async settled(): Promise<void> {
    await new Promise(r => setTimeout(r, 0));
    await this.#idle.catch(() => undefined);
    await this.#mutex.run(async () => undefined);
  }

  /** Push now (long-running mode pushes by itself shortly after each sealed envelope). */
  kick(): void {
    this.#schedulePush();
  }

  /** Run a membership pass now (long-running mode): intents recorded since the last pass go out without waiting for a relay event. */
  kickMembership(): void {
    if (this.#running) this.#scheduleLog();
  }

  // ---- connection -------------------------------------------------------------------------

  async #connect(): Promise<RelayClient> {
    if (this.#client && !this.#client.closed) return this.#client;
    this.#connecting ??= this.#openClient().finally(() => (this.#connecting = undefined));
    return this.#connecting;
  }

  async #openClient(): Promise<RelayClient> {
    const st = await this.#s.syncState.load();
    // A fork alarm stops syncing this workspace for good: don't even connect (DESIGN → Membership log).
    if (st.fork) throw new SyncError('log_fork', forkMessage(st.fork));
    const pinned = st.relayPub ? fromBase64url(st.relayPub) : undefined;
    const dev = this.#s.device;
    // Failover: the instances of one deployment in order, from the one last used (or the next after
    // one that died). They share the relay key, so the pinned key holds for each of them.
    let client: RelayClient | undefined;
    const failures: string[] = [];
    const n = this.relayUrls.length;
    for (let k = 0; k < n && !client; k++) {
      const i = (this.#urlIndex + k) % n;
      const url = this.relayUrls[i]!;
      try {
        client = await RelayClient.connect({
          url,
          signingKey: dev.signingKey,
          devicePub: dev.signingPub,
          workspaces: [this.workspaceId],
          ...(pinned ? { expectedRelayPub: pinned } : {}),
          ...(this.#o.WebSocketImpl ? { WebSocket: this.#o.WebSocketImpl } : {}),
          ...(this.#o.timeoutMs ? { timeoutMs: this.#o.timeoutMs } : {}),
        });
        this.#urlIndex = i;
      } catch (e) {
        if (e instanceof RelayRequestError && e.code === 'relay_key_mismatch')
          throw new SyncError(
            'relay_key_mismatch',
            `the relay at ${url} presented a different key than the one pinned for this workspace on first use (${st.relayPub?.slice(0, 16)}…); refusing to sync`,
          );
        failures.push(`${url}: ${e instanceof Error ? e.message : String(e)}`);
        if (n > 1) this.#log('warn', 'relay instance unreachable; trying the next', { relay: url, err: failures[failures.length - 1] });
      }
    }
    if (!client) throw new SyncError('connect_failed', `cannot reach the relay at ${failures.join('; ')}`);
    if (pinned && !equalBytes(pinned, client.relayPub)) {
      client.close();
      throw new SyncError('relay_key_mismatch', `the relay at ${this.currentRelayUrl} presented a different key than the one pinned for this workspace; refusing to sync`);
    }
    if (!pinned) {
      await this.#s.syncState.update(x => {
        x.relayPub = toBase64url(client.relayPub);
      });
      this.#log('info', 'relay key pinned (first use)', { relayId: client.relayId });
    }
    this.#s.lease.observe(this.#now());
    this.#s.lease.observe(client.relayTime);
    this.#takeLeases(client);
    this.#client = client;
    const usedIndex = this.#urlIndex;
    this.#unsubscribers.push(
      client.onClose((code, reason) => {
        if (this.#client === client) this.#client = undefined;
        // The instance may be gone: the next attempt starts with the next one in the list.
        if (this.#running && n > 1 && this.#urlIndex === usedIndex) this.#urlIndex = (usedIndex + 1) % n;
        this.#emit('disconnected', { code, reason });
        if (this.#running) this.#scheduleReconnect();
      }),
    );
    this.#emit('connected', { relayId: client.relayId });
    return client;
  }

  #takeLeases(client: RelayClient): void {
    const l = client.leases.get(this.workspaceId);
    if (!l) return;
    // relayClient verified it under the relay key it authenticated (the pinned one).
    const before = this.#s.lease.lease?.leaseId;
    this.#s.lease.accept(l.lease, l.bytes);
    if (before !== l.lease.leaseId) this.#emit('lease', l.lease);
  }

  async #ensureLease(client: RelayClient): Promise<void> {
    this.#takeLeases(client);
    // The relay's clock (one round trip) feeds the rollback-resistant clock and says whether to renew.
    this.#s.lease.observe(await client.ping());
    const held = this.#s.lease.lease;
    const fresh = held && held.relayId === client.relayId && held.workspaceId === this.workspaceId &&
      this.#s.lease.offlineRemainingMs() > (held.notAfter - held.issuedAt) / 2;
    if (fresh) return;
    // No lease yet (the workspace was new to the relay at authentication, or we just joined), or half used up.
    try {
      await client.renewLease(this.workspaceId);
      this.#takeLeases(client);
    } catch (e) {
      if (!(e instanceof RelayRequestError) || (e.code !== 'not_member' && e.code !== 'unknown_workspace')) throw e;
    }
  }

  // ---- membership log ---------------------------------------------------------------------

  async #syncLog(client: RelayClient, s: SyncSummary): Promise<void> {
    await syncMembershipLog(
      {
        session: this.#s,
        workspaceId: this.workspaceId,
        relayUrl: this.currentRelayUrl,
        now: this.#now,
        log: (level, msg, detail) => this.#log(level, msg, detail),
        membershipChanged: state => this.#emit('membership', state),
      },
      client,
      s,
    );
  }

  /**
   * Envelopes quarantined as unknown_epoch or unknown_device (the cursor moved past them) are applied
   * again once the log brought their key or device; only when the membership view changed.
   */
  async #retryCurable(s: SyncSummary): Promise<void> {
    const view = [this.#s.live.state, this.#s.live.epochKeys];
    if (this.#retriedAgainst && view.every((v, i) => v === this.#retriedAgainst![i])) return;
    this.#retriedAgainst = view;
    const report = await this.#s.docs.retryCurable();
    if (!report) return;
    this.#count(report, s);
    this.#log('info', 'retried envelopes a log sync could cure', { applied: report.applied.length, held: report.held.length });
    await this.#forkAlarm(report);
  }

  /**
   * DESIGN → Fork detection in the data plane: an authentic envelope naming another entry at a log
   * index where we hold one (quarantined as log_fork) proves the relay forked the log. Keep the
   * evidence in the sync state (syncMembershipLog then refuses to sync) and stop syncing.
   */
  async #forkAlarm(report: ApplyReport): Promise<void> {
    const forks = new Set(report.rejected.filter(r => r.reason === 'log_fork').map(r => r.quarantineId));
    if (forks.size === 0) return;
    const q = (await this.#s.docs.quarantine.list()).find(e => forks.has(e.id));
    const d = q && decodeEnvelope(q.bytes);
    if (!d || !d.ok) return;
    const h = d.value.header;
    const state = this.#s.live.state;
    const link = state.links[h.logIndex];
    const ours = link ? toBase64url(link) : '';
    const detail = `device ${h.deviceId} sealed an envelope (document ${h.docId}, seq ${h.seq}) naming entry ${toBase64url(h.logHead)} at index ${h.logIndex}, where this device holds ${state.order[h.logIndex] ?? '(none)'}`;
    const evidence: ForkEvidence = { index: h.logIndex, ours, theirs: `envelope:${toBase64url(h.logHead)}`, detail, detectedAt: this.#now() };
    let kept = evidence;
    await this.#s.syncState.update(x => {
      x.fork ??= evidence;
      kept = x.fork;
    });
    this.#log('error', 'membership log fork detected from an envelope', { index: h.logIndex, device: h.deviceId });
    throw new SyncError('log_fork', forkMessage(kept));
  }

  // ---- push ---------------------------------------------------------------------------------

  async #push(client: RelayClient, s: SyncSummary): Promise<void> {
    try {
      await this.#s.docs.flush();
    } catch (e) {
      // e.g. no key yet for the current epoch (an admin's next sync re-keys): push and pull the rest anyway.
      s.unsealed = e instanceof Error ? e.message : String(e);
      this.#log('warn', 'could not seal local edits yet', { err: s.unsealed });
    }
    const resealed = await resealUnleased(this.#s.docs, this.#s.live, this.#s.lease.leaseId());
    if (resealed) this.#log('info', 'sealed edits made before the first lease under it', { envelopes: resealed });
    // A few rounds: envelopes refused as rate_limited (and the seq_gaps behind them) go again after a pause.
    for (let round = 0; ; round++) {
      const limited = { n: 0, rate: 0 };
      const mark = this.#sealed;
      const entries = await this.#s.docs.outbox.pending();
      this.#lastPushed = outboxKey(entries);
      const retired = await this.#pushRound(client, entries, s, limited);
      this.#outboxCount = entries.length - retired;
      this.#sealedMark = mark;
      if (limited.rate === 0 || round >= 3) break;
      s.retry -= limited.n;
      await new Promise(r => setTimeout(r, 500 * (round + 1)));
    }
    // Resubmitted lease_expired envelopes leave the quarantine once the relay has acked them (resubmit.ts).
    if (s.acked + s.duplicates > 0 || Object.keys(s.rejected).length > 0) await settleResubmitted(this.#s.docs);
  }

  /**
   * Send every entry without waiting for acks (at most `pushWindow` in flight). Answered entries
   * leave the outbox in batches, each under one hold of the profile lock (DocSession.retireManyFromOutbox),
   * while later pushes are on the wire: the lock is never held across a round trip.
   */
  async #pushRound(client: RelayClient, entries: OutboxEntry[], s: SyncSummary, limited: { n: number; rate: number }): Promise<number> {
    const window = Math.max(1, this.#o.pushWindow ?? 256);
    const inflight = new Set<Promise<void>>();
    let failure: unknown;
    const answered: OutboxEntry[] = [];
    let retiring: Promise<void> | undefined;
    let retired = 0;
    const retire = (e: OutboxEntry): void => {
      answered.push(e);
      retiring ??= (async () => {
        try {
          while (answered.length > 0) {
            const batch = answered.splice(0);
            await this.#s.docs.retireManyFromOutbox(batch);
            retired += batch.length;
          }
        } catch (err) {
          failure ??= err; // they stay in the outbox: re-sent next pass, acked again as duplicates
        } finally {
          retiring = undefined;
        }
      })();
    };
    for (const e of entries) {
      while (inflight.size >= window) await Promise.race(inflight);
      if (failure) break;
      const p: Promise<void> = this.#pushOne(client, e, s, limited, retire).then(
        () => void inflight.delete(p),
        err => {
          inflight.delete(p);
          failure ??= err;
        },
      );
      inflight.add(p);
    }
    await Promise.all(inflight);
    while (retiring) await retiring;
    if (failure) throw failure;
    return retired;
  }

  async #pushOne(client: RelayClient, e: OutboxEntry, s: SyncSummary, limited: { n: number; rate: number }, retire: (e: OutboxEntry) => void): Promise<void> {
    s.pushed++;
    const r = await client.push(e.bytes);
    if (r.status === 'acked') {
      if (r.relaySeq > this.#ackedHigh) this.#ackedHigh = r.relaySeq;
      retire(e);
      if (r.duplicate) s.duplicates++;
      else {
        s.acked++;
        this.#touch(e.docId);
      }
      return;
    }
    if (r.status === 'held') {
      s.held++; // stored by the relay for an admin; stays in the outbox (a re-send is answered 'held' again)
      return;
    }
    if (r.reason === 'covered_by_snapshot') {
      // Stored once, then pruned under a snapshot that holds its changes (docs/SNAPSHOTS.md): delivered.
      retire(e);
      s.duplicates++;
      return;
    }
    if (TRANSIENT.has(r.reason)) {
      s.retry++;
      if (r.reason === 'rate_limited' || r.reason === 'seq_gap') limited.n++;
      if (r.reason === 'rate_limited') limited.rate++;
      return;
    }
    if (r.reason === 'seq_replay') {
      this.#log('error', 'relay refused an envelope as seq_replay: a profile restored from an older copy, or a client bug (two sessions sealed the same sequence number)', {
        docId: e.docId, seq: e.seq, detail: r.detail,
      });
    }
    await this.#s.docs.quarantine.add(e.bytes, r.reason, r.detail, 'push');
    retire(e);
    bump(s.rejected, r.reason);
  }

  // ---- pull ---------------------------------------------------------------------------------

  async #loadCursor(): Promise<number> {
    this.#cursor ??= (await this.#s.syncState.load()).relayCursor;
    return this.#cursor;
  }

  async #pull(client: RelayClient, s: SyncSummary): Promise<void> {
    let cursor = await this.#loadCursor();
    if (cursor === 0 && this.#o.loadSnapshots !== false) {
      try {
        await loadSnapshots(client, this.#s.docs, this.workspaceId, s.snapshots, (l, m, d) => this.#log(l, m, d));
      } catch (e) {
        // Access refusals are the pull's to report; anything else: the envelopes alone still get there.
        if (!(e instanceof RelayRequestError)) throw e;
        this.#log('warn', 'snapshots could not be listed; reading every envelope instead', { code: e.code });
      }
    }
    const ownAcked = Math.max((await this.#s.syncState.load()).ownAcked ?? 0, this.#ackedHigh);
    let own = false;
    const limit = this.#o.pullLimit ?? 1000;
    const batchMax = this.#o.applyBatch ?? 10_000;
    let buf: WireEnvelope[] = [];
    for (;;) {
      let page;
      try {
        page = await client.pull(this.workspaceId, cursor, limit, own);
      } catch (e) {
        if (e instanceof RelayRequestError && (e.code === 'not_member' || e.code === 'unknown_workspace')) {
          s.access = e.code;
          return;
        }
        throw e;
      }
      if (!own && page.ownSkipped !== undefined && page.ownSkipped > ownAcked) {
        // The relay holds envelopes of ours this profile never saw acknowledged: read on with them.
        this.#log('warn', 'the relay holds envelopes of this device that this profile does not know; fetching them', { from: cursor, upTo: page.ownSkipped });
        own = true;
        continue;
      }
      for (const env of page.envelopes) if (!this.#liveApplied.has(env.relaySeq)) buf.push(env);
      s.pulled += page.envelopes.length;
      const end = page.nextCursor;
      if (buf.length >= batchMax || !page.more) {
        await this.#apply(buf, s);
        buf = [];
        // The cursor never pins (DESIGN): every envelope up to `end` is applied, quarantined or parked
        // in the pending store (which is retried with each later envelope for its document).
        await this.#saveCursor(end, page.more); // the last one is written with the pass's other state (#finish)
      }
      cursor = end;
      if (!page.more) break;
    }
    if (own && cursor > this.#ackedHigh) this.#ackedHigh = cursor; // every own envelope up to here is applied
    if (s.heldRemote > 0 || s.pulled > 0) await fillGapsFromSnapshots(client, this.#s.docs, this.workspaceId, s.snapshots, this.#gapsTried, (l, m, d) => this.#log(l, m, d));
  }

  async #saveCursor(c: number, now = true): Promise<void> {
    if (c <= (this.#cursor ?? 0)) return;
    this.#cursor = c;
    for (const seq of this.#liveApplied) if (seq <= c) this.#liveApplied.delete(seq);
    if (!now) return;
    await this.#s.syncState.update(x => {
      x.relayCursor = Math.max(x.relayCursor, c);
    });
  }

  /** Apply a batch: afterwards each envelope is applied, quarantined (with its reason) or parked. */
  async #apply(batch: WireEnvelope[], s: SyncSummary): Promise<void> {
    if (batch.length === 0) return;
    const envelopes = batch.map(e => e.envelope);
    // e.g. the browser verifies the batch's signatures with WebCrypto first (preverifyEnvelopes.ts).
    await this.#o.beforeApply?.(envelopes).catch(() => undefined);
    const report = await this.#s.docs.applyRemote(envelopes);
    this.#count(report, s);
    await this.#forkAlarm(report);
    // An author ahead of us: a log index we lack, a device whose join we have not seen (it joined
    // before this connection subscribed, so its log entry never came live), a key epoch we lack. Fetch
    // the log; the retry after it applies them.
    if (this.#running && report.rejected.some(r => RETRY_AFTER_LOG_SYNC.has(r.reason))) this.#scheduleLog();
  }

  #touch(docId: string, weight = 1): void {
    this.#touched.set(docId, (this.#touched.get(docId) ?? 0) + weight);
  }

  /** After a pass: seal snapshots of documents that have gained enough envelopes (snapshotSync.ts). */
  async #sealSnapshots(client: RelayClient, s: SyncSummary): Promise<void> {
    if (s.access !== 'member' || client.closed) return;
    await sealDueSnapshots(client, this.#s.docs, this.#s.syncState, this.#touched, this.#o.snapshotEvery ?? SNAPSHOT_EVERY, s.snapshots, (l, m, d) => this.#log(l, m, d));
  }

  #count(report: ApplyReport, s: SyncSummary): void {
    for (const a of report.applied) this.#touch(a.docId, snapshotWeight(a.changes));
    s.applied += report.applied.length;
    s.alreadyHad += report.duplicates;
    s.heldRemote += report.held.length;
    for (const r of report.rejected) bump(s.quarantinedRemote, r.reason);
    this.#emit('applied', report);
  }

  async #finish(s: SyncSummary, t0: number): Promise<void> {
    // One state write per pass: the lease, the latest time, and how far the relay acked our envelopes.
    const ackedHigh = this.#ackedHigh;
    const cursor = this.#cursor;
    await this.#s.lease.persist(this.#s.syncState, x => {
      if (ackedHigh > (x.ownAcked ?? 0)) x.ownAcked = ackedHigh;
      if (cursor !== undefined) x.relayCursor = Math.max(x.relayCursor, cursor);
    });
    s.cursor = this.#cursor ?? (await this.#loadCursor());
    // What the last push left (plus what was sealed since), without reading the outbox again.
    if (this.#outboxCount === undefined) {
      this.#sealedMark = this.#sealed;
      this.#outboxCount = (await this.#s.docs.outbox.pending()).length;
    }
    s.outbox = this.#outboxCount + this.#sealed - this.#sealedMark;
    s.offlineRemainingMs = this.#s.lease.offlineRemainingMs();
    s.ms = Math.round(performance.now() - t0);
    // Rate-limited or waiting behind one that was: try again shortly (long-running mode only).
    if (this.#running && s.retry > 0) this.#timer(5_000, () => this.#schedulePush());
  }

  // ---- long-running mode ----------------------------------------------------------------------

  #timer(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      fn();
    }, ms);
    this.#timers.add(t);
  }

  #track(p: Promise<unknown>): void {
    const prev = this.#idle;
    this.#idle = Promise.allSettled([prev, p]);
  }

  /** Connect, subscribe, full pass; on failure back off and try again. */
  #cycle(delayMs: number): void {
    this.#timer(delayMs, () => {
      if (!this.#running) return;
      const p = (async () => {
        try {
          const client = await this.#connect();
          await this.#subscribe(client);
          await this.#subscribeIfMember(client, await this.syncOnce());
          this.#attempt = 0;
          this.#scheduleLeaseRenewal();
        } catch (e) {
          const err = e instanceof Error ? e : new Error(String(e));
          this.#emit('error', err);
          this.#log('warn', 'sync pass failed', { err: err.message });
          if (e instanceof SyncError && (e.code === 'relay_key_mismatch' || e.code === 'log_invalid' || e.code === 'log_fork')) {
            this.#running = false; // a person must look at this; retrying would not help
            return;
          }
          this.#client?.close();
          this.#client = undefined;
          this.#scheduleReconnect();
        }
      })();
      this.#track(p);
    });
  }

  #scheduleReconnect(): void {
    if (!this.#running) return;
    const base = this.#o.backoff?.baseMs ?? 500;
    const max = this.#o.backoff?.maxMs ?? 30_000;
    const exp = Math.min(max, base * 2 ** Math.min(this.#attempt, 20));
    this.#attempt++;
    const jittered = exp / 2 + (this.#o.random ?? Math.random)() * (exp / 2);
    for (const t of this.#timers) clearTimeout(t);
    this.#timers.clear();
    this.#pushScheduled = this.#pullScheduled = this.#logScheduled = this.#liveScheduled = false;
    this.#liveQueue = []; // the full pass after reconnecting pulls them again
    this.#cycle(Math.round(jittered));
  }

  #scheduleLeaseRenewal(): void {
    const lease = this.#s.lease.lease;
    if (!lease) return;
    // Renew when half the offline time is used up (at least every minute, at most every 12 h).
    const half = Math.min(12 * 3600_000, Math.max(60_000, (lease.notAfter - lease.issuedAt) / 2));
    this.#timer(half, () => {
      if (!this.#running || !this.#client) return;
      this.#track(
        this.#mutex.run(async () => {
          if (this.#client) await this.#ensureLeaseFresh(this.#client);
        }).catch(e => this.#emit('error', e instanceof Error ? e : new Error(String(e)))),
      );
      this.#scheduleLeaseRenewal();
    });
  }

  async #ensureLeaseFresh(client: RelayClient): Promise<void> {
    await client.renewLease(this.workspaceId);
    this.#takeLeases(client);
    await this.#s.lease.persist(this.#s.syncState);
  }

  async #subscribe(client: RelayClient): Promise<void> {
    this.#unsubscribers.push(
      client.onEnvelope(e => {
        if (e.workspaceId !== this.workspaceId) return;
        this.#liveQueue.push({ relaySeq: e.relaySeq, envelope: e.envelope });
        this.#scheduleLive();
      }),
      client.onLogEntry(e => {
        if (e.workspaceId === this.workspaceId) this.#scheduleLog();
      }),
    );
    await this.#trySubscribe(client);
  }

  /**
   * Ask for live events. A workspace created here and not yet published (unknown_workspace), or a device
   * not yet a member (not_member), is refused: the pass still syncs the log and reports access, and
   * the subscription is asked for again once the log pass shows this device a member.
   */
  async #trySubscribe(client: RelayClient): Promise<void> {
    try {
      await client.subscribe(this.workspaceId);
      this.#subscribed = client;
    } catch (e) {
      if (!(e instanceof RelayRequestError) || (e.code !== 'not_member' && e.code !== 'unknown_workspace')) throw e;
    }
  }

  /** After a pass: subscribe if the first try was refused and this device is now a member. */
  async #subscribeIfMember(client: RelayClient, s: SyncSummary): Promise<void> {
    if (this.#subscribed !== client && s.access === 'member' && !client.closed) await this.#trySubscribe(client);
  }

  #runLater(flag: '#push' | '#pull' | '#log' | '#live', delay: number, fn: (client: RelayClient, s: SyncSummary) => Promise<void>): void {
    this.#timer(delay, () => {
      const p = this.#mutex
        .run(async () => {
          if (flag === '#push') this.#pushScheduled = false;
          if (flag === '#pull') this.#pullScheduled = false;
          if (flag === '#log') this.#logScheduled = false;
          if (flag === '#live') this.#liveScheduled = false;
          const client = this.#client;
          if (!this.#running || !client || client.closed) return;
          const t0 = performance.now();
          const s = emptySummary(this.workspaceId, this.relayUrl);
          await fn(client, s);
          if (flag !== '#log') await this.#sealSnapshots(client, s);
          await this.#finish(s, t0);
          this.#emit('synced', s);
        })
        .catch(e => {
          this.#emit('error', e instanceof Error ? e : new Error(String(e)));
          this.#client?.close(); // reconnect (onClose) and start over with a full pass
        });
      this.#track(p);
    });
  }

  #schedulePush(): void {
    if (this.#pushScheduled || !this.#running) return;
    this.#pushScheduled = true;
    this.#runLater('#push', 5, (c, s) => this.#push(c, s));
  }

  #scheduleLive(): void {
    if (this.#liveScheduled) return;
    this.#liveScheduled = true;
    this.#runLater('#live', 5, async (_c, s) => {
      const batch = this.#liveQueue.splice(0);
      const cursor = await this.#loadCursor();
      const fresh = batch.filter(e => e.relaySeq > cursor && !this.#liveApplied.has(e.relaySeq));
      s.pulled += fresh.length;
      await this.#apply(fresh, s);
      for (const e of fresh) this.#liveApplied.add(e.relaySeq);
      // Live events carry no promise of contiguity: a catch-up pull moves the persisted cursor.
      this.#schedulePull(200);
    });
  }

  #schedulePull(delay: number): void {
    if (this.#pullScheduled) return;
    this.#pullScheduled = true;
    this.#runLater('#pull', delay, (c, s) => this.#pull(c, s));
  }

  #scheduleLog(): void {
    if (this.#logScheduled) return;
    this.#logScheduled = true;
    this.#runLater('#log', 20, async (c, s) => {
      await this.#syncLog(c, s);
      await this.#retryCurable(s); // new keys may open envelopes quarantined as unknown_epoch
      await this.#ensureLease(c);
      await this.#subscribeIfMember(c, s);
      if (s.access === 'member') this.#schedulePull(50);
    });
  }
}
