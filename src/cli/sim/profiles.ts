// Real profiles for the simulation: a vault per user (minimum Argon2id, to keep setup fast), the admin's
// workspace stored offline, invitations and removals appended to the admin's stored log (the next sync
// pushes them), joins through the relay, and a record session with a sync engine per replica.
import { join as pathJoin } from 'node:path';
import { mkdirSync } from 'node:fs';
import { MIN_KDF } from '../../crypto/argon2.ts';
import { createVault } from '../../identity/vault/createVault.ts';
import type { UnlockedVault } from '../../identity/vault/types.ts';
import { createWorkspace } from '../../identity/workspace/createWorkspace.ts';
import { formatInvitationToken } from '../../identity/workspace/invitation.ts';
import { newInvitation } from '../../identity/workspace/invitations.ts';
import { inviteIntent, newIntent, type IntentAction } from '../../identity/workspace/intents.ts';
import { replayLog } from '../../identity/workspace/log.ts';
import type { Policy } from '../../identity/workspace/entry.ts';
import { loadWorkspace, saveWorkspace } from '../../identity/workspace/store.ts';
import { openRecordSession, type RecordSession } from '../../docs/openSession.ts';
import { SyncEngine, type SyncEngineOptions } from '../../docs/sync/SyncEngine.ts';
import { deviceKeysOfVault, syncSessionOf } from '../../docs/sync/nodeSyncSession.ts';
import { joinViaRelay } from '../../docs/sync/joinViaRelay.ts';

export interface SimUser {
  name: string;
  home: string;
  vault: UnlockedVault;
}

export async function makeUser(dir: string, name: string): Promise<SimUser> {
  const home = pathJoin(dir, name);
  mkdirSync(home, { recursive: true });
  const { vault } = await createVault(home, `${name} sim password`, { kdf: MIN_KDF });
  return { name, home, vault };
}

export function createStoredWorkspace(u: SimUser, name: string, relay: string, now: number, policy?: Policy): string {
  const ws = createWorkspace(deviceKeysOfVault(u.vault), name, { now, ...(policy ? { policy } : {}) });
  saveWorkspace(u.home, u.vault.dataKey, { workspaceId: ws.workspaceId, entries: ws.entries, epochKeys: new Map([[0, ws.epochKey]]), meta: { relay } });
  return ws.workspaceId;
}

function stored(u: SimUser, workspaceId: string) {
  const w = loadWorkspace(u.home, u.vault.dataKey, workspaceId);
  if (!w.ok) throw new Error(`no workspace in ${u.name}'s profile: ${w.reason}`);
  const st = replayLog(w.value.entries);
  if (!st.ok) throw new Error(`${u.name}'s log does not replay: ${st.reason}`);
  return { w: w.value, state: st.value };
}

/** Record a membership change as the CLI does: an intent, appended at the head at the next sync. */
function addIntent(u: SimUser, workspaceId: string, action: IntentAction, now: number): void {
  const { w } = stored(u, workspaceId);
  saveWorkspace(u.home, u.vault.dataKey, { ...w, intents: [...(w.intents ?? []), newIntent(action, now)] });
}

/** Like `workspace invite --role writer --json`: the printed code. */
export function invite(admin: SimUser, workspaceId: string, now: number): string {
  const inv = newInvitation({ role: 'writer', expiresAt: now + 3600_000 });
  addIntent(admin, workspaceId, inviteIntent(inv.terms), now);
  return formatInvitationToken(workspaceId, inv.code);
}

/** Like `workspace remove MEMBER`: a remove_member entry with a key rotation, in the admin's stored log. */
export function removeFromWorkspace(admin: SimUser, workspaceId: string, victim: SimUser, now: number): void {
  addIntent(admin, workspaceId, { kind: 'remove_member', member: victim.vault.userId }, now);
}

export async function joinWorkspace(u: SimUser, token: string, relayUrl: string, now?: () => number): Promise<void> {
  const j = await joinViaRelay({ home: u.home, vault: u.vault, token, relayUrl, ...(now ? { now } : {}) });
  if (!j.ok) throw new Error(`${u.name} could not join: ${j.reason} ${j.detail ?? ''}`);
}

export interface OpenReplica {
  s: RecordSession;
  engine: SyncEngine;
  close(): Promise<void>;
}

/** With `o.now`, the replica's local clock (claimed times, lease clock, log entry times) is that one. */
export async function openReplica(u: SimUser, relayUrl: string, o: SyncEngineOptions = {}): Promise<OpenReplica> {
  const r = await openRecordSession({ home: u.home, vault: u.vault, flushWindowMs: 0, ...(o.now ? { now: o.now } : {}) });
  if (!r.ok) throw new Error(`${u.name}: open failed: ${r.reason}`);
  const s = r.value;
  const engine = new SyncEngine(syncSessionOf(s, u.vault, u.home), { relayUrl, timeoutMs: 10_000, ...o });
  return {
    s,
    engine,
    async close() {
      await engine.stop();
      await s.close();
    },
  };
}
