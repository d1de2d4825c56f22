// Admission (docs/RELAY.md → Admission): who may create a workspace. open: anyone; token: the first
// log_append carries a signup token minted by the operator (stored as a hash, each use once); keys:
// the device is on the operator's allowlist. Appends to an existing workspace are not gated.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { RelayRequestError, type RelayClient } from '../../src/docs/sync/relayClient.ts';
import { createWorkspace } from '../../src/identity/workspace/createWorkspace.ts';
import { createInvitation } from '../../src/identity/workspace/invitations.ts';
import { hashSignupToken, mintSignupToken, type AdmissionMode } from '../../relay/admission.ts';
import { startRelay, type RunningRelay } from '../../relay/server.ts';
import { SqliteStore } from '../../relay/store/SqliteStore.ts';
import { HOUR, connect, device } from './helpers.ts';
import { integrationTimeouts } from '../timeouts.ts';

integrationTimeouts();

let relay: RunningRelay | undefined;
let store: SqliteStore;
let dir: string | undefined;
const clients: RelayClient[] = [];

async function start(admission?: AdmissionMode): Promise<RunningRelay> {
  dir = mkdtempSync(join(tmpdir(), 'cloister-admission-'));
  store = new SqliteStore(join(dir, 'relay.sqlite'));
  relay = await startRelay({ store, port: 0, host: '127.0.0.1', logger: pino({ level: 'silent' }), ...(admission ? { admission } : {}) });
  return relay;
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await relay?.close();
  relay = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

async function client(d = device('alice')): Promise<RelayClient> {
  const c = await connect(relay!, d);
  clients.push(c);
  return c;
}

/** The error code a refused request carries. */
async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (e) {
    if (e instanceof RelayRequestError) return `${e.code}: ${e.message}`;
    throw e;
  }
  return 'accepted';
}

describe('admission', () => {
  it('open (the default): any authenticated device creates a workspace', async () => {
    await start();
    const alice = device('alice');
    const ws = createWorkspace(alice, 'Team', { now: Date.now() });
    const r = await (await client(alice)).appendLog(ws.workspaceId, ws.root);
    expect(r.index).toBe(0);
  });

  it('token: creation is refused without a token, with an unknown, used-up or expired one, and accepted with a good one', async () => {
    await start('token');
    const alice = device('alice');
    const a = await client(alice);
    const create = () => createWorkspace(alice, 'Team', { now: Date.now() });

    const w1 = create();
    expect(await refusal(a.appendLog(w1.workspaceId, w1.root))).toMatch(/^admission_required: .*signup token/);
    expect(await refusal(a.appendLog(w1.workspaceId, w1.root, 'cst_madeup'))).toMatch(/^admission_refused: .*did not issue it/);
    expect(await store.listLogEntries(w1.workspaceId)).toEqual([]);

    const once = await mintSignupToken(store, { uses: 1, now: Date.now(), ttlMs: HOUR });
    expect(once.token).toMatch(/^cst_[A-Za-z0-9_-]{32}$/);
    expect((await a.appendLog(w1.workspaceId, w1.root, once.token)).index).toBe(0);

    // Used up: a second workspace with the same single-use token is refused.
    const w2 = create();
    expect(await refusal(a.appendLog(w2.workspaceId, w2.root, once.token))).toMatch(/^admission_refused: .*used up/);
    // Expired.
    const stale = await mintSignupToken(store, { uses: 5, now: Date.now() - 2 * HOUR, ttlMs: HOUR });
    expect(await refusal(a.appendLog(w2.workspaceId, w2.root, stale.token))).toMatch(/^admission_refused: .*expired/);

    // Appends to an existing (admitted) workspace need no token.
    const inv = createInvitation(w1.state, alice, w1.epochKey, { role: 'writer', expiresAt: Date.now() + HOUR, now: Date.now() });
    expect((await a.appendLog(w1.workspaceId, inv.entry.bytes)).index).toBe(1);
  });

  it('token: a use is given back when the creation does not happen (invalid entry), and a multi-use token creates that many', async () => {
    await start('token');
    const alice = device('alice');
    const a = await client(alice);
    const t = await mintSignupToken(store, { uses: 2, now: Date.now() });
    const w = createWorkspace(alice, 'Team', { now: Date.now() });
    expect(await refusal(a.appendLog(w.workspaceId, w.root.slice(0, 10), t.token))).toMatch(/^log_rejected/);
    expect(await refusal(a.appendLog(w.workspaceId, w.root.slice(0, 20), t.token))).toMatch(/^log_rejected/);
    // Re-sending the same create (a lost reply) is idempotent and takes no second use.
    expect((await a.appendLog(w.workspaceId, w.root, t.token)).index).toBe(0);
    expect((await a.appendLog(w.workspaceId, w.root, t.token)).index).toBe(0);
    const w2 = createWorkspace(alice, 'Team 2', { now: Date.now() });
    expect((await a.appendLog(w2.workspaceId, w2.root, t.token)).index).toBe(0);
    const w3 = createWorkspace(alice, 'Team 3', { now: Date.now() });
    expect(await refusal(a.appendLog(w3.workspaceId, w3.root, t.token))).toMatch(/^admission_refused: .*used up/);
    // The store holds the hash only.
    expect(await store.useSignupToken(hashSignupToken(t.token), Date.now())).toBe('used_up');
  });

  it('token: racing creations with one single-use token create exactly one workspace', async () => {
    await start('token');
    const t = await mintSignupToken(store, { uses: 1, now: Date.now() });
    const people = [device('a'), device('b'), device('c'), device('d')];
    const results = await Promise.all(people.map(async (p) => {
      const w = createWorkspace(p, 'Team', { now: Date.now() });
      return refusal((await client(p)).appendLog(w.workspaceId, w.root, t.token));
    }));
    expect(results.filter((r) => r === 'accepted')).toHaveLength(1);
    expect(results.filter((r) => r.startsWith('admission_refused'))).toHaveLength(3);
  });

  it('keys: only allowlisted devices create workspaces; their workspaces then take members as usual', async () => {
    await start('keys');
    const alice = device('alice');
    const mallory = device('mallory');
    const wm = createWorkspace(mallory, 'Spam', { now: Date.now() });
    expect(await refusal((await client(mallory)).appendLog(wm.workspaceId, wm.root, 'cst_anything'))).toMatch(
      new RegExp(`^admission_refused: .*cloister relay allow ${mallory.deviceId}`),
    );
    await store.allowDevice(alice.deviceId, Date.now());
    const a = await client(alice);
    const w = createWorkspace(alice, 'Team', { now: Date.now() });
    expect((await a.appendLog(w.workspaceId, w.root)).index).toBe(0);
    const inv = createInvitation(w.state, alice, w.epochKey, { role: 'writer', expiresAt: Date.now() + HOUR, now: Date.now() });
    expect((await a.appendLog(w.workspaceId, inv.entry.bytes)).index).toBe(1);
    await store.disallowDevice(alice.deviceId);
    const w2 = createWorkspace(alice, 'Team 2', { now: Date.now() });
    expect(await refusal(a.appendLog(w2.workspaceId, w2.root))).toMatch(/^admission_refused/);
  });
});
