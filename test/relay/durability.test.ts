// What the relay keeps: every acknowledged envelope survives a graceful shutdown and restart, and
// the database holds ciphertext only (a grep for a known plaintext marker finds nothing).
import { mkdtempSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { utf8 } from '../../src/crypto/bytes.ts';
import { startRelay } from '../../relay/server.ts';
import { SqliteStore } from '../../relay/store/SqliteStore.ts';
import { connect, device, envelope, leaseIdOf, publishWorkspace, startTestRelay, type TestRelay } from './helpers.ts';
import { integrationTimeouts } from '../timeouts.ts';

integrationTimeouts();

describe('relay durability and confidentiality', () => {
  let t: TestRelay | undefined;
  afterEach(async () => {
    await t?.stop();
    t = undefined;
  });

  it('graceful shutdown keeps every acknowledged envelope (restart on the same file and pull)', async () => {
    t = await startTestRelay();
    const alice = device('alice');
    const w = await publishWorkspace(t.relay, alice);
    const a = await connect(t.relay, alice, [w.workspaceId]);
    const leaseId = leaseIdOf(a, w.workspaceId);
    const envs = Array.from({ length: 60 }, (_, i) => envelope(alice, { workspaceId: w.workspaceId, docId: `doc-${i % 3}`, seq: Math.floor(i / 3) + 1, leaseId }));
    const acked = new Map<number, Uint8Array>();
    const pushes = envs.map((e) => a.push(e).then((r) => {
      if (r.status === 'acked') acked.set(r.relaySeq, e);
    }, () => undefined));
    await new Promise((r) => setTimeout(r, 5)); // let some pushes land, then shut down mid-stream
    const closing = t.relay.close();
    await Promise.all(pushes);
    await closing;
    expect(acked.size).toBeGreaterThan(0);

    await t.restart();
    const b = await connect(t.relay, alice, [w.workspaceId]);
    const stored = new Map<number, Uint8Array>();
    for (let cursor = 0, more = true; more; ) {
      const p = await b.pull(w.workspaceId, cursor, 7, true);
      for (const e of p.envelopes) stored.set(e.relaySeq, e.envelope);
      cursor = p.nextCursor;
      more = p.more;
    }
    for (const [seq, bytes] of acked) expect(stored.get(seq)).toEqual(bytes);
    // Whatever was not acknowledged can be re-sent: identical ones are acked idempotently.
    for (const e of envs) expect((await b.push(e)).status).toBe('acked');
    b.close();
  });

  it('the SQLite file contains no record plaintext', async () => {
    t = await startTestRelay();
    const alice = device('alice');
    const bob = device('bob');
    const w = await publishWorkspace(t.relay, alice, [{ d: bob, role: 'writer' }]);
    const a = await connect(t.relay, alice, [w.workspaceId]);
    const marker = 'CLOISTER-PLAINTEXT-MARKER-7f3a9c';
    const leaseId = leaseIdOf(a, w.workspaceId);
    for (let i = 1; i <= 20; i++) {
      const plaintext = utf8(`{"title":"${marker} #${i}","notes":"${marker.repeat(4)}"}`);
      expect(await a.push(envelope(alice, { workspaceId: w.workspaceId, seq: i, leaseId, epochKey: w.epochKey, plaintext }))).toMatchObject({ status: 'acked' });
    }
    a.close();
    await t.relay.close(); // closes the database (checkpoints the WAL)
    const files = readdirSync(t.dir).filter((f) => f.startsWith('relay.sqlite'));
    expect(files).toContain('relay.sqlite');
    let total = 0;
    for (const f of files) {
      const bytes = readFileSync(join(t.dir, f));
      total += bytes.length;
      expect(bytes.includes(Buffer.from(marker))).toBe(false);
      expect(bytes.includes(Buffer.from('PLAINTEXT-MARKER'))).toBe(false);
    }
    expect(total).toBeGreaterThan(20 * 100); // the envelopes are in there, as ciphertext
    await t.restart();
  });

  it('serves /healthz, /metrics and the web build, and nothing outside it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cloister-web-'));
    mkdirSync(join(dir, 'dist', 'assets'), { recursive: true });
    writeFileSync(join(dir, 'dist', 'index.html'), '<!doctype html><title>Cloister</title>');
    writeFileSync(join(dir, 'dist', 'assets', 'app.js'), 'console.log(1)');
    writeFileSync(join(dir, 'secret.txt'), 'do not serve');
    const relay = await startRelay({ store: new SqliteStore(join(dir, 'r.sqlite')), port: 0, webRoot: join(dir, 'dist'), logger: pino({ level: 'silent' }) });
    try {
      const h = await fetch(`${relay.httpUrl}/healthz`);
      expect(h.status).toBe(200);
      expect(await h.json()).toMatchObject({ status: 'ok', relayId: relay.relayId });
      const m = await (await fetch(`${relay.httpUrl}/metrics`)).text();
      for (const name of ['cloister_envelopes_accepted_total', 'cloister_envelopes_rejected_total', 'cloister_connections', 'cloister_bytes_in_total', 'cloister_bytes_out_total'])
        expect(m).toContain(name);
      expect(await (await fetch(`${relay.httpUrl}/`)).text()).toContain('<title>Cloister</title>');
      const js = await fetch(`${relay.httpUrl}/assets/app.js`);
      expect(js.headers.get('content-type')).toContain('javascript');
      expect(await (await fetch(`${relay.httpUrl}/records/abc`)).text()).toContain('<title>Cloister</title>'); // SPA route
      expect((await fetch(`${relay.httpUrl}/assets/missing.js`)).status).toBe(404);
      expect((await fetch(`${relay.httpUrl}/..%2fsecret.txt`)).status).toBe(404);
      expect(await (await fetch(`${relay.httpUrl}/%2e%2e/secret.txt`)).text()).not.toContain('do not serve');
    } finally {
      await relay.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
