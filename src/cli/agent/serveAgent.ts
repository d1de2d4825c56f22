// The agent: an unlocked profile served over a Unix socket private to the user (a 0700 folder, a
// 0600 socket, refused when another uid owns either). It answers record and status commands from
// memory, one request at a time, and locks (closes the session, wipes the keys it holds, removes the
// socket, ends) on `cloister lock`, after `idleMs` without a request, or on SIGINT/SIGTERM/SIGHUP.
// It performs operations; it never hands out a key (docs/VAULT.md → The agent).
import { chmodSync, mkdirSync, realpathSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import { isValidDocumentId } from '@automerge/automerge-repo';
import { DamagedDocumentError } from '../../docs/DamagedDocumentError.ts';
import { EditRefusedError } from '../../docs/DocSession.ts';
import type { RecordSession } from '../../docs/openSession.ts';
import { RecordError, type RecordStore } from '../../docs/records/RecordStore.ts';
import { OfflineLeaseExpiredError } from '../../docs/sync/LeaseClock.ts';
import { syncStatus } from '../../docs/sync/syncStatus.ts';
import type { UnlockedVault } from '../../identity/vault/types.ts';
import { loadWorkspace } from '../../identity/workspace/store.ts';
import { exchange } from './client.ts';
import { AGENT_PROTOCOL, MAX_REQUEST_BYTES, type AgentReason, type AgentResponse } from './protocol.ts';
import type { ProfileView } from './ProfileView.ts';
import { checkRequest, type CheckedRequest } from './requestSchema.ts';
import { unsafeDir } from './socketPath.ts';

/** A request line must arrive this soon after connecting. */
const REQUEST_WAIT_MS = 10_000;

export interface AgentConfig {
  home: string;
  vault: UnlockedVault;
  view: ProfileView;
  socketPath: string;
  /** Lock after this long without a request; Infinity for never. */
  idleMs: number;
  /** One line for the agent's own log (stderr in the foreground). */
  log: (line: string) => void;
}

export type LockReason = 'lock' | 'idle' | 'signal';

export interface RunningAgent {
  /** Resolves once the agent has locked (session closed, keys wiped, socket removed). */
  locked: Promise<LockReason>;
  lock(reason: LockReason): Promise<void>;
}

class AgentError extends Error {
  constructor(
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/** Make the socket's folder (0700, ours), refuse a live agent there, clear a stale socket. */
export async function prepareSocket(path: string): Promise<{ ok: true } | { ok: false; reason: AgentReason; message: string }> {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const bad = unsafeDir(dir);
  if (bad) return { ok: false, reason: 'agent_socket_unsafe', message: `${bad}; the agent's socket folder must be private to you (chmod 700)` };
  const alive = await exchange(path, { v: AGENT_PROTOCOL, op: 'ping', home: '' }, 5_000);
  if (alive) return { ok: false, reason: 'agent_running', message: `an agent is already listening on ${path} (cloister lock ends it)` };
  rmSync(path, { force: true });
  return { ok: true };
}

export async function serveAgent(c: AgentConfig): Promise<RunningAgent> {
  const home = realpathSync(c.home);
  let locking: Promise<void> | undefined;
  let resolveLocked!: (r: LockReason) => void;
  const locked = new Promise<LockReason>(r => (resolveLocked = r));
  let queue: Promise<unknown> = Promise.resolve();
  let idle: ReturnType<typeof setTimeout> | undefined;
  const touch = () => {
    if (idle) clearTimeout(idle);
    if (Number.isFinite(c.idleMs)) idle = setTimeout(() => void lock('idle'), c.idleMs);
  };

  const lock = (reason: LockReason): Promise<void> => {
    locking ??= (async () => {
      if (idle) clearTimeout(idle);
      server.close();
      rmSync(c.socketPath, { force: true });
      await queue.catch(() => undefined); // let the request being served finish
      try {
        await c.view.close();
      } catch (e) {
        c.log(`closing the profile failed: ${e instanceof Error ? e.message : String(e)}`);
      }
      wipe(c.vault);
      resolveLocked(reason);
    })();
    return locking;
  };

  const answer = async (line: string): Promise<AgentResponse> => {
    const checked = checkRequest(line);
    if (!checked.ok) return refuse(checked.reason, checked.message);
    const req = checked.value;
    if (req.op === 'ping' && req.home === '') return { ok: true, value: { pid: process.pid } };
    if (!sameHome(req.home, home)) return refuse('agent_other_profile', `this agent holds ${home}, not ${req.home}`);
    const ws = c.view.session.workspace;
    if (req.workspace !== undefined && req.workspace !== ws.name && req.workspace !== ws.id) return refuse('agent_other_workspace', `this agent holds workspace ${ws.name}`);
    if (locking) return refuse('agent_locking', 'the agent is locking');
    if (req.op !== 'ping') touch();
    if (req.op === 'lock') {
      setImmediate(() => void lock('lock'));
      return { ok: true, value: { locked: true } };
    }
    try {
      return { ok: true, value: await perform(req, await c.view.fresh(), c) };
    } catch (e) {
      if (e instanceof AgentError) return { ok: false, reason: e.reason, message: e.message };
      if (e instanceof RecordError) return { ok: false, reason: e.code, message: e.message };
      if (e instanceof OfflineLeaseExpiredError) return { ok: false, reason: 'lease_expired', message: e.message };
      if (e instanceof EditRefusedError) return { ok: false, reason: e.code, message: e.message };
      if (e instanceof DamagedDocumentError) return { ok: false, reason: e.reason, message: e.message };
      c.log(`request ${req.op} failed: ${e instanceof Error ? e.message : String(e)}`);
      return refuse('internal', `the agent failed to answer: ${e instanceof Error ? e.message : String(e)}`);
    }
  };

  const onConnection = (sock: Socket) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let got = false;
    const reply = (r: AgentResponse) => {
      if (!sock.destroyed) sock.end(`${JSON.stringify(r)}\n`);
    };
    const wait = setTimeout(() => {
      if (!got) reply(refuse('request_timeout', `no request line within ${REQUEST_WAIT_MS / 1000} s`));
      got = true;
    }, REQUEST_WAIT_MS);
    sock.on('error', () => undefined); // a client that went away: nothing to do
    sock.on('close', () => clearTimeout(wait));
    sock.on('data', (b: Buffer) => {
      if (got) return;
      const nl = b.indexOf(0x0a);
      chunks.push(nl >= 0 ? b.subarray(0, nl) : b);
      size += nl >= 0 ? nl : b.length;
      if (size > MAX_REQUEST_BYTES) {
        got = true;
        reply(refuse('request_too_large', `the request is larger than ${MAX_REQUEST_BYTES} bytes`));
        sock.destroySoon();
        return;
      }
      if (nl < 0) return;
      got = true;
      clearTimeout(wait);
      const line = Buffer.concat(chunks).toString('utf8');
      const served = queue.then(() => answer(line));
      queue = served.catch(() => undefined);
      served.then(reply, e => reply(refuse('internal', `the agent failed to answer: ${e instanceof Error ? e.message : String(e)}`)));
    });
    sock.on('end', () => {
      if (!got) {
        got = true;
        reply(refuse('request_malformed', 'the connection ended before a request line'));
      }
    });
  };

  const server: Server = createServer({ allowHalfOpen: true }, onConnection);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(c.socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
  // The folder is 0700 already, so nobody else could reach the socket before this.
  chmodSync(c.socketPath, 0o600);
  server.on('error', e => c.log(`socket error: ${e.message}`));
  touch();
  return { locked, lock };
}

function refuse(reason: AgentReason, message: string): AgentResponse {
  return { ok: false, reason, message: `${message} [${reason}]` };
}

function sameHome(asked: string, held: string): boolean {
  if (asked === held) return true;
  try {
    return realpathSync(asked) === held;
  } catch {
    return false;
  }
}

/** Overwrite every key the agent held. JavaScript may have copied them; this is what can be done. */
function wipe(v: UnlockedVault): void {
  const seen = new Set<unknown>();
  const walk = (x: unknown) => {
    if (x === null || typeof x !== 'object' || seen.has(x)) return;
    seen.add(x);
    if (x instanceof Uint8Array) x.fill(0);
    else for (const value of Object.values(x)) walk(value);
  };
  walk(v);
}

/** Display names of everyone the workspace's log names, for the client to print. */
function namesOf(s: RecordSession): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const state of [s.workspace.state, s.live.state])
    for (const [userId, m] of state.members) if (m.name !== undefined) out[userId] = m.name;
  return { ...out };
}

/** A full id, or an unambiguous prefix of one; the same words as the CLI's own resolveId. */
async function resolveId(records: RecordStore, id: string): Promise<string> {
  if (isValidDocumentId(id) && (await records.get(id))) return id;
  const matches = (await records.list({ includeDeleted: true })).filter(r => r.id.startsWith(id));
  if (matches.length === 1) return matches[0]!.id;
  if (matches.length > 1) throw new AgentError('record_ambiguous', `${id} matches ${matches.length} records; give more characters`);
  throw new AgentError('record_not_found', `no record ${id}`);
}

let listCache: { key: string; value: unknown } | undefined;

async function perform(req: CheckedRequest, s: RecordSession, c: AgentConfig): Promise<unknown> {
  const records = s.records;
  switch (req.op) {
    case 'ping':
      return { pid: process.pid, home: c.home, workspace: { id: s.workspace.id, name: s.workspace.name } };
    case 'lock':
      return { locked: true };
    case 'status': {
      const stored = loadWorkspace(c.home, c.vault.dataKey, s.workspace.id);
      return syncStatus(s, { intents: stored.ok ? (stored.value.intents ?? []) : [] });
    }
    case 'record.list': {
      // Unchanged since the last list (nothing merged, reloaded or edited): the same answer. Lists with
      // details read provenance, which may trail an own edit by a moment, so they are always recomputed.
      const key = `${c.view.generation}:${JSON.stringify(req.args)}`;
      if (!req.args.details && listCache?.key === key) return listCache.value;
      const value = { records: await records.list(req.args), names: namesOf(s) };
      if (!req.args.details) listCache = { key: `${c.view.generation}:${JSON.stringify(req.args)}`, value };
      return value;
    }
    case 'record.get':
      return { record: await records.get(await resolveId(records, req.args.id)), names: namesOf(s) };
    case 'record.add': {
      const a = req.args;
      const id = await records.create({ title: a.title, fields: Object.fromEntries(a.fields), tags: a.tags, ...(a.notes !== undefined ? { notes: a.notes } : {}) });
      await c.view.persist([id, records.indexId]);
      return { id };
    }
    case 'record.edit': {
      const a = req.args;
      const full = await resolveId(records, a.id);
      await records.update(full, {
        ...(a.title !== undefined ? { title: a.title } : {}),
        ...(a.fields?.length ? { fields: Object.fromEntries(a.fields) } : {}),
        ...(a.tags?.length ? { tags: a.tags } : {}),
        ...(a.notes !== undefined ? { notes: a.notes } : {}),
      });
      await c.view.persist([full]);
      return { id: full };
    }
    case 'record.rm':
    case 'record.restore': {
      const full = await resolveId(records, req.args.id);
      await (req.op === 'record.rm' ? records.remove(full) : records.restore(full));
      await c.view.persist([full]);
      return { id: full, deleted: req.op === 'record.rm' };
    }
    case 'record.resolve': {
      const a = req.args;
      const full = await resolveId(records, a.id);
      await records.resolve(full, { ...(a.title !== undefined ? { title: a.title } : {}), fields: Object.fromEntries(a.fields) });
      await c.view.persist([full]);
      return { id: full, conflicts: Object.keys((await records.get(full))!.conflicts) };
    }
  }
}

