// Shared fixtures for the sync stories: users with real vaults (minimum Argon2id), workspaces stored
// in their profiles, record sessions with a sync engine, and relays (in-process or a child process).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join as pathJoin } from 'node:path';
import { MIN_KDF } from '../../src/crypto/argon2.ts';
import { createVault } from '../../src/identity/vault/createVault.ts';
import type { UnlockedVault } from '../../src/identity/vault/types.ts';
import { createWorkspace } from '../../src/identity/workspace/createWorkspace.ts';
import { formatInvitationToken } from '../../src/identity/workspace/invitation.ts';
import { newInvitation } from '../../src/identity/workspace/invitations.ts';
import { inviteIntent, newIntent, type IntentAction } from '../../src/identity/workspace/intents.ts';
import { replayLog } from '../../src/identity/workspace/log.ts';
import type { Policy, Role } from '../../src/identity/workspace/entry.ts';
import { loadWorkspace, saveWorkspace } from '../../src/identity/workspace/store.ts';
import { openRecordSession, type RecordSession } from '../../src/docs/openSession.ts';
import { SyncEngine, type SyncEngineOptions } from '../../src/docs/sync/SyncEngine.ts';
import { deviceKeysOfVault, syncSessionOf } from '../../src/docs/sync/nodeSyncSession.ts';
import { joinViaRelay } from '../../src/docs/sync/joinViaRelay.ts';
import { CHILD_MS } from '../timeouts.ts';

const dirs: string[] = [];
export function tempDir(prefix = 'cloister-sync-'): string {
  const d = mkdtempSync(pathJoin(tmpdir(), prefix));
  dirs.push(d);
  return d;
}
export function cleanupDirs(): void {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

export interface User {
  name: string;
  home: string;
  vault: UnlockedVault;
}

export async function makeUser(name: string): Promise<User> {
  const home = tempDir(`cloister-${name}-`);
  const { vault } = await createVault(home, `${name} password`, { kdf: MIN_KDF });
  return { name, home, vault };
}

/** Alice's workspace, stored in her profile (offline, like `workspace create --relay`). */
export function createStoredWorkspace(u: User, name: string, relay: string, policy?: Policy): string {
  const ws = createWorkspace(deviceKeysOfVault(u.vault), name, { now: Date.now(), ...(policy ? { policy } : {}) });
  saveWorkspace(u.home, u.vault.dataKey, { workspaceId: ws.workspaceId, entries: ws.entries, epochKeys: new Map([[0, ws.epochKey]]), meta: { relay } });
  return ws.workspaceId;
}

function stored(u: User, workspaceId: string) {
  const w = loadWorkspace(u.home, u.vault.dataKey, workspaceId);
  if (!w.ok) throw new Error(`no workspace: ${w.reason}`);
  const st = replayLog(w.value.entries);
  if (!st.ok) throw new Error(st.reason);
  return { w: w.value, state: st.value };
}

/** Record a membership change as the CLI does: an intent, appended at the head at the next sync. */
export function addIntent(u: User, workspaceId: string, action: IntentAction): void {
  const { w } = stored(u, workspaceId);
  saveWorkspace(u.home, u.vault.dataKey, { ...w, intents: [...(w.intents ?? []), newIntent(action, Date.now())] });
}

/** Like `workspace invite --json`: returns the printed code ("<workspaceId>.<code>"). */
export function invite(admin: User, workspaceId: string, role: Role): string {
  const inv = newInvitation({ role, expiresAt: Date.now() + 3600_000 });
  addIntent(admin, workspaceId, inviteIntent(inv.terms));
  return formatInvitationToken(workspaceId, inv.code);
}

export function remove(admin: User, workspaceId: string, victim: User): void {
  addIntent(admin, workspaceId, { kind: 'remove_member', member: victim.vault.userId });
}

export async function join(u: User, token: string, relayUrl: string) {
  const j = await joinViaRelay({ home: u.home, vault: u.vault, token, relayUrl });
  if (!j.ok) throw new Error(`join failed: ${j.reason} ${j.detail ?? ''}`);
  return j.value;
}

export interface Open {
  s: RecordSession;
  engine: SyncEngine;
  close(): Promise<void>;
}

/** Open the user's record session with a sync engine (flush window 0 keeps tests quick). */
export async function open(u: User, relayUrl?: string, o: SyncEngineOptions = {}): Promise<Open> {
  const r = await openRecordSession({ home: u.home, vault: u.vault, flushWindowMs: 0 });
  if (!r.ok) throw new Error(`open failed: ${r.reason}`);
  const s = r.value;
  const engine = new SyncEngine(syncSessionOf(s, u.vault, u.home), { relayUrl: relayUrl ?? s.workspace.meta.relay, ...o });
  return {
    s,
    engine,
    async close() {
      await engine.stop();
      await s.close();
    },
  };
}

/** Open, sync once, close. */
export async function syncUser(u: User, relayUrl?: string) {
  const o = await open(u, relayUrl);
  try {
    return await o.engine.syncOnce();
  } finally {
    await o.close();
  }
}

/** A real relay process (`cloister relay --port 0`), its ws url from the 'relay listening' log line. */
export async function spawnRelay(dbPath: string): Promise<{ url: string; proc: ChildProcess; stop(): Promise<void> }> {
  const bin = pathJoin(import.meta.dirname, '..', '..', 'bin', 'cloister.js');
  const proc = spawn(process.execPath, [bin, 'relay', '--port', '0', '--store', `sqlite:${dbPath}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, CLOISTER_LOG_LEVEL: 'info' },
  });
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`relay did not start: ${out}`)), CHILD_MS);
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /"port":(\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(`ws://127.0.0.1:${m[1]}/`);
      }
    });
    proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    proc.once('exit', code => reject(new Error(`relay exited (${code}): ${out}`)));
  });
  return {
    url,
    proc,
    stop: () =>
      new Promise<void>(resolve => {
        if (proc.exitCode !== null) return resolve();
        proc.once('exit', () => resolve());
        proc.kill('SIGTERM');
      }),
  };
}

/** An in-process relay on a temporary SQLite file with an injectable clock. */
export async function startTestRelay(now: () => number = Date.now) {
  const { startRelay } = await import('../../relay/server.ts');
  const { SqliteStore } = await import('../../relay/store/SqliteStore.ts');
  const { pino } = await import('pino');
  return startRelay({ store: new SqliteStore(pathJoin(tempDir('cloister-relaydb-'), 'relay.sqlite')), port: 0, now, logger: pino({ level: 'silent' }) });
}
