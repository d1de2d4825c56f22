// The client side of admission and quotas: a workspace created with a signup token (what
// `cloister workspace create --signup-token` stores) is published by its first sync on a relay with
// --admission token, and refused without one; a push refused for the quota stays in the outbox
// (retried later), not quarantined.
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { mintSignupToken } from '../../relay/admission.ts';
import { startRelay } from '../../relay/server.ts';
import { SqliteStore } from '../../relay/store/SqliteStore.ts';
import { createWorkspace } from '../../src/identity/workspace/createWorkspace.ts';
import { saveWorkspace } from '../../src/identity/workspace/store.ts';
import { deviceKeysOfVault } from '../../src/docs/sync/nodeSyncSession.ts';
import { cleanupDirs, createStoredWorkspace, makeUser, open, tempDir, type User } from './helpers.ts';
import { integrationTimeouts } from '../timeouts.ts';

integrationTimeouts();
afterAll(cleanupDirs);

function storeWorkspace(u: User, relay: string, signupToken?: string): string {
  const ws = createWorkspace(deviceKeysOfVault(u.vault), 'Team', { now: Date.now() });
  saveWorkspace(u.home, u.vault.dataKey, {
    workspaceId: ws.workspaceId, entries: ws.entries, epochKeys: new Map([[0, ws.epochKey]]),
    meta: { relay, ...(signupToken ? { signupToken } : {}) },
  });
  return ws.workspaceId;
}

describe('admission and quotas, from a client', () => {
  it('the first sync sends the stored signup token with the root; without one the relay refuses to create the workspace', async () => {
    const store = new SqliteStore(join(tempDir(), 'relay.sqlite'));
    const relay = await startRelay({ store, port: 0, logger: pino({ level: 'silent' }), admission: 'token' });
    try {
      const { token } = await mintSignupToken(store, { uses: 1, now: Date.now() });
      const bob = await makeUser('bob');
      storeWorkspace(bob, relay.url);
      const b = await open(bob, relay.url);
      await expect(b.engine.syncOnce()).rejects.toThrow(/admission_required/);
      await b.close();

      const alice = await makeUser('alice');
      const w = storeWorkspace(alice, relay.url, token);
      const a = await open(alice, relay.url);
      await a.engine.syncOnce();
      expect(await store.listLogEntries(w)).toHaveLength(1);
      await a.s.records.create({ title: 'hello' });
      expect((await a.engine.syncOnce()).acked).toBeGreaterThan(0);
      await a.close();
    } finally {
      await relay.close();
    }
  });

  it('a push refused for the quota stays in the outbox, not quarantined', async () => {
    const store = new SqliteStore(join(tempDir(), 'relay.sqlite'));
    const relay = await startRelay({ store, port: 0, logger: pino({ level: 'silent' }), limits: { quotaBytes: 6000 } });
    try {
      const alice = await makeUser('alice');
      createStoredWorkspace(alice, 'q', relay.url);
      const a = await open(alice, relay.url);
      await a.engine.syncOnce();
      for (let i = 0; i < 20; i++) await a.s.records.create({ title: `r${i}`, notes: 'x'.repeat(300) });
      const s = await a.engine.syncOnce();
      expect(s.rejected).toEqual({});
      expect(s.outbox).toBeGreaterThan(0);
      expect(await (await fetch(`${relay.httpUrl}/metrics`)).text()).toMatch(/cloister_envelopes_rejected_total\{reason="quota_exceeded"\} [1-9]/);
      await a.close();
    } finally {
      await relay.close();
    }
  });
});
