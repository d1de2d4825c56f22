// Keepalive: the relay closes an authenticated connection that sends nothing for idleTimeoutMs (4002
// 'idle'). A started engine pings every keepaliveMs while connected, so its live subscription outlives
// the idle timeout on one connection; an engine with keepalive off is closed as idle (the control).
import { join as pathJoin } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { startRelay } from '../../relay/server.ts';
import { SqliteStore } from '../../relay/store/SqliteStore.ts';
import { cleanupDirs, createStoredWorkspace, invite, join, makeUser, open, tempDir } from './helpers.ts';
import { integrationTimeouts } from '../timeouts.ts';

integrationTimeouts();

afterAll(cleanupDirs);

const IDLE_MS = 600;

async function until(what: string, fn: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise(r => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('long-running sync keepalive', () => {
  it('a live connection that pings survives well past the relay idle timeout; one that does not is closed 4002', async () => {
    const db = pathJoin(tempDir('cloister-relaydb-'), 'relay.sqlite');
    const relay = await startRelay({ store: new SqliteStore(db), port: 0, logger: pino({ level: 'silent' }), limits: { idleTimeoutMs: IDLE_MS } });
    const [alice, bob] = await Promise.all([makeUser('alice'), makeUser('bob')]);
    const ws = createStoredWorkspace(alice, 'quiet', relay.url);
    const code = invite(alice, ws, 'writer');
    const a = await open(alice, relay.url, { keepaliveMs: 150, backoff: { baseMs: 50, maxMs: 200 } });
    try {
      await a.engine.syncOnce();
      await join(bob, code, relay.url);
      const b = await open(bob, relay.url, { keepaliveMs: 0, backoff: { baseMs: 50, maxMs: 200 } });
      try {
        // start() keeps the connection syncOnce() opened: any reconnect would show as 'connected'.
        const aDrops: (number | undefined)[] = [];
        const bDrops: (number | undefined)[] = [];
        let aConnects = 0;
        a.engine.on('connected', () => aConnects++);
        a.engine.on('disconnected', e => aDrops.push(e.code));
        b.engine.on('disconnected', e => bDrops.push(e.code));
        a.engine.start();
        b.engine.start();
        await until('both connected and synced', async () => (await b.s.syncState.load()).relayCursor !== undefined);
        await a.engine.settled();

        // Four idle timeouts with nothing to sync.
        await new Promise(r => setTimeout(r, IDLE_MS * 4));
        expect(bDrops).toContain(4002); // the control: no keepalive, closed as idle
        expect(aDrops).toEqual([]);
        expect(aConnects).toBe(0);

        // Still live on that same connection: bob's edit arrives without alice reconnecting.
        const id = await b.s.records.create({ title: 'after the quiet spell' });
        await until('alice sees bob live', async () => (await a.s.records.get(id))?.title === 'after the quiet spell');
        expect(aDrops).toEqual([]);
        expect(aConnects).toBe(0);
      } finally {
        await b.close();
      }
    } finally {
      await a.close();
      await relay.close();
    }
  });
});
