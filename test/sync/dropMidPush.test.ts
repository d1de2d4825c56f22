// A connection that drops in the middle of a pipelined push loses nothing: the pass fails, the next
// pass reconnects and re-sends what was not acknowledged (the relay answers stored ones as
// duplicates), and the other device ends up with every edit.
import { WebSocket } from 'ws';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupDirs, createStoredWorkspace, invite, join, makeUser, open, startTestRelay } from './helpers.ts';
import { integrationTimeouts } from '../timeouts.ts';

integrationTimeouts();

afterAll(cleanupDirs);

describe('faults around pushing', () => {
  it('a connection dropped mid-push: the next pass re-sends, nothing is lost', async () => {
    const relay = await startTestRelay();
    const [alice, bob] = await Promise.all([makeUser('alice'), makeUser('bob')]);
    const ws = createStoredWorkspace(alice, 'faulty', relay.url);
    const code = invite(alice, ws, 'writer');
    let dropAfter = Infinity;
    class Dropping extends WebSocket {
      sent = 0;
      override send(data: Parameters<WebSocket['send']>[0]): void {
        if (++this.sent > dropAfter) {
          this.terminate(); // the network goes away with requests in flight
          return;
        }
        super.send(data);
      }
    }
    const a = await open(alice, relay.url, { WebSocketImpl: Dropping as never });
    try {
      await a.engine.syncOnce();
      await join(bob, code, relay.url);
      const ids: string[] = [];
      for (let i = 0; i < 30; i++) ids.push(await a.s.records.create({ title: `note ${i}` }));
      dropAfter = 20; // counted per connection: auth, log, ping ... then part of the pushes
      await a.engine.stop(); // a fresh connection, so the count starts now
      const failed = await a.engine.syncOnce().catch((e: unknown) => e);
      expect(failed).toBeInstanceOf(Error);
      const left = (await a.s.session.outbox.pending()).length;
      expect(left).toBeGreaterThan(0);
      dropAfter = Infinity;
      const s = await a.engine.syncOnce();
      expect(s.outbox).toBe(0);
      expect(s.acked + s.duplicates).toBe(left);
      const b = await open(bob);
      try {
        await b.engine.syncOnce();
        const titles = (await b.s.records.list()).map(r => r.title).sort();
        expect(titles).toEqual(ids.map((_, i) => `note ${i}`).sort());
      } finally {
        await b.close();
      }
    } finally {
      await a.close();
      await relay.close();
    }
  });
});
