// Long-running mode: edits flow live between two started engines, and after the relay restarts
// (same store, same port) both reconnect with backoff and carry on without losing an edit.
import { join as pathJoin } from 'node:path';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { startRelay } from '../../relay/server.ts';
import { SqliteStore } from '../../relay/store/SqliteStore.ts';
import { cleanupDirs, createStoredWorkspace, invite, join, makeUser, open, tempDir } from './helpers.ts';
import { integrationTimeouts } from '../timeouts.ts';

integrationTimeouts();

afterAll(cleanupDirs);

async function until(what: string, fn: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn()) return;
    await new Promise(r => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('long-running sync', () => {
  it('edits arrive live, and both devices reconnect after a relay restart without losing edits', async () => {
    const db = pathJoin(tempDir('cloister-relaydb-'), 'relay.sqlite');
    const quiet = pino({ level: 'silent' });
    let relay = await startRelay({ store: new SqliteStore(db), port: 0, logger: quiet });
    const port = relay.port;
    const [alice, bob] = await Promise.all([makeUser('alice'), makeUser('bob')]);
    const ws = createStoredWorkspace(alice, 'live', relay.url);
    const code = invite(alice, ws, 'writer');
    const fastBackoff = { backoff: { baseMs: 50, maxMs: 400 } };
    const a = await open(alice, relay.url, fastBackoff);
    const errors: Error[] = [];
    try {
      await a.engine.syncOnce();
      await join(bob, code, relay.url);
      const b = await open(bob, relay.url, fastBackoff);
      try {
        a.engine.on('error', e => errors.push(e));
        a.engine.start();
        b.engine.start();
        const id = await a.s.records.create({ title: 'live one' });
        await until('bob sees the record', async () => (await b.s.records.get(id))?.title === 'live one');
        await b.s.records.update(id, { notes: 'typed by bob' });
        await until('alice sees bob', async () => (await a.s.records.get(id))?.notes === 'typed by bob');

        let reconnects = 0;
        a.engine.on('connected', () => reconnects++);
        await relay.close();
        await a.s.records.update(id, { fields: { during: 'outage' } }); // sits in the outbox
        relay = await startRelay({ store: new SqliteStore(db), port, logger: quiet });
        await until('bob sees the edit made during the outage', async () => (await b.s.records.get(id))?.fields.during === 'outage');
        expect(reconnects).toBeGreaterThanOrEqual(1);
        await until('alice outbox drained', async () => (await a.s.session.outbox.pending()).length === 0);
        await b.engine.stop();
        expect(((await b.s.syncState.load()).relayCursor)).toBeGreaterThan(0);
      } finally {
        await b.close();
      }
    } finally {
      await a.close();
      await relay.close();
    }
  });
});

describe('long-running sync next to other processes', () => {
  it('pushes envelopes another session of the same profile sealed into the outbox', async () => {
    const relay = await startRelay({ store: new SqliteStore(pathJoin(tempDir('cloister-relaydb-'), 'relay.sqlite')), port: 0, logger: pino({ level: 'silent' }) });
    const alice = await makeUser('alice');
    createStoredWorkspace(alice, 'poll', relay.url);
    const watcher = await open(alice, relay.url, { outboxPollMs: 100 });
    try {
      await watcher.engine.syncOnce();
      watcher.engine.start();
      const cli = await open(alice, relay.url); // like `cloister record add` in another terminal
      const id = await cli.s.records.create({ title: 'from another process' });
      await cli.s.close();
      await until('the watcher pushed it', async () => (await watcher.s.session.outbox.pending()).length === 0);
      expect(await watcher.s.session.outbox.pending()).toEqual([]); // acked by the relay
      expect(id).toBeTruthy();
    } finally {
      await watcher.close();
      await relay.close();
    }
  });
});

describe('long-running sync on a workspace the relay does not know yet', () => {
  it('a workspace created here and started live before its first sync still receives the others’ edits live', async () => {
    const relay = await startRelay({ store: new SqliteStore(pathJoin(tempDir('cloister-relaydb-'), 'relay.sqlite')), port: 0, logger: pino({ level: 'silent' }) });
    const [alice, bob] = await Promise.all([makeUser('alice'), makeUser('bob')]);
    const ws = createStoredWorkspace(alice, 'fresh', relay.url);
    const code = invite(alice, ws, 'writer'); // a pending intent, sent with the root by the first pass
    const a = await open(alice, relay.url);
    try {
      a.engine.start(); // its first subscription is refused (unknown_workspace): the root isn't published yet
      await until('the root and the invitation are published', async () => (await join(bob, code, relay.url).then(() => true, () => false)));
      const b = await open(bob, relay.url);
      try {
        await b.engine.syncOnce();
        const id = await b.s.records.create({ title: 'from bob' });
        await b.engine.syncOnce();
        await until('alice sees bob’s record without a sync of her own', async () => (await a.s.records.get(id))?.title === 'from bob');
      } finally {
        await b.close();
      }
    } finally {
      await a.close();
      await relay.close();
    }
  });
});
