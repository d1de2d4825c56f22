// One session's view of a workspace's documents: the Repo (encrypted local storage) with this
// session's pinned actor, local changes batched into signed, encrypted envelopes in the outbox, and
// remote envelopes checked and applied in one applyChanges call per document per batch.
// Guarantees: an awaited change() has its envelope on disk (outbox) before it resolves; every remote
// envelope ends up applied, held (pending, encrypted, bounded per device and doc) or quarantined with
// a reason — never dropped; changes Automerge refuses never stay in a document, and a stored document
// that does not load is reported damaged (session.damaged), never replaced by an empty one;
// a crashed session's unsealed changes are sealed by the next one (sessions.ts), so peers never wait
// forever on a dependency that only ever existed on this disk.
import * as A from '@automerge/automerge';
import {
  isValidDocumentId,
  type DocHandle,
  type DocumentId,
  type Repo,
  type StorageAdapterInterface,
} from '@automerge/automerge-repo';
import { equalBytes, toHex } from '../crypto/bytes.ts';
import { newDocumentId } from './newDocumentId.ts';
import { applyContained } from './applyContained.ts';
import { DamagedDocumentError } from './DamagedDocumentError.ts';
import { DamagedRegistry } from './damaged.ts';
import type { DeviceSigningKey, PublicKey } from '../crypto/keys.ts';
import { decodeEnvelope, type EnvelopeHeader } from '../protocol/envelope.ts';
import { actorFor, newSessionNonce } from './actor.ts';
import { SeqCursors } from './cursors.ts';
import type { SnapshotCover } from '../protocol/snapshot.ts';
import type { OpenedSnapshot } from './snapshots/openSnapshot.ts';
import { sealSnapshot as sealSnapshotBytes } from './snapshots/sealSnapshot.ts';
import type { EnvelopeAuthority } from './envelope/authority.ts';
import { changeHashOf } from './envelope/changeHash.ts';
import { changeActorHex, readChangeHeader } from './envelope/changeHeader.ts';
import { envelopeHashOf as envelopeHashFromBytes } from './envelope/envelopeHash.ts';
import { openEnvelope, type OpenedEnvelope } from './envelope/openEnvelope.ts';
import { sealEnvelope } from './envelope/sealEnvelope.ts';
import { Outbox } from './outbox.ts';
import { inGroups } from './inGroups.ts';
import { PendingBudget, PendingStore } from './pending.ts';
import { ProvenanceStore, snapshotProvenanceHash } from './provenance.ts';
import { reserveAutomergeMemory, RESERVE_MIN_DOCUMENTS, RESERVE_PER_DOCUMENT } from './reserveAutomergeMemory.ts';
import { Quarantine } from './quarantine.ts';
import { Mutex, type ProfileLock } from './seqLock.ts';
import { defaultIsSessionAlive, SessionRegistry, type SessionRecord } from './sessions.ts';

export const DEFAULT_FLUSH_WINDOW_MS = 100;
/** Envelopes are split beyond this many changes or bytes (one seq each). */
export const MAX_CHANGES_PER_ENVELOPE = 2000;
export const MAX_CHANGE_BYTES_PER_ENVELOPE = 4 * 1024 * 1024;
const KNOWN_PREFIX = 'cloister-doc';

export interface SessionDevice {
  deviceId: string;
  userId: string;
  signingKey: DeviceSigningKey;
  signingPub: PublicKey;
}

/** A membership-log position: chain index and the entry id (raw SHA-256) there. */
export interface LogPosition {
  index: number;
  head: Uint8Array;
}

export interface DocSessionOptions {
  repo: Repo;
  /** Encrypted, uncached state storage (outbox, cursors, pending, quarantine, provenance). */
  state: StorageAdapterInterface;
  /** Profile-wide lock (FileLock in Node, WebLocksLock in the browser). */
  lock: ProfileLock;
  authority: EnvelopeAuthority;
  device: SessionDevice;
  /** The epoch new envelopes are sealed under. */
  currentEpoch: () => number;
  /**
   * The membership-log position this device has: the index of its last chain entry and that entry's id
   * (32 raw bytes). Every envelope header names it, so a reader holding another entry there detects a
   * forked log, and the relay refuses a position its chain lacks (DESIGN → Fork detection in the data plane).
   */
  logPosition: () => LogPosition;
  leaseId?: () => string;
  flushWindowMs?: number;
  now?: () => number;
  /** Is another session of this device (found in the registry) still running? Default: pid check in Node. */
  isSessionAlive?: (rec: SessionRecord) => boolean;
  /** Defaults to a fresh random nonce; pass one only in tests. */
  sessionNonce?: Uint8Array;
  /** Called before every local edit (create/change); throws to refuse it (e.g. the offline lease expired). */
  editGate?: () => void;
  /** Bound on received envelopes waiting per (device, doc); defaults in pending.ts. Tests pass smaller ones. */
  pendingBound?: { envelopes?: number; bytes?: number };
}

/** Quarantine reasons a later membership-log sync can cure (a key or a device arrives): retried then. */
export const RETRY_AFTER_LOG_SYNC: ReadonlySet<string> = new Set(['unknown_epoch', 'unknown_device', 'log_position_unknown']);

/** A local edit this device may not make, or not seal yet; the message is one line for people. */
export class EditRefusedError extends Error {
  constructor(
    readonly code: 'not_a_member' | 'device_revoked' | 'no_write_permission' | 'unknown_epoch',
    message: string,
  ) {
    super(message);
    this.name = 'EditRefusedError';
  }
}

const REFUSED_WORDS = {
  not_a_member: 'this user is no longer a member of the workspace',
  device_revoked: 'this device was revoked from the workspace',
  no_write_permission: 'this member may read but not write (role reader)',
} as const;

export interface ApplyReport {
  applied: { docId: string; deviceId: string; seq: number; changes: number }[];
  duplicates: number;
  held: { docId: string; deviceId: string; seq: number; why: 'seq_gap' | 'missing_deps' | 'doc_damaged' }[];
  rejected: { reason: string; detail?: string; quarantineId: string }[];
  /** Envelopes a loaded snapshot claimed to cover but whose changes it lacked (applied from the envelope). */
  snapshotOmitted?: number;
}

interface Tracked {
  handle: DocHandle<unknown>;
  /** Heads at the last flush: every own change at or before them is sealed. */
  flushedHeads: A.Heads;
  waiters: { resolve: () => void; reject: (e: unknown) => void }[];
  timer?: ReturnType<typeof setTimeout>;
}

export class DocSession {
  readonly sessionNonce: Uint8Array;
  readonly actor: string;
  readonly outbox: Outbox;
  readonly quarantine: Quarantine;
  readonly pending: PendingStore;
  readonly cursors: SeqCursors;
  readonly provenance: ProvenanceStore;
  readonly sessions: SessionRegistry;
  /** Documents stored here that do not load: reported, never replaced. */
  readonly damaged: DamagedRegistry;
  #started: Promise<void> | undefined;
  /** Sessions of this device that ended without a clean close: their unsealed changes get sealed on open. */
  #crashed: { nonce: Uint8Array; actor: string }[] = [];
  readonly #recoveries = new Set<Promise<unknown>>();
  readonly #docs = new Map<string, Tracked>();
  /** Documents this session's Repo failed to load (its handle for them stays 'loading'). */
  readonly #damagedHere = new Set<string>();
  readonly #opening = new Map<string, Promise<Tracked | undefined>>();
  readonly #flushMutex = new Mutex();
  readonly #now: () => number;
  readonly #sealedListeners = new Set<(docId: string, seq: number) => void>();
  readonly #appliedListeners = new Set<(report: ApplyReport) => void>();
  #closed = false;

  constructor(private readonly o: DocSessionOptions) {
    this.sessionNonce = o.sessionNonce ?? newSessionNonce();
    this.actor = actorFor(o.device.signingPub, this.sessionNonce);
    this.outbox = new Outbox(o.state);
    this.quarantine = new Quarantine(o.state, o.now);
    this.pending = new PendingStore(o.state);
    this.cursors = new SeqCursors(o.state);
    this.provenance = new ProvenanceStore(o.state);
    this.sessions = new SessionRegistry(o.state);
    this.damaged = new DamagedRegistry(o.state);
    this.#now = o.now ?? Date.now;
  }

  get workspaceId(): string {
    return this.o.authority.workspaceId;
  }
  get device(): SessionDevice {
    return this.o.device;
  }
  /** Who may write what, and the keys: what envelopes and snapshots are judged against. */
  get authority(): EnvelopeAuthority {
    return this.o.authority;
  }

  get repo(): Repo {
    return this.o.repo;
  }

  /** Run `fn` under the profile-wide lock (the one sealing and applyRemote hold); for the sync engine. */
  withLock<T>(fn: () => Promise<T>): Promise<T> {
    return this.o.lock.run(fn);
  }

  /** Called after each envelope is sealed into the outbox (the sync engine pushes soon after). */
  onSealed(cb: (docId: string, seq: number) => void): () => void {
    this.#sealedListeners.add(cb);
    return () => this.#sealedListeners.delete(cb);
  }

  /** Register this session (before its first edit) and note which earlier ones crashed. Idempotent. */
  start(): Promise<void> {
    this.#started ??= (async () => {
      const alive = this.o.isSessionAlive ?? defaultIsSessionAlive;
      this.#crashed = (await this.sessions.list())
        .filter(r => !equalBytes(r.nonce, this.sessionNonce) && !alive(r))
        .map(r => ({ nonce: r.nonce, actor: actorFor(this.o.device.signingPub, r.nonce) }));
      await this.sessions.register(this.sessionNonce, this.#now());
    })();
    return this.#started;
  }

  /** Create a document whose first change is by this session's actor (never the Repo's random one). */
  async create<T extends Record<string, unknown>>(init: T, docId?: DocumentId): Promise<{ docId: DocumentId; handle: DocHandle<T> }> {
    this.#assertCanEdit();
    await this.start();
    const id = docId ?? newDocumentId();
    // A.from would stamp the change with the real clock; the session's clock keeps a seeded run exact
    const doc = A.change(A.init<T>({ actor: this.actor }), { time: this.#changeTime() }, d => Object.assign(d, init));
    const handle = this.o.repo.import<T>(A.save(doc), { docId: id });
    markReady(handle);
    const t = this.#track(id, handle as DocHandle<unknown>, []);
    await this.o.state.save([KNOWN_PREFIX, id], new Uint8Array([1]));
    this.#schedule(id, t);
    return { docId: id, handle };
  }

  /**
   * Open a document known locally; or, with `createIfMissing`, start an empty one under that id (for
   * remote docs). Throws DamagedDocumentError when chunks are stored but do not load: the document is
   * then listed in `damaged` and left on disk as it is.
   */
  async open<T>(docId: string, createIfMissing = false): Promise<DocHandle<T> | undefined> {
    const t = this.#docs.get(docId) ?? (await this.#openTracked(docId, createIfMissing));
    return t?.handle as DocHandle<T> | undefined;
  }

  async #openTracked(docId: string, createIfMissing: boolean): Promise<Tracked | undefined> {
    // Concurrent callers must share one open: a second Tracked for the same doc would orphan waiters.
    for (;;) {
      const have = this.#docs.get(docId);
      if (have) return have;
      const inflight = this.#opening.get(docId);
      if (!inflight) break;
      const r = await inflight;
      if (r || !createIfMissing) return r;
    }
    const p = this.#open(docId, createIfMissing); // no await between the check above and this set
    this.#opening.set(docId, p);
    try {
      return await p;
    } finally {
      if (this.#opening.get(docId) === p) this.#opening.delete(docId);
    }
  }

  async #open(docId: string, createIfMissing: boolean): Promise<Tracked | undefined> {
    await this.start();
    const known = (await this.o.state.load([KNOWN_PREFIX, docId])) !== undefined;
    if (!known && !createIfMissing) return undefined;
    let handle: DocHandle<unknown> | undefined;
    if (known) {
      // Found damaged by this session's Repo: asking it again would wait forever on a handle stuck loading.
      const seen = this.#damagedHere.has(docId) ? await this.damaged.get(docId) : undefined;
      if (seen) throw new DamagedDocumentError(docId, seen.reason, seen.detail);
      try {
        handle = await this.o.repo.find<unknown>(docId as DocumentId);
      } catch (e) {
        // Known but nothing stored yet (e.g. every change so far is held pending) is fine: start empty.
        // Stored chunks that fail to load are not: report, never replace (DESIGN → Hostile change bytes).
        const damage = await this.#damageOf(docId, e);
        if (damage) {
          await this.damaged.add({ docId, ...damage, at: this.#now() });
          this.#damagedHere.add(docId);
          throw new DamagedDocumentError(docId, damage.reason, damage.detail);
        }
        handle = undefined;
      }
      if (handle && (await this.damaged.get(docId))) await this.damaged.remove(docId); // it loads again
    }
    if (!handle) {
      handle = this.o.repo.import<unknown>(A.save(A.init()), { docId: docId as DocumentId });
      markReady(handle);
      await this.o.state.save([KNOWN_PREFIX, docId], new Uint8Array([1]));
    }
    // A crash can leave envelopes in the outbox whose changes the Repo never saved: put them back.
    const mine: Uint8Array[] = [];
    for (const e of await this.outbox.pending(docId)) {
      const r = openEnvelope(e.bytes, this.o.authority, this.cursors, { skipSequence: true });
      if (r.ok) mine.push(...r.value.changes);
    }
    if (mine.length) handle.update(d => A.applyChanges(d, mine)[0]);
    const t = this.#track(docId, handle, A.getHeads(handle.doc()));
    // Not awaited: #open may run under the profile lock (applyRemote), and sealing takes that lock.
    if (this.#crashed.length) {
      const p = this.#recoverUnsealed(docId, handle).catch(() => undefined);
      this.#recoveries.add(p);
      void p.then(() => this.#recoveries.delete(p));
    }
    return t;
  }

  /**
   * Why a known document that repo.find could not give us is damaged, or undefined when nothing is
   * stored for it (then starting empty is right). Chunks that are stored must load; and if changes
   * from other devices were applied (their provenance is written only after the Repo flushed them),
   * an empty store means they were lost.
   */
  async #damageOf(docId: string, findError: unknown): Promise<{ reason: 'document_unreadable' | 'document_missing'; detail?: string } | undefined> {
    const storage = this.o.repo.storageSubsystem;
    const findDetail = findError instanceof Error ? findError.message : String(findError);
    if (!storage) return undefined;
    let data: Uint8Array | null;
    try {
      data = await storage.loadDocData(docId as DocumentId);
    } catch (e) {
      return { reason: 'document_unreadable', detail: e instanceof Error ? e.message : String(e) };
    }
    if (data) {
      try {
        A.loadIncremental(A.init(), data); // as the Repo's StorageSubsystem loads it
      } catch (e) {
        return { reason: 'document_unreadable', detail: e instanceof Error ? e.message : String(e) };
      }
      return { reason: 'document_unreadable', detail: findDetail };
    }
    const received = (await this.provenance.list(docId)).some(p => p.deviceId !== this.o.device.deviceId);
    return received ? { reason: 'document_missing', detail: 'no stored chunk can be read' } : undefined;
  }

  /** Seal changes a crashed session of this device made to this doc but never sealed, under that session's nonce. */
  async #recoverUnsealed(docId: string, handle: DocHandle<unknown>): Promise<void> {
    const byActor = new Map(this.#crashed.map(c => [c.actor, c]));
    const found = new Map<string, { change: Uint8Array; seq: number }[]>();
    for (const change of A.getAllChanges(handle.doc())) {
      const actor = actorOf(change);
      if (!byActor.has(actor)) continue;
      if (!found.has(actor)) found.set(actor, []);
      found.get(actor)!.push({ change, seq: seqOf(change) });
    }
    if (!found.size) return;
    const sealed = new Map<string, Set<number>>();
    for (const p of await this.provenance.list(docId)) {
      if (!sealed.has(p.actor)) sealed.set(p.actor, new Set());
      for (const q of p.seqs ?? []) sealed.get(p.actor)!.add(q);
    }
    for (const [actor, changes] of found) {
      const missing = changes.filter(c => !sealed.get(actor)?.has(c.seq)).map(c => c.change);
      const nonce = byActor.get(actor)!.nonce;
      await this.#flushMutex.run(async () => {
        for (const batch of splitBatches(missing)) await this.#sealAndStore(docId, batch, nonce, actor);
      });
    }
  }

  /** Does this profile hold the document locally? */
  async has(docId: string): Promise<boolean> {
    return this.#docs.has(docId) || (await this.o.state.load([KNOWN_PREFIX, docId])) !== undefined;
  }

  #track(docId: string, handle: DocHandle<unknown>, flushedHeads: A.Heads): Tracked {
    const existing = this.#docs.get(docId);
    if (existing) return existing;
    // Pin the actor: find()/import() give the doc a random one (DESIGN → Pitfalls).
    handle.update(d => A.clone(d, { actor: this.actor }));
    const t: Tracked = { handle, flushedHeads, waiters: [] };
    this.#docs.set(docId, t);
    handle.on('heads-changed', () => this.#schedule(docId, t));
    return t;
  }

  /** May this device write to the workspace now (a current member, device not revoked, role writer or admin)? */
  get mayWrite(): boolean {
    return this.o.authority.canWriteDevice(this.o.device.deviceId) === true;
  }

  /** Refuse an edit up front (before it touches a document) when it could never be accepted. */
  #assertCanEdit(): void {
    this.o.editGate?.();
    const right = this.o.authority.canWriteDevice(this.o.device.deviceId);
    if (right !== true) throw new EditRefusedError(right, REFUSED_WORDS[right]);
  }

  /** Change a document; resolves once the envelope carrying the change is persisted in the outbox. */
  async change<T>(docId: string, fn: A.ChangeFn<T>, options: { message?: string; at?: A.Heads } = {}): Promise<void> {
    this.#assertCanEdit();
    const t = this.#docs.get(docId) ?? (await this.#openTracked(docId, false));
    if (!t) throw new Error(`unknown document ${docId}`);
    const opts = { time: this.#changeTime(), ...(options.message ? { message: options.message } : {}) };
    // `at`: the change is made as if at those heads (what an editor showed), so it merges with
    // everything that arrived since instead of overwriting it. This session's own latest change joins
    // those heads: its changes must form one chain, or Automerge makes the change under another actor,
    // which would never be sealed (and everything after it would wait on it forever elsewhere).
    if (options.at) {
      const doc = t.handle.doc();
      const own = A.getChangesMetaSince(doc, options.at).filter(m => m.actor === this.actor);
      const last = own.reduce<(typeof own)[number] | undefined>((a, m) => (!a || m.seq > a.seq ? m : a), undefined);
      const at = last ? [...options.at, last.hash] : options.at;
      (t.handle as DocHandle<T>).update(d => A.changeAt(d, at, opts, fn).newDoc);
    } else (t.handle as DocHandle<T>).change(fn, opts);
    await this.whenFlushed(docId);
  }

  /** A change's timestamp (Automerge keeps seconds): from the session's clock, not the system's. */
  #changeTime(): number {
    return Math.floor(this.#now() / 1000);
  }

  /** Resolves after the next flush of this document (which covers every change made before it starts). */
  whenFlushed(docId: string): Promise<void> {
    const t = this.#docs.get(docId);
    if (!t) return Promise.resolve();
    return new Promise((resolve, reject) => {
      t.waiters.push({ resolve, reject });
      this.#schedule(docId, t);
    });
  }

  #schedule(docId: string, t: Tracked): void {
    if (t.timer || this.#closed) return;
    t.timer = setTimeout(() => {
      t.timer = undefined;
      this.flushDoc(docId).catch(() => undefined); // waiters receive the error
    }, this.o.flushWindowMs ?? DEFAULT_FLUSH_WINDOW_MS);
  }

  /** Seal every own change not yet sealed, in every open document (call at sync time and on close). */
  async flush(): Promise<void> {
    await Promise.all([...this.#recoveries]);
    for (const docId of [...this.#docs.keys()]) await this.flushDoc(docId);
  }

  flushDoc(docId: string): Promise<void> {
    return this.#flushMutex.run(async () => {
      const t = this.#docs.get(docId);
      if (!t) return;
      if (t.timer) clearTimeout(t.timer);
      t.timer = undefined;
      const waiters = t.waiters.splice(0);
      try {
        const doc = t.handle.doc();
        const heads = A.getHeads(doc);
        if (!sameHeads(heads, t.flushedHeads)) {
          const own = A.getChangesSince(doc, t.flushedHeads).filter(c => actorOf(c) === this.actor);
          for (const batch of splitBatches(own)) await this.#sealAndStore(docId, batch);
          t.flushedHeads = heads;
        }
        for (const w of waiters) w.resolve();
      } catch (e) {
        for (const w of waiters) w.reject(e);
        throw e;
      }
    });
  }

  async #sealAndStore(docId: string, changes: Uint8Array[], sessionNonce = this.sessionNonce, actor = this.actor): Promise<void> {
    const { deviceId, userId, signingKey } = this.o.device;
    await this.o.lock.run(async () => {
      const seq = await this.#nextOwnSeq(docId);
      const epoch = this.o.currentEpoch();
      const key = this.o.authority.documentKey(epoch, docId);
      if (!key)
        throw new EditRefusedError('unknown_epoch', `no key yet for the workspace's current epoch ${epoch}: the edit is kept on this device and sent once a member's device shares the key (cloister sync)`);
      const claimedTime = this.#now();
      const log = this.o.logPosition();
      const env = sealEnvelope(
        { workspaceId: this.workspaceId, docId, deviceId, epoch, seq, leaseId: this.o.leaseId?.() ?? '', claimedTime, sessionNonce, logIndex: log.index, logHead: log.head, changes },
        key,
        signingKey,
      );
      await this.outbox.put(docId, seq, env.bytes);
      this.cursors.advance(deviceId, docId, seq, env.envelopeHash);
      await this.cursors.save();
      await this.provenance.put({
        docId, envelopeHash: env.envelopeHash, deviceId, userId, seq, claimedTime,
        actor, seqs: changes.map(seqOf), sessionNonce: toHex(sessionNonce),
      });
    });
    for (const l of this.#sealedListeners) l(docId, this.cursors.lastSeq(deviceId, docId));
  }

  /**
   * The next seq for this device's envelope on `docId`; call under the profile lock. The own-device
   * cursor (one small record, re-read under the lock so other processes' seals count) is the last
   * assigned seq. A crash between writing an envelope and its cursor leaves the envelope at cursor+1
   * in the outbox: probe there (one read each) and take it into the cursor, so it is never reused.
   * O(1) reads per seal, where scanning the outbox was O(outbox) (quadratic over a burst).
   */
  async #nextOwnSeq(docId: string): Promise<number> {
    await this.#absorbOrphans(docId);
    return this.cursors.lastSeq(this.o.device.deviceId, docId) + 1;
  }

  /** Take envelopes a crashed seal left beyond the own cursor into it; true when the cursor moved. */
  async #absorbOrphans(docId: string): Promise<boolean> {
    const { deviceId } = this.o.device;
    await this.cursors.load([{ deviceId, docId }]);
    const before = this.cursors.lastSeq(deviceId, docId);
    let last = before;
    for (;;) {
      const orphan = await this.outbox.get(docId, last + 1);
      if (!orphan) break;
      last++;
      this.cursors.advance(deviceId, docId, last, envelopeHashFromBytes(orphan));
    }
    return last !== before;
  }

  /**
   * Remove an envelope from the outbox once the relay has answered for it (acked, or refused into the
   * quarantine). Under the profile lock, and only after any envelope a crashed seal left beyond the
   * own cursor is taken into it: otherwise a pushed-and-acked orphan would vanish from the outbox
   * and its seq would be sealed again (a seq_replay at the relay).
   */
  async retireFromOutbox(docId: string, seq: number): Promise<void> {
    await this.retireManyFromOutbox([{ docId, seq }]);
  }

  /**
   * retireFromOutbox for many envelopes under one hold of the profile lock (the sync engine retires
   * acks in batches). The Repo is flushed for their documents first: once an envelope leaves the
   * outbox, nothing but the Repo holds its changes on this device (the relay does not send a device
   * its own envelopes back), so they must be on disk before it goes.
   */
  async retireManyFromOutbox(entries: readonly { docId: string; seq: number; bytes?: Uint8Array }[]): Promise<void> {
    if (entries.length === 0) return;
    const held: { docId: string; seq: number }[] = [];
    for (const e of entries) if (await this.#holdsChangesOf(e)) held.push(e);
    const docIds = [...new Set(held.map(e => e.docId))];
    const open = docIds.filter(id => this.#docs.has(id)) as DocumentId[];
    if (open.length) await this.o.repo.flush(open);
    await this.o.lock.run(async () => {
      let moved = false;
      for (const docId of docIds) if (await this.#absorbOrphans(docId)) moved = true;
      if (moved) await this.cursors.save();
      await inGroups(held, e => this.outbox.ack(e.docId, e.seq));
    });
  }

  /**
   * Does this session's document hold the changes of this own envelope (so the Repo's flush saves
   * them)? Sealed by this session: yes, they came from the open document. Sealed by another process
   * on this profile (which may crash before its Repo saves): open the document (which takes the
   * outbox's envelopes back in) and apply them if they are missing. False when the document is damaged:
   * the envelope then stays in the outbox.
   */
  async #holdsChangesOf(e: { docId: string; seq: number; bytes?: Uint8Array }): Promise<boolean> {
    const bytes = e.bytes ?? (await this.outbox.get(e.docId, e.seq));
    if (!bytes) return true; // gone already
    const d = decodeEnvelope(bytes);
    if (!d.ok) return true; // not ours to keep: only the quarantine holds such bytes
    if (this.#docs.has(e.docId) && equalBytes(d.value.header.sessionNonce, this.sessionNonce)) return true;
    let t: Tracked | undefined;
    try {
      t = await this.#openTracked(e.docId, true);
    } catch (err) {
      if (err instanceof DamagedDocumentError) return false;
      throw err;
    }
    if (!t) return false;
    const r = openEnvelope(bytes, this.o.authority, this.cursors, { skipSequence: true });
    if (!r.ok) return true;
    // Contained like any remote change: bytes that make Automerge throw never stay in the document.
    if (!A.hasHeads(t.handle.doc(), r.value.changes.map(changeHashOf))) applyContained(t.handle, [r.value], this.actor);
    return true;
  }

  /**
   * Check and apply envelopes from the relay (any order, duplicates allowed). One applyChanges per
   * document per call; held envelopes (gaps, missing dependencies) are retried on every call.
   */
  async applyRemote(envelopes: readonly Uint8Array[], source = 'relay'): Promise<ApplyReport> {
    const report = await this.o.lock.run(() => this.#applyRemoteLocked(envelopes, source));
    if (report.applied.length) for (const l of this.#appliedListeners) l(report);
    return report;
  }

  /** Called after each applyRemote that applied something (e.g. to tell people what others changed). */
  onApplied(cb: (report: ApplyReport) => void): () => void {
    this.#appliedListeners.add(cb);
    return () => this.#appliedListeners.delete(cb);
  }

  async #applyRemoteLocked(envelopes: readonly Uint8Array[], source: string): Promise<ApplyReport> {
    const report: ApplyReport = { applied: [], duplicates: 0, held: [], rejected: [] };
    const reject = async (bytes: Uint8Array, reason: string, detail: string | undefined, from: string) => {
      const q = await this.quarantine.add(bytes, reason, detail, from);
      report.rejected.push({ reason, ...(detail ? { detail } : {}), quarantineId: q.id });
    };

    interface Item { bytes: Uint8Array; header: EnvelopeHeader; held?: 'gap' }
    const items: Item[] = [];
    for (const bytes of envelopes) {
      const d = decodeEnvelope(bytes);
      if (!d.ok) await reject(bytes, d.reason, d.detail, source);
      // Records are Automerge documents: an id that isn't a DocumentId can't name one of ours.
      else if (!isValidDocumentId(d.value.header.docId)) await reject(bytes, 'envelope_malformed', 'doc id', source);
      else items.push({ bytes, header: d.value.header });
    }
    const docIds = new Set(items.map(i => i.header.docId));
    // Many documents new to this session (a cold join): grow Automerge's memory for them at once (reserveAutomergeMemory.ts).
    const unopened = [...docIds].filter(id => !this.#docs.has(id)).length;
    if (unopened >= RESERVE_MIN_DOCUMENTS) reserveAutomergeMemory(unopened * RESERVE_PER_DOCUMENT);
    // Everything held for these documents gets another chance; so do held-for-deps envelopes of any doc we touch.
    const retryDeps: { docId: string; bytes: Uint8Array; envelopeHash: string }[] = [];
    // What waits is bounded per (device, doc): count what is parked already.
    const budget = new PendingBudget(this.o.pendingBound?.envelopes, this.o.pendingBound?.bytes);
    for (const docId of docIds) {
      for (const p of await this.pending.list(docId)) {
        const d = decodeEnvelope(p.bytes);
        if (!d.ok) continue;
        budget.note(d.value.header.deviceId, docId, p.bytes.length);
        if (p.kind === 'gap') items.push({ bytes: p.bytes, header: d.value.header, held: 'gap' });
        else retryDeps.push({ docId, bytes: p.bytes, envelopeHash: p.envelopeHash });
      }
    }
    /** Park an envelope in the pending store, or quarantine it when its (device, doc) has no room left. */
    const park = async (kind: 'gap' | 'deps', h: EnvelopeHeader, envelopeHash: string, bytes: Uint8Array, from: string): Promise<boolean> => {
      if (!budget.take(h.deviceId, h.docId, bytes.length)) {
        await reject(bytes, 'dependency_missing', `more than ${budget.maxEnvelopes} envelopes (or ${budget.maxBytes} bytes) from this device wait for this document`, from);
        return false;
      }
      await this.pending.put(kind, h.docId, envelopeHash, bytes);
      return true;
    };
    // A document stored here that does not load takes nothing: its envelopes wait, unjudged, until it is repaired.
    const damaged = new Set<string>();
    for (const docId of docIds) {
      if (this.#docs.has(docId)) continue;
      if (!(await this.has(docId))) continue;
      try {
        await this.#openTracked(docId, false);
      } catch (e) {
        if (!(e instanceof DamagedDocumentError)) throw e;
        damaged.add(docId);
      }
    }
    await this.cursors.load(items.map(i => ({ deviceId: i.header.deviceId, docId: i.header.docId, seq: i.header.seq })));
    items.sort((a, b) => cmp(a.header.deviceId, b.header.deviceId) || cmp(a.header.docId, b.header.docId) || a.header.seq - b.header.seq);

    const accepted = new Map<string, OpenedEnvelope[]>();
    const ownDuplicates = new Map<string, OpenedEnvelope[]>();
    const coveredByDoc = new Map<string, OpenedEnvelope[]>();
    const seen = new Set<string>();
    const parkedForGap = new Set<string>();
    for (const item of items) {
      const h = item.header;
      if (damaged.has(h.docId)) {
        const hash = envelopeHashFromBytes(item.bytes);
        if (seen.has(hash)) continue;
        seen.add(hash);
        if (item.held || (await park('gap', h, hash, item.bytes, source)))
          report.held.push({ docId: h.docId, deviceId: h.deviceId, seq: h.seq, why: 'doc_damaged' });
        continue;
      }
      const r = openEnvelope(item.bytes, this.o.authority, this.cursors);
      if (!r.ok) {
        await reject(item.bytes, r.reason, r.detail, item.held ? 'pending' : source);
        if (item.held) await this.pending.remove('gap', h.docId, envelopeHashFromBytes(item.bytes));
        continue;
      }
      const env = r.value;
      if (seen.has(env.envelopeHash)) {
        // Held earlier for a gap and also delivered fresh in this batch: once the fresh copy is settled
        // (applied or a duplicate), the held copy must go too, or it lingers in the pending store.
        if (item.held && !parkedForGap.has(env.envelopeHash)) await this.pending.remove('gap', h.docId, env.envelopeHash);
        continue;
      }
      seen.add(env.envelopeHash);
      if (env.order === 'covered') {
        // A snapshot said it holds these changes; the signed envelope is the check (below).
        if (item.held) await this.pending.remove('gap', h.docId, env.envelopeHash);
        if (!coveredByDoc.has(h.docId)) coveredByDoc.set(h.docId, []);
        coveredByDoc.get(h.docId)!.push(env);
      } else if (env.order === 'duplicate') {
        report.duplicates++;
        if (item.held) await this.pending.remove('gap', h.docId, env.envelopeHash);
        // Our own envelope coming back: a crashed process may have sealed (and pushed) it without its
        // Repo ever saving the changes. The cursor says "done", the document may not: check below.
        if (h.deviceId === this.o.device.deviceId) {
          if (!ownDuplicates.has(h.docId)) ownDuplicates.set(h.docId, []);
          ownDuplicates.get(h.docId)!.push(env);
        }
      } else if (env.order === 'gap') {
        parkedForGap.add(env.envelopeHash);
        if (item.held || (await park('gap', h, env.envelopeHash, item.bytes, source)))
          report.held.push({ docId: h.docId, deviceId: h.deviceId, seq: h.seq, why: 'seq_gap' });
      } else {
        this.cursors.advance(h.deviceId, h.docId, h.seq, env.envelopeHash);
        if (!accepted.has(h.docId)) accepted.set(h.docId, []);
        accepted.get(h.docId)!.push(env);
        if (item.held) await this.pending.remove('gap', h.docId, env.envelopeHash);
      }
    }
    // Held-for-deps envelopes were judged in sequence already; re-open them only to get their changes back.
    const depsByDoc = new Map<string, OpenedEnvelope[]>();
    for (const p of retryDeps) {
      if (damaged.has(p.docId)) continue;
      const r = openEnvelope(p.bytes, this.o.authority, this.cursors, { skipSequence: true });
      if (!r.ok) {
        await reject(p.bytes, r.reason, r.detail, 'pending');
        await this.pending.remove('deps', p.docId, p.envelopeHash);
        continue;
      }
      if (!depsByDoc.has(p.docId)) depsByDoc.set(p.docId, []);
      depsByDoc.get(p.docId)!.push(r.value);
    }

    const byteMap = new Map<string, Uint8Array>();
    for (const i of items) byteMap.set(envelopeHashFromBytes(i.bytes), i.bytes);
    for (const p of retryDeps) byteMap.set(p.envelopeHash, p.bytes);
    for (const [docId, envs] of ownDuplicates) {
      const t = this.#docs.get(docId) ?? (await this.#openTracked(docId, true))!;
      const doc = t.handle.doc();
      const lost = envs.filter(e => !A.hasHeads(doc, e.changes.map(changeHashOf)));
      if (lost.length) accepted.set(docId, [...lost, ...(accepted.get(docId) ?? [])]);
    }
    // Envelopes a loaded snapshot said it covers: those whose changes are there only gain verified
    // provenance; any the snapshot left out are applied now (its author omitted them, or lied).
    const confirmed: { docId: string; env: OpenedEnvelope }[] = [];
    for (const [docId, envs] of coveredByDoc) {
      const t = this.#docs.get(docId) ?? (await this.#openTracked(docId, true))!;
      const doc = t.handle.doc();
      for (const env of envs) {
        if (A.hasHeads(doc, env.changes.map(changeHashOf))) confirmed.push({ docId, env });
        else {
          report.snapshotOmitted = (report.snapshotOmitted ?? 0) + 1;
          accepted.set(docId, [...(accepted.get(docId) ?? []), env]);
        }
      }
      report.duplicates += envs.length;
    }
    const flushed: DocumentId[] = [];
    const applied: { docId: string; env: OpenedEnvelope; retried: boolean }[] = [];
    const touched = new Set([...accepted.keys(), ...depsByDoc.keys()]);
    // Documents new here (a cold join: every one) are opened a few dozen at a time: each writes its
    // small "known" marker, and those fsyncs then commit in groups. A failure is met again below.
    await inGroups([...touched].filter(id => !this.#docs.has(id)), id => this.#openTracked(id, true).then(() => undefined, () => undefined));
    for (const docId of touched) {
      const fresh = accepted.get(docId) ?? [];
      const retried = depsByDoc.get(docId) ?? [];
      const t = this.#docs.get(docId) ?? (await this.#openTracked(docId, true))!;
      const before = t.handle.doc();
      const nothingUnsealed = sameHeads(A.getHeads(before), t.flushedHeads) && t.waiters.length === 0;
      // Changes Automerge refuses (or that would leave a document that does not load back) never stay
      // in it: the last good state is restored and the culprits found envelope by envelope.
      const contained = applyContained(t.handle, [...retried, ...fresh], this.actor);
      for (const { env, detail } of contained.refused) {
        const wasRetried = retried.includes(env);
        const bytes = byteMap.get(env.envelopeHash);
        if (bytes) await reject(bytes, 'automerge_rejected', detail, wasRetried ? 'pending' : source);
        if (wasRetried) await this.pending.remove('deps', docId, env.envelopeHash);
      }
      const candidates = contained.kept;
      let after = t.handle.doc();
      const nothingMissing = A.getMissingDeps(after, []).length === 0;
      const waiting: OpenedEnvelope[] = [];
      const done: OpenedEnvelope[] = [];
      // Hash changes only when something is queued for dependencies (hashing is off the hot path).
      for (const env of candidates) (nothingMissing || A.hasHeads(after, env.changes.map(changeHashOf)) ? done : waiting).push(env);
      const parked: OpenedEnvelope[] = [];
      let overBound = false;
      for (const env of waiting) {
        if (retried.includes(env)) parked.push(env);
        else if (await park('deps', env.header, env.envelopeHash, byteMap.get(env.envelopeHash)!, source)) parked.push(env);
        else overBound = true;
      }
      // Changes of an envelope quarantined for waiting too long must not land later: drop Automerge's
      // queue (it is never saved anyway; what still waits is retried from the pending store).
      if (overBound) {
        t.handle.update(d => A.load(A.save(d), { actor: this.actor }));
        after = t.handle.doc();
      }
      if (nothingUnsealed) t.flushedHeads = A.getHeads(after);
      flushed.push(docId as DocumentId);
      for (const env of done) applied.push({ docId, env, retried: retried.includes(env) });
      for (const env of parked) report.held.push({ docId, deviceId: env.header.deviceId, seq: env.header.seq, why: 'missing_deps' });
    }
    // The Repo must hold the changes before provenance and cursors say they were applied. One flush
    // for the whole batch, then one provenance chunk per document (not one file per envelope).
    if (flushed.length) await this.o.repo.flush(flushed);
    const verified = new Map<string, OpenedEnvelope[]>();
    for (const { docId, env } of [...confirmed, ...applied]) {
      if (!verified.has(docId)) verified.set(docId, []);
      verified.get(docId)!.push(env);
    }
    await inGroups([...verified], ([docId, envs]) => this.#putProvenance(docId, envs));
    // Only once their provenance is stored: a crash before this retries them (a no-op apply), never loses who made them.
    await inGroups(applied.filter(a => a.retried), ({ docId, env }) => this.pending.remove('deps', docId, env.envelopeHash));
    for (const { docId, env } of applied) report.applied.push({ docId, deviceId: env.header.deviceId, seq: env.header.seq, changes: env.changes.length });
    await this.cursors.save();
    return report;
  }

  /**
   * Seal a snapshot of this document as it stands (docs/SNAPSHOTS.md), or undefined when it can't
   * honestly cover anything: a local edit not yet sealed, an envelope of ours the relay has not acked
   * (the relay refuses a cover beyond what it stores), or envelopes parked for a gap or missing
   * dependencies (their seqs count as judged, but their changes are not in the document).
   * `covers` comes from the seq cursors of every device the document's provenance names.
   */
  async sealSnapshot(docId: string): Promise<{ bytes: Uint8Array; covers: SnapshotCover[] } | undefined> {
    return this.o.lock.run(async () => {
      const t = this.#docs.get(docId) ?? (await this.#openTracked(docId, false).catch(() => undefined));
      if (!t) return undefined;
      const doc = t.handle.doc();
      if (!sameHeads(A.getHeads(doc), t.flushedHeads) || t.waiters.length > 0) return undefined;
      if ((await this.outbox.pending(docId)).length > 0 || (await this.pending.list(docId)).length > 0) return undefined;
      const epoch = this.o.currentEpoch();
      const key = this.o.authority.documentKey(epoch, docId);
      if (!key) return undefined;
      const provenance = (await this.provenance.list(docId)).filter(p => p.sessionNonce);
      const devices = [...new Set(provenance.map(p => p.deviceId))];
      await this.cursors.load(devices.map(deviceId => ({ deviceId, docId })));
      const covers = devices.map(deviceId => ({ deviceId, seq: this.cursors.lastSeq(deviceId, docId) })).filter(c => c.seq > 0);
      if (covers.length === 0) return undefined;
      const log = this.o.logPosition();
      const { bytes } = sealSnapshotBytes(
        {
          workspaceId: this.workspaceId, docId, deviceId: this.o.device.deviceId, epoch, claimedTime: this.#now(), logIndex: log.index, logHead: log.head, covers,
          body: {
            heads: [...A.getHeads(doc)],
            doc: A.save(doc),
            provenance: provenance.map(p => ({ deviceId: p.deviceId, seq: p.seq, claimedTime: p.claimedTime, sessionNonce: p.sessionNonce!, seqs: p.seqs ?? [] })),
          },
        },
        key,
        this.o.device.signingKey,
      );
      return { bytes, covers };
    });
  }

  /**
   * Take in snapshots opened (and so verified) by openSnapshot. A document new here starts from the
   * snapshot; one held here is merged only if the snapshot holds every change this reader has from
   * other devices (its own not-yet-shared changes may be missing): otherwise it is refused as
   * snapshot_incomplete. The covered seqs then count as applied, so their envelopes (if still
   * delivered) are only checked against the document, never applied twice.
   */
  async adoptSnapshots(snapshots: readonly OpenedSnapshot[]): Promise<{ adopted: string[]; refused: { docId: string; reason: string; detail?: string }[] }> {
    return this.o.lock.run(async () => {
      const adopted: string[] = [];
      const refused: { docId: string; reason: string; detail?: string }[] = [];
      // A cold join adopts many documents at once: grow Automerge's memory for them in one step (reserveAutomergeMemory.ts).
      const fresh = snapshots.filter(s => !this.#docs.has(s.header.docId));
      if (fresh.length >= RESERVE_MIN_DOCUMENTS) reserveAutomergeMemory(fresh.length * RESERVE_PER_DOCUMENT + fresh.reduce((n, s) => n + s.docBytes.length, 0));
      const ownActors = async (docId: string) =>
        new Set([this.actor, ...(await this.provenance.list(docId)).filter(p => p.deviceId === this.o.device.deviceId).map(p => p.actor)]);
      for (const s of snapshots) {
        const docId = s.header.docId;
        let t: Tracked | undefined;
        try {
          t = this.#docs.get(docId) ?? (await this.#openTracked(docId, false));
        } catch (e) {
          refused.push({ docId, reason: 'doc_damaged', detail: e instanceof Error ? e.message : String(e) });
          continue;
        }
        if (!t) {
          // openSnapshot loaded it already: hand the Repo that document (a clone under this session's
          // actor) rather than the bytes, which it would load a second time.
          const handle = this.o.repo.import<unknown>(A.save(A.init()), { docId: docId as DocumentId });
          handle.update(() => A.clone(s.doc, { actor: this.actor }));
          markReady(handle);
          await this.o.state.save([KNOWN_PREFIX, docId], new Uint8Array([1]));
          this.#track(docId, handle, A.getHeads(handle.doc()));
        } else {
          const local = t.handle.doc();
          if (!A.hasHeads(s.doc, A.getHeads(local))) {
            const mine = await ownActors(docId);
            const foreign = A.getChanges(s.doc, local).map(c => A.decodeChange(c)).filter(c => !mine.has(c.actor));
            if (foreign.length > 0) {
              refused.push({ docId, reason: 'snapshot_incomplete', detail: `${foreign.length} change(s) this device holds from others are not in it` });
              continue;
            }
          }
          const before = A.getHeads(local);
          const unsealed = !sameHeads(before, t.flushedHeads) || t.waiters.length > 0;
          t.handle.update(d => A.loadIncremental(d, s.docBytes));
          if (!unsealed) t.flushedHeads = A.getHeads(t.handle.doc());
        }
        await this.cursors.load(s.header.covers.map(c => ({ deviceId: c.deviceId, docId })));
        for (const c of s.header.covers) this.cursors.cover(c.deviceId, docId, c.seq);
        adopted.push(docId);
      }
      if (adopted.length) await this.o.repo.flush(adopted as DocumentId[]);
      const took = new Set(adopted);
      const provenance = new Map<string, OpenedSnapshot['provenance']>();
      for (const s of snapshots) if (took.has(s.header.docId)) provenance.set(s.header.docId, [...(provenance.get(s.header.docId) ?? []), ...s.provenance]);
      await inGroups([...provenance], ([docId, entries]) => this.provenance.putMany(docId, entries));
      await this.cursors.save();
      return { adopted, refused };
    });
  }

  /**
   * Record who made accepted envelopes' changes, in one chunk for the document, dropping what a
   * snapshot said about the same envelopes (only seqs a snapshot covered can have such an entry).
   */
  async #putProvenance(docId: string, envs: readonly OpenedEnvelope[]): Promise<void> {
    const drops: string[] = [];
    const entries = envs.map(env => {
      const h = env.header;
      if (this.cursors.coveredThrough(h.deviceId, docId) >= h.seq) drops.push(snapshotProvenanceHash(h.deviceId, h.seq));
      return {
        docId, envelopeHash: env.envelopeHash, deviceId: h.deviceId, userId: env.device.userId, seq: h.seq,
        claimedTime: h.claimedTime, actor: env.actor, seqs: env.seqs, sessionNonce: toHex(h.sessionNonce),
      };
    });
    await this.provenance.putMany(docId, entries, drops);
  }

  /**
   * Re-apply quarantined envelopes a membership-log sync may have cured (RETRY_AFTER_LOG_SYNC: the
   * epoch key or the device is known now, or the chain reaches the log index the envelope names).
   * Each leaves the quarantine unless refused again for the same reason. Returns undefined when nothing was curable.
   */
  async retryCurable(): Promise<ApplyReport | undefined> {
    const curable = (await this.quarantine.list()).filter(q => {
      if (!RETRY_AFTER_LOG_SYNC.has(q.reason) || q.source === 'push') return false;
      const d = decodeEnvelope(q.bytes);
      if (!d.ok) return false;
      const h = d.value.header;
      if (q.reason === 'unknown_epoch') return this.o.authority.documentKey(h.epoch, h.docId) !== undefined;
      // The reader was behind the author's log position; judged again once its chain reaches the index.
      if (q.reason === 'log_position_unknown') return this.o.authority.logEntryAt?.(h.logIndex) !== undefined;
      return this.o.authority.deviceInfo(h.deviceId) !== undefined;
    });
    if (curable.length === 0) return undefined;
    const report = await this.applyRemote(curable.map(q => q.bytes), 'quarantine');
    const again = new Set(report.rejected.map(r => r.quarantineId));
    for (const q of curable) if (!again.has(q.id)) await this.quarantine.remove(q.id);
    return report;
  }

  /** Flush every document, then the Repo. The session can't be used afterwards. */
  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
    for (const t of this.#docs.values()) if (t.timer) clearTimeout(t.timer);
    // Not a damaged document's handle: it never loaded, and there is nothing of it to save.
    await this.o.repo.flush((Object.keys(this.o.repo.handles) as DocumentId[]).filter(id => !this.#damagedHere.has(id)));
    // Clean end: nothing of this session is left unsealed.
    if (this.#started) await this.sessions.unregister(this.sessionNonce);
  }
}

/** import() with a docId leaves the handle 'loading' (then 'unavailable' with no network); we hold the whole doc, so it is ready. */
function markReady(handle: DocHandle<unknown>): void {
  if (!handle.isReady()) handle.doneLoading();
}

function actorOf(change: Uint8Array): string {
  const h = readChangeHeader(change);
  return typeof h === 'object' ? changeActorHex(h) : A.decodeChange(change).actor;
}

function seqOf(change: Uint8Array): number {
  const h = readChangeHeader(change);
  return typeof h === 'object' ? h.seq : A.decodeChange(change).seq;
}

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function sameHeads(a: A.Heads, b: A.Heads): boolean {
  if (a.length !== b.length) return false;
  const s = new Set(a);
  return b.every(h => s.has(h));
}

function splitBatches(changes: Uint8Array[]): Uint8Array[][] {
  const out: Uint8Array[][] = [];
  let cur: Uint8Array[] = [];
  let bytes = 0;
  for (const c of changes) {
    if (cur.length && (cur.length >= MAX_CHANGES_PER_ENVELOPE || bytes + c.length > MAX_CHANGE_BYTES_PER_ENVELOPE)) {
      out.push(cur);
      cur = [];
      bytes = 0;
    }
    cur.push(c);
    bytes += c.length;
  }
  if (cur.length) out.push(cur);
  return out;
}
