// One sync engine per profile and workspace across the browser's tabs. The tab that holds the
// leader lock (tabLeader.ts) runs the SyncEngine; the others follow. Over the tab channel
// (tabChannel.ts) every tab says which documents it changed (sealed edits, envelopes applied from the
// relay) and the others merge them from the shared IndexedDB (mergeFromStorage.ts), so open views
// update live; followers' edits go to the shared encrypted outbox and the leader is told to push; the
// leader broadcasts its status (SyncFacts) and followers show it. Facts are counted from IndexedDB, so
// the queue, lease, quarantine and damage are known without the relay.
import type { DocumentId, Repo } from '@automerge/automerge-repo';
import { randomBytes, toHex } from '../../crypto/bytes.ts';
import type { ApplyReport, DocSession } from '../../docs/DocSession.ts';
import { LeaseClock } from '../../docs/sync/LeaseClock.ts';
import { preverifyEnvelopes } from '../../docs/sync/preverifyEnvelopes.ts';
import { SyncEngine, type SyncSession } from '../../docs/sync/SyncEngine.ts';
import { replayLog } from '../../identity/workspace/log.ts';
import { withNames } from '../../identity/workspace/names.ts';
import { factsAfterError, INITIAL_FACTS, type SyncFacts } from '../syncStatusWords.ts';
import { openTabChannel, type TabChannel } from './tabChannel.ts';
import { electLeader, type LeaderLocks, type Leadership } from './tabLeader.ts';
import { mergeFromStorage } from './mergeFromStorage.ts';
import type { TabMessage } from './tabMessages.ts';

export type TabRole = 'leader' | 'follower';

export interface TabSyncOptions {
  /** The workspace's storage name in this browser (docsDbPrefix): names the lock and the channel. */
  storageName: string;
  session: DocSession;
  repo: Repo;
  sync: SyncSession;
  /** The relay, for a joined workspace; without one nothing syncs, but tabs still share edits. */
  relayUrl?: string;
  locks?: LeaderLocks;
  /** How often the leader recounts (lease countdown, other processes' edits), ms. Default 15 s. */
  recountMs?: number;
}

export interface TabSyncView {
  role: TabRole;
  facts: SyncFacts;
  /** Bumped whenever the membership may have changed (the status re-reads pending changes and the fork alarm). */
  membershipVersion: number;
}

/** Documents another tab changed, now merged here; `applied` when it applied them from the relay. */
export interface ChangedElsewhere {
  docIds: string[];
  applied: ApplyReport['applied'];
}

export class TabSync {
  readonly tabId = toHex(randomBytes(8));
  readonly #o: TabSyncOptions;
  readonly #channel: TabChannel;
  readonly #leadership: Leadership;
  readonly #listeners = new Set<(v: TabSyncView) => void>();
  readonly #changeListeners = new Set<(c: ChangedElsewhere) => void>();
  readonly #offs: (() => void)[] = [];
  #view: TabSyncView = { role: 'follower', facts: INITIAL_FACTS, membershipVersion: 0 };
  #engine: SyncEngine | undefined;
  #recount: ReturnType<typeof setTimeout> | undefined;
  #ticker: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  constructor(o: TabSyncOptions) {
    this.#o = o;
    this.#channel = openTabChannel(o.storageName, this.tabId);
    this.#offs.push(this.#channel.on((m) => void this.#onMessage(m)));
    // Every tab: tell the others what it changed. Sealed edits are saved by this tab's Repo first.
    this.#offs.push(
      o.session.onSealed((docId) => {
        // Only this document: a damaged one's handle never loads, and flushing it would never finish.
        void o.repo.flush([docId as DocumentId]).then(() => {
          this.#channel.post({ t: 'docs', from: this.tabId, docIds: [docId] });
          if (this.#view.role === 'leader') this.#scheduleRecount();
          else this.#channel.post({ t: 'kick', from: this.tabId });
        }, () => undefined);
      }),
      o.session.onApplied((report) => {
        const docIds = [...new Set(report.applied.map((a) => a.docId))];
        if (docIds.length) this.#channel.post({ t: 'docs', from: this.tabId, docIds, applied: report.applied });
      }),
    );
    this.#leadership = electLeader(o.storageName, () => this.#lead(), o.locks);
    this.#channel.post({ t: 'hello', from: this.tabId });
    // Until a leader speaks (or while one takes over), count what is known locally.
    this.#scheduleRecount(0);
  }

  get view(): TabSyncView {
    return this.#view;
  }

  get role(): TabRole {
    return this.#view.role;
  }

  /** Ask for a sync pass now (a membership change was recorded, a workspace created): the leader's engine runs one. */
  syncNow(): void {
    if (this.#view.role === 'leader') (this.#engine?.kick(), this.#engine?.kickMembership());
    else this.#channel.post({ t: 'kick', from: this.tabId });
  }

  /** Subscribe to status changes (called at once with the current view); returns the unsubscribe function. */
  subscribe(cb: (v: TabSyncView) => void): () => void {
    this.#listeners.add(cb);
    cb(this.#view);
    return () => this.#listeners.delete(cb);
  }

  /** Another tab changed documents (merged into this tab's open copies by now); returns the unsubscribe function. */
  onChangedElsewhere(cb: (c: ChangedElsewhere) => void): () => void {
    this.#changeListeners.add(cb);
    return () => this.#changeListeners.delete(cb);
  }

  /** Stop the engine (if leading), give up leadership and close the channel. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const off of this.#offs.splice(0)) off();
    if (this.#recount) clearTimeout(this.#recount);
    if (this.#ticker) clearInterval(this.#ticker);
    const engine = this.#engine;
    this.#engine = undefined;
    await engine?.stop().catch(() => undefined);
    this.#leadership.release();
    this.#channel.close();
    this.#listeners.clear();
    this.#changeListeners.clear();
  }

  #set(next: Partial<TabSyncView>): void {
    this.#view = { ...this.#view, ...next };
    for (const cb of this.#listeners) {
      try {
        cb(this.#view);
      } catch {
        /* a listener's failure is not ours */
      }
    }
    if (this.#view.role === 'leader' && next.facts) this.#broadcastStatus();
  }

  #setFacts(f: Partial<SyncFacts>): void {
    this.#set({ facts: { ...this.#view.facts, ...f } });
  }

  #broadcastStatus(): void {
    this.#channel.post({ t: 'status', from: this.tabId, facts: this.#view.facts, leaseId: this.#o.sync.lease.leaseId() });
  }

  #lead(): void {
    if (this.#closed) return;
    this.#set({ role: 'leader' });
    this.#ticker = setInterval(() => this.#scheduleRecount(), this.#o.recountMs ?? 15_000);
    if (!this.#o.relayUrl) {
      this.#scheduleRecount(0);
      return;
    }
    const live = this.#o.sync.live;
    const engine = new SyncEngine(this.#o.sync, { relayUrl: this.#o.relayUrl, beforeApply: (envelopes) => preverifyEnvelopes(envelopes, live) });
    this.#engine = engine;
    this.#offs.push(
      engine.on('connected', () => this.#setFacts({ connection: 'online', problem: null })),
      engine.on('disconnected', () => {
        if (this.#view.facts.connection !== 'stopped') this.#setFacts({ connection: 'reconnecting' });
        this.#scheduleRecount();
      }),
      engine.on('synced', (s) => {
        this.#setFacts({
          connection: 'online',
          lastSyncedAt: Date.now(),
          queued: s.outbox,
          offlineRemainingMs: this.#o.sync.lease.lease ? s.offlineRemainingMs : null,
          problem: s.access === 'member' ? null : s.access,
        });
        this.#scheduleRecount();
      }),
      engine.on('error', (e) => {
        this.#set({ facts: factsAfterError(this.#view.facts, e), membershipVersion: this.#view.membershipVersion + 1 });
        this.#scheduleRecount();
      }),
      engine.on('membership', () => {
        this.#set({ membershipVersion: this.#view.membershipVersion + 1 });
        this.#channel.post({ t: 'membership', from: this.tabId });
      }),
    );
    engine.start();
  }

  async #onMessage(m: TabMessage): Promise<void> {
    if (this.#closed) return;
    switch (m.t) {
      case 'docs': {
        await mergeFromStorage(this.#o.repo, m.docIds).catch(() => undefined);
        if (this.#view.role === 'leader') this.#scheduleRecount();
        const c: ChangedElsewhere = { docIds: m.docIds, applied: m.applied ?? [] };
        for (const cb of this.#changeListeners) {
          try {
            cb(c);
          } catch {
            /* a listener's failure is not ours */
          }
        }
        return;
      }
      case 'kick':
        if (this.#view.role !== 'leader') return;
        this.#engine?.kick();
        this.#engine?.kickMembership(); // a follower may have recorded a membership change (syncNow)
        this.#scheduleRecount();
        return;
      case 'hello':
        if (this.#view.role === 'leader') this.#broadcastStatus();
        return;
      case 'membership':
        await this.#reloadMembership();
        this.#set({ membershipVersion: this.#view.membershipVersion + 1 });
        return;
      case 'status':
        if (this.#view.role === 'leader') return; // a stale message from the tab that led before
        if (m.leaseId !== this.#o.sync.lease.leaseId()) await this.#reloadLease();
        this.#set({ facts: m.facts, membershipVersion: this.#view.membershipVersion + 1 });
        return;
    }
  }

  /** The leader renewed the lease: take it from the shared sync state (editing is gated on it here too). */
  async #reloadLease(): Promise<void> {
    const fresh = await LeaseClock.load(this.#o.sync.syncState).catch(() => undefined);
    if (!fresh) return;
    if (fresh.lease && fresh.leaseBytes) this.#o.sync.lease.accept(fresh.lease, fresh.leaseBytes);
    this.#o.sync.lease.observe(fresh.lastSeen);
  }

  /** The leader synced the membership log: seal and judge with the stored workspace from now on. */
  async #reloadMembership(): Promise<void> {
    const ws = await this.#o.sync.workspaceStore.load().catch(() => undefined);
    if (!ws) return;
    const st = replayLog(ws.entries);
    if (st.ok) this.#o.sync.live.update(withNames(st.value, ws.epochKeys), ws.epochKeys);
  }

  #scheduleRecount(delay = 50): void {
    if (this.#closed || this.#recount) return;
    this.#recount = setTimeout(() => {
      this.#recount = undefined;
      void this.#count().catch(() => undefined);
    }, delay);
  }

  /** Count the outbox, quarantine and damage in IndexedDB, and the lease time left. */
  async #count(): Promise<void> {
    const s = this.#o.session;
    const [queued, quarantined, damaged] = await Promise.all([s.outbox.pending(), s.quarantine.list(), s.damaged.list()]);
    if (this.#closed) return;
    const lease = this.#o.sync.lease;
    const counted = {
      queued: queued.length,
      quarantined: quarantined.length,
      damaged: damaged.length,
      offlineRemainingMs: lease.lease ? lease.offlineRemainingMs() : null,
    };
    const f = this.#view.facts;
    // A follower counts only until the leader speaks; after that the leader's facts are shown.
    if (Object.entries(counted).every(([k, v]) => f[k as keyof SyncFacts] === v)) return;
    this.#setFacts(counted);
  }
}
