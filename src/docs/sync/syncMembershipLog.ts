// The membership half of a sync pass: bring our chain up to the relay's head (countersigned links
// only, fork detection), publish a new workspace's root, turn pending intents into entries at the
// head, re-key when an active device lacks the current key, and adopt the result (live state and
// the workspace store). A fork stops syncing this workspace and keeps the evidence in the sync state.
import { withNames } from '../../identity/workspace/names.ts';
import type { EpochKey } from '../../crypto/keys.ts';
import { fail, ok } from '../../crypto/result.ts';
import { buildIntent, intentSatisfied, type Intent } from '../../identity/workspace/intents.ts';
import { keyShareEntry } from '../../identity/workspace/keyShare.ts';
import { linkAt, logEntries, replayLog } from '../../identity/workspace/log.ts';
import { equalBytes } from '../../crypto/bytes.ts';
import type { WorkspaceState } from '../../identity/workspace/state.ts';
import type { StoredWorkspace } from '../../identity/workspace/store.ts';
import { appendAtHead, ChainFault, collectEpochKeys, longerChain, pullChain, type ForkEvidence } from './chainSync.ts';
import type { RelayClient } from './relayClient.ts';
import { replayStoredChain } from './verifiedChains.ts';
import { bump, SyncError, type SyncSession, type SyncSummary } from './syncTypes.ts';

export interface LogSyncContext {
  session: SyncSession;
  workspaceId: string;
  relayUrl: string;
  now(): number;
  log(level: 'info' | 'warn' | 'error', msg: string, detail?: Record<string, unknown>): void;
  /** Called when the chain added entries or keys. */
  membershipChanged(state: WorkspaceState): void;
}

export const forkMessage = (f: ForkEvidence): string =>
  `the relay forked this workspace's membership log at index ${f.index} (${f.detail}), detected ${new Date(f.detectedAt).toISOString()}; syncing it has stopped and the evidence is kept`;

/** Sync the membership chain through `client`, counting into `s`. */
export async function syncMembershipLog(ctx: LogSyncContext, client: RelayClient, s: SyncSummary): Promise<void> {
  const sync = await ctx.session.syncState.load();
  if (sync.fork) throw new SyncError('log_fork', forkMessage(sync.fork));
  try {
    await pullAndAppend(ctx, client, s);
  } catch (e) {
    if (!(e instanceof ChainFault)) throw e;
    if (e.evidence) {
      const evidence = e.evidence;
      await ctx.session.syncState.update((x) => {
        x.fork ??= evidence;
      });
      ctx.log('error', 'membership log fork detected', { index: evidence.index, detail: evidence.detail });
    }
    throw new SyncError(e.code, e.message);
  }
}

async function pullAndAppend(ctx: LogSyncContext, client: RelayClient, s: SyncSummary): Promise<void> {
  const relayPub = client.relayPub;
  const stored = await ctx.session.workspaceStore.load();
  const storedChain = stored ? replayStoredChain(stored.entries) : undefined;
  const live = ctx.session.live.state;
  const local = storedChain?.ok ? (longerChain(storedChain.value, live) ?? live) : live;
  const liveKeys = new Map(ctx.session.live.epochKeys);

  const pulled = await pullChain(client, ctx.workspaceId, local, relayPub, ctx.now());
  let state = pulled.state ?? local;
  s.logReceived += pulled.received;
  if (pulled.unknown) {
    // A workspace created here and not yet published: the relay sequences and countersigns its root.
    const root = linkAt(state, 0);
    if (!root || root.countersig || state.order.length !== 1) return adopt(ctx, state, liveKeys, stored, new Map());
    const r = await client.appendLog(ctx.workspaceId, root.entry.bytes, stored?.meta.signupToken);
    const st = replayLog([r.link], { relayPub });
    if (!st.ok) throw new ChainFault('log_invalid', `the relay's countersigned root does not replay (${st.reason})`);
    state = st.value;
    s.logSent++;
  }

  let keys = collectEpochKeys(state, ctx.session.device.deviceId, ctx.session.device.boxKey, new Map([...(stored?.epochKeys ?? []), ...ctx.session.live.epochKeys]));
  const done = new Map<string, Intent | undefined>(); // intent id → its failed form, or undefined once in effect
  try {
    for (const intent of stored?.intents ?? []) {
      if (intent.status !== 'pending') continue;
      if (intentSatisfied(state, intent.action)) {
        done.set(intent.id, undefined); // already in effect (by someone else, or our append whose reply was lost)
        ctx.log('info', 'pending membership change already in effect', { kind: intent.action.kind });
        continue;
      }
      let newKey: { epoch: number; key: EpochKey } | undefined;
      const r = await appendAtHead(
        client, ctx.workspaceId, state, relayPub,
        (st, at) => {
          const b = buildIntent(st, ctx.session.device, keys, intent.action, at);
          if (!b.ok) return b;
          newKey = b.value.newKey;
          return ok(b.value.entry.bytes);
        },
        () => client.relayNow(),
      );
      if (r.ok) {
        state = r.value.state;
        if (newKey) keys = new Map(keys).set(newKey.epoch, newKey.key);
        done.set(intent.id, undefined);
        s.logSent++;
        ctx.log('info', 'pending membership change appended', { kind: intent.action.kind, index: r.value.index });
      } else if (r.reason === 'log_stale' || r.reason === 'relay_refused') {
        ctx.log('warn', 'a pending membership change stays pending', { kind: intent.action.kind, reason: r.reason, detail: r.detail });
      } else {
        done.set(intent.id, { ...intent, status: 'failed', reason: r.reason, ...(r.detail ? { detail: r.detail.slice(0, 500) } : {}) });
        bump(s.logRejected, r.reason);
        ctx.log('warn', 'a pending membership change is no longer valid', { kind: intent.action.kind, reason: r.reason });
      }
    }
  } catch (e) {
    // A transport failure mid-way: keep what already happened, so no intent is appended twice.
    await adopt(ctx, state, keys, stored, done).catch(() => undefined);
    throw e;
  }

  // Key sharing: an admin device re-keys when an active device lacks the current key (DESIGN → Epoch keys).
  if (keyShareEntry(state, ctx.session.device, keys, ctx.now())) {
    let shared: { epoch: number; key: EpochKey } | undefined;
    const r = await appendAtHead(
      client, ctx.workspaceId, state, relayPub,
      (st, at) => {
        const e = keyShareEntry(st, ctx.session.device, keys, at);
        if (!e) return fail('rotation_required', 'no longer needed');
        shared = { epoch: e.epoch, key: e.epochKey };
        return ok(e.entry.bytes);
      },
      () => client.relayNow(),
    );
    if (r.ok && shared) {
      state = r.value.state;
      keys = new Map(keys).set(shared.epoch, shared.key);
      s.keysShared++;
      s.logSent++;
      ctx.log('info', 'rotated the workspace key so every active device holds it', { epoch: shared.epoch });
    } else if (!r.ok) ctx.log('warn', 'key share not appended', { reason: r.reason });
  }
  await adopt(ctx, state, keys, stored, done);
}

async function adopt(ctx: LogSyncContext, state: WorkspaceState, keys: Map<number, EpochKey>, stored: StoredWorkspace | undefined, done: Map<string, Intent | undefined>): Promise<void> {
  const before = ctx.session.live.state;
  const changed = state.order.length !== before.order.length || state.head !== before.head || keys.size !== ctx.session.live.epochKeys.size;
  // Re-read right before saving: a CLI command may have added an intent meanwhile.
  const latest = (await ctx.session.workspaceStore.load()) ?? stored;
  const latestChain = latest ? replayStoredChain(latest.entries) : undefined;
  const finalState = withNames(latestChain?.ok ? (longerChain(state, latestChain.value) ?? state) : state, keys);
  ctx.session.live.update(finalState, keys);
  const intents = (latest?.intents ?? []).flatMap((i) => (done.has(i.id) ? (done.get(i.id) ? [done.get(i.id)!] : []) : [i]));
  const next: StoredWorkspace = {
    workspaceId: ctx.workspaceId,
    entries: logEntries(finalState),
    epochKeys: new Map([...(latest?.epochKeys ?? []), ...keys]),
    meta: { ...(latest?.meta ?? {}), relay: ctx.relayUrl },
    intents,
  };
  // A pass that changed nothing writes nothing (the store is one fsync'd file, re-sealed whole).
  if (!latest || !sameStored(latest, next)) await ctx.session.workspaceStore.save(next);
  if (changed) ctx.membershipChanged(finalState);
}

/** Would saving `b` over `a` change anything? */
function sameStored(a: StoredWorkspace, b: StoredWorkspace): boolean {
  if (a.workspaceId !== b.workspaceId || a.entries.length !== b.entries.length || a.epochKeys.size !== b.epochKeys.size) return false;
  if (!a.entries.every((l, i) => equalBytes(l, b.entries[i]!))) return false;
  for (const [epoch, key] of b.epochKeys) {
    const had = a.epochKeys.get(epoch);
    if (!had || !equalBytes(had, key)) return false;
  }
  const metaKeys = new Set([...Object.keys(a.meta), ...Object.keys(b.meta)]);
  for (const k of metaKeys) if (a.meta[k] !== b.meta[k]) return false;
  return JSON.stringify(a.intents ?? []) === JSON.stringify(b.intents ?? []);
}
