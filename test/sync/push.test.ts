// Pushing: envelopes go out pipelined (many in flight before the first ack), and a burst beyond the
// relay's rate limit is pushed in rounds within one pass, with nothing lost or quarantined.
import { WebSocket } from 'ws';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupDirs, createStoredWorkspace, makeUser, open, tempDir } from './helpers.ts';
import { pino } from 'pino';
import { join } from 'node:path';
import { startRelay } from '../../relay/server.ts';
import { SqliteStore } from '../../relay/store/SqliteStore.ts';
import { integrationTimeouts } from '../timeouts.ts';

integrationTimeouts();

afterAll(cleanupDirs);

/** Counts frames sent and received, and the most requests ever outstanding. */
function countingSocket() {
  const c = { sent: 0, received: 0, maxAhead: 0 };
  class Counting extends WebSocket {
    constructor(url: string) {
      super(url);
      this.addEventListener('message', () => void c.received++);
    }
    override send(data: Parameters<WebSocket['send']>[0]): void {
      c.sent++;
      c.maxAhead = Math.max(c.maxAhead, c.sent - c.received);
      super.send(data);
    }
  }
  return { c, Ctor: Counting };
}

async function relayWith(limits: { pushBurst: number; pushPerSecond: number }) {
  return startRelay({ store: new SqliteStore(join(tempDir(), 'relay.sqlite')), port: 0, logger: pino({ level: 'silent' }), limits });
}

describe('pushing the outbox', () => {
  it('is pipelined: many envelopes are in flight before the first ack', async () => {
    const relay = await relayWith({ pushBurst: 2000, pushPerSecond: 1000 });
    const alice = await makeUser('alice');
    createStoredWorkspace(alice, 'p', relay.url);
    const { c, Ctor } = countingSocket();
    const a = await open(alice, relay.url, { WebSocketImpl: Ctor as never });
    try {
      await a.engine.syncOnce();
      for (let i = 0; i < 40; i++) await a.s.records.create({ title: `r${i}` }); // 80 envelopes (record + index)
      const before = c.maxAhead;
      const s = await a.engine.syncOnce();
      expect(s.acked).toBe(80);
      expect(before).toBeLessThan(5);
      expect(c.maxAhead).toBeGreaterThan(20);
    } finally {
      await a.close();
      await relay.close();
    }
  });

  it('a burst beyond the rate limit is retried in rounds within one pass: nothing lost, nothing quarantined', async () => {
    const relay = await relayWith({ pushBurst: 10, pushPerSecond: 40 });
    const alice = await makeUser('alice');
    createStoredWorkspace(alice, 'p', relay.url);
    const a = await open(alice, relay.url);
    try {
      await a.engine.syncOnce();
      for (let i = 0; i < 15; i++) await a.s.records.create({ title: `r${i}` }); // 30 envelopes
      const s = await a.engine.syncOnce();
      expect(s.acked).toBe(30);
      expect(s.outbox).toBe(0);
      expect(s.rejected).toEqual({});
      expect(await a.s.session.quarantine.list()).toEqual([]);
    } finally {
      await a.close();
      await relay.close();
    }
  });
});
