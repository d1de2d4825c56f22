// Abuse against a relay in its own process (issue 11): each case reads the relay's RSS before and
// after (/proc/PID/status) and probes /healthz from a worker thread throughout (so the attacking
// clients in this process cannot slow the probe). Limits are small so the cases stay short; the same
// code paths run with the documented defaults (docs/RELAY.md → Limits).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { randomBytes } from '../../src/crypto/bytes.ts';
import { RelayClient } from '../../src/docs/sync/relayClient.ts';
import { signChallenge } from '../../src/protocol/challenge.ts';
import { decodeRelayMessage, encodeMessage, type ClientMessageInput } from '../../src/protocol/messages.ts';
import type { RelayLimits } from '../../relay/context.ts';
import type { RunningRelay } from '../../relay/server.ts';
import type { DeviceKeys } from '../../src/identity/workspace/signEntry.ts';
import { createWorkspace } from '../../src/identity/workspace/createWorkspace.ts';
import { device, envelope, leaseIdOf, publishWorkspace } from './helpers.ts';
import { integrationTimeouts } from '../timeouts.ts';

integrationTimeouts();

const MiB = 1024 * 1024;
const LIMITS: Partial<RelayLimits> = {
  pushBurst: 50, pushPerSecond: 20,
  pullBurst: 6000, pullPerSecond: 100,
  maxQueuedFrames: 8192,
  maxBufferedBytes: 8 * MiB,
  maxConnectionsPerDevice: 4,
  maxConnectionsPerAddress: 64,
  frameDeadlineMs: 2000,
  authTimeoutMs: 3000,
  idleTimeoutMs: 5000,
};

interface Child { url: string; httpUrl: string; proc: ChildProcess; dir: string }

async function startChild(admission?: 'token'): Promise<Child> {
  const dir = mkdtempSync(join(tmpdir(), 'cloister-abuse-'));
  const proc = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'fixtures/abuseRelay.ts'), join(dir, 'relay.sqlite'), JSON.stringify(LIMITS), ...(admission ? [admission] : [])], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^(ws:\/\/\S+)\n/.exec(out);
      if (m) resolve(m[1]!);
    });
    proc.once('exit', (code) => reject(new Error(`relay exited ${code}`)));
  });
  return { url, httpUrl: url.replace(/^ws/, 'http').replace(/\/$/, ''), proc, dir };
}

const rssMiB = (pid: number): number => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

async function openConnections(httpUrl: string): Promise<number> {
  const body = await (await fetch(`${httpUrl}/metrics`)).text();
  return Number(/^cloister_connections (\d+)/m.exec(body)![1]);
}

async function until(cond: () => Promise<boolean> | boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

// /healthz every 20 ms over a fresh connection each time, from its own thread.
const PROBE = `
const { parentPort, workerData } = require('node:worker_threads');
const http = require('node:http');
let max = 0, second = 0, n = 0, fails = 0, stop = false;
function once() {
  if (stop) return;
  const t = performance.now();
  const req = http.get(workerData + '/healthz', { agent: false }, (res) => {
    res.resume();
    res.on('end', () => { const d = performance.now() - t; if (d > max) { second = max; max = d; } else if (d > second) second = d; if (res.statusCode !== 200) fails++; n++; setTimeout(once, 20); });
  });
  req.setTimeout(5000, () => req.destroy(new Error('timeout')));
  req.on('error', () => { fails++; setTimeout(once, 20); });
}
parentPort.on('message', () => { stop = true; parentPort.postMessage({ max, second, n, fails }); });
once();
`;

function probe(httpUrl: string) {
  const w = new Worker(PROBE, { eval: true, workerData: httpUrl });
  return {
    async stop(): Promise<{ max: number; second: number; n: number; fails: number }> {
      const r = new Promise<{ max: number; second: number; n: number; fails: number }>((resolve) => w.once('message', resolve));
      w.postMessage('stop');
      const out = await r;
      await w.terminate();
      return out;
    },
  };
}

/** A WebSocket class that remembers its instances, to reach a RelayClient's socket. */
function capturingWebSocket() {
  const made: WebSocket[] = [];
  class Capturing extends WebSocket {
    constructor(...args: ConstructorParameters<typeof WebSocket>) {
      super(...args);
      made.push(this);
    }
  }
  return { made, WebSocket: Capturing };
}

async function client(url: string, d: DeviceKeys, workspaces: string[] = []) {
  const cap = capturingWebSocket();
  const c = await RelayClient.connect({ url, signingKey: d.signingKey, devicePub: d.signingPub, workspaces, WebSocket: cap.WebSocket as never });
  return { c, ws: cap.made[0]! };
}

/** An authenticated bare socket that counts frames instead of decoding them. */
async function authedRaw(url: string, d: DeviceKeys) {
  const ws = new WebSocket(url);
  let frames = 0;
  let hello: Uint8Array | undefined;
  const first = new Promise<void>((resolve, reject) => {
    ws.on('message', (data: Buffer) => {
      frames++;
      if (!hello) {
        const m = decodeRelayMessage(new Uint8Array(data));
        if (!m.ok || m.value.t !== 'hello') return reject(new Error('no hello'));
        hello = m.value.challenge;
        const auth: ClientMessageInput = {
          t: 'auth', id: 1, clientNonce: randomBytes(32), deviceId: d.deviceId, devicePub: d.signingPub, challenge: hello,
          signature: signChallenge(d.signingKey, d.signingPub, hello), workspaces: [],
        };
        ws.send(encodeMessage(auth));
      } else if (frames === 2) resolve();
    });
    ws.on('error', reject);
  });
  const closed = new Promise<number>((r) => ws.on('close', (code) => r(code)));
  await first;
  return { ws, frames: () => frames, closed };
}

const measured: Record<string, { rssBefore: number; rssPeak: number; rssAfter: number; healthzMaxMs: number; healthzSecondMs: number; probes: number }> = {};

describe('relay abuse (child process: RSS and /healthz)', () => {
  let r: Child;
  let alice: DeviceKeys;
  let workspaceId: string;

  /** Run `attack` with /healthz probed throughout; returns RSS before/peak/after (MiB) and the worst /healthz time. */
  async function measure(name: string, attack: (peak: () => void) => Promise<void>) {
    await until(async () => (await openConnections(r.httpUrl)) === 0, 10_000, 'no connections before');
    const rssBefore = rssMiB(r.proc.pid!);
    let rssPeak = rssBefore;
    const peak = () => void (rssPeak = Math.max(rssPeak, rssMiB(r.proc.pid!)));
    const sampler = setInterval(peak, 100);
    const p = probe(r.httpUrl);
    try {
      await attack(peak);
      await until(async () => (await openConnections(r.httpUrl)) === 0, 15_000, 'all attack connections closed');
    } finally {
      clearInterval(sampler);
    }
    const h = await p.stop();
    const rssAfter = rssMiB(r.proc.pid!);
    const m = { rssBefore: Math.round(rssBefore), rssPeak: Math.round(rssPeak), rssAfter: Math.round(rssAfter), healthzMaxMs: Math.round(h.max), healthzSecondMs: Math.round(h.second), probes: h.n };
    measured[name] = m;
    console.log(`abuse ${name}: ${JSON.stringify(m)}`);
    expect(h.fails).toBe(0);
    expect(h.n).toBeGreaterThan(3);
    // Every probe but the single worst answers within 250 ms; the worst within 500 ms. On this 2-core
    // machine the attacker, the probe and the relay share the cores, and one probe can land on a
    // major GC pause of the relay (seen: one probe of ~200 in an occasional run, at the close burst;
    // a second-worst of 106 ms on a CI run with other work on the machine). Starved, it would be seconds.
    expect(h.second).toBeLessThan(250);
    expect(h.max).toBeLessThan(500);
    return m;
  }

  beforeAll(async () => {
    r = await startChild();
    alice = device('alice');
    const w = await publishWorkspace({ url: r.url } as RunningRelay, alice);
    workspaceId = w.workspaceId;
    // 16 envelopes of 200 KB: a pull of them is a 3.2 MB reply.
    const { c } = await client(r.url, alice, [workspaceId]);
    const leaseId = leaseIdOf(c, workspaceId);
    for (let seq = 1; seq <= 16; seq++)
      expect(await c.push(envelope(alice, { workspaceId, seq, leaseId, plaintext: new Uint8Array(200_000).fill(seq) }))).toMatchObject({ status: 'acked' });
    c.close();
  });

  afterAll(async () => {
    if (r) {
      const exited = new Promise((res) => r.proc.once('exit', res));
      r.proc.kill('SIGTERM');
      await exited;
      rmSync(r.dir, { recursive: true, force: true });
    }
    console.log(`abuse summary (MiB, ms): ${JSON.stringify(measured)}`);
  });

  it('non-reading connections: closed at 8 MiB queued; a fifth connection of the device is refused', async () => {
    const m = await measure('non-reading', async (peak) => {
      const readers = await Promise.all([0, 1, 2, 3].map(() => client(r.url, alice, [workspaceId])));
      await expect(client(r.url, alice)).rejects.toThrow(); // per-device cap of 4
      for (const { ws } of readers) (ws as unknown as { _socket: { pause(): void } })._socket.pause();
      // Each asks for 200 × 400 KB without reading a byte. (Replies are kept small: the relay signs each
      // whole reply, and a 4 MB one takes longer than 100 ms to sign on its own.)
      const pulls = readers.flatMap(({ c }) => Array.from({ length: 200 }, () => c.pull(workspaceId, 0, 2).catch(() => undefined)));
      await until(async () => {
        peak();
        return (await openConnections(r.httpUrl)) === 0;
      }, 15_000, 'non-readers closed');
      for (const { c, ws } of readers) {
        c.close();
        ws.terminate();
      }
      await Promise.all(pulls);
    });
    // 4 connections × (8 MiB queued + one reply) plus heap growth the allocator keeps; unbounded it
    // was ~63 MiB per connection (+290 MiB for four in the review) and stayed.
    expect(m.rssPeak - m.rssBefore).toBeLessThan(128);
    expect(m.rssAfter - m.rssBefore).toBeLessThan(128);
  });

  it('half-sent frames: 30 connections with 900 KB of a 1 MB frame are closed at the 2 s deadline', async () => {
    const start = Date.now();
    const m = await measure('half-sent', async (peak) => {
      const socks = await Promise.all(Array.from({ length: 30 }, () => client(r.url, device('mallory'))));
      const header = Buffer.alloc(14);
      header[0] = 0x82; // FIN, binary
      header[1] = 0x80 | 127; // masked, 64-bit length
      header.writeBigUInt64BE(1_000_000n, 2);
      randomBytes(4).forEach((b, i) => (header[10 + i] = b));
      const part = Buffer.alloc(900_000, 7);
      for (const { ws } of socks) (ws as unknown as { _socket: { write(b: Buffer): void } })._socket.write(Buffer.concat([header, part]));
      await new Promise((res) => setTimeout(res, 1000));
      peak();
      await until(async () => (await openConnections(r.httpUrl)) === 0, 10_000, 'half-sent frames dropped');
      for (const { ws } of socks) ws.terminate();
    });
    expect(Date.now() - start).toBeLessThan(12_000);
    expect(m.rssAfter - m.rssBefore).toBeLessThan(48); // 30 × 0.9 MB are let go
  });

  it('held-envelope flood: made-up lease ids under policy hold cost push tokens', async () => {
    let outcomes: Record<string, number> = {};
    const mallory = device('mallory');
    const w = await publishWorkspace({ url: r.url } as RunningRelay, mallory); // default policy: hold
    const envs = Array.from({ length: 150 }, (_, i) =>
      envelope(mallory, { workspaceId: w.workspaceId, seq: i + 1, leaseId: `made-up-${i}`, plaintext: new Uint8Array(28_000).fill(1) }));
    const m = await measure('held-flood', async () => {
      const { c } = await client(r.url, mallory);
      const t0 = Date.now();
      const res = await Promise.all(envs.map((e) => c.push(e)));
      const secs = (Date.now() - t0) / 1000;
      outcomes = {};
      for (const x of res) {
        const k = x.status === 'rejected' ? x.reason : x.status;
        outcomes[k] = (outcomes[k] ?? 0) + 1;
      }
      // burst 50, then 20 a second (and a gap behind the first refusal)
      expect((outcomes.held ?? 0)).toBeLessThanOrEqual(50 + Math.ceil(secs * 20) + 1);
      expect(outcomes.rate_limited ?? 0).toBeGreaterThan(0);
      c.close();
    });
    console.log(`held-flood outcomes: ${JSON.stringify(outcomes)}`);
    expect(m.rssAfter - m.rssBefore).toBeLessThan(32);
  });

  it('bad-signature flood: 1,000 pushes of 60 KB are charged before they are verified', async () => {
    let outcomes: Record<string, number> = {};
    const eve = device('eve');
    const forged = Array.from({ length: 1000 }, (_, i) =>
      envelope(alice, { workspaceId, seq: 17 + i, leaseId: 'any', signer: eve, plaintext: new Uint8Array(60_000).fill(2) }));
    const m = await measure('bad-signature', async () => {
      const { c } = await client(r.url, alice, [workspaceId]);
      const t0 = Date.now();
      outcomes = {};
      for (let i = 0; i < forged.length; i += 100) {
        const res = await Promise.all(forged.slice(i, i + 100).map((e) => c.push(e)));
        for (const x of res) {
          const k = x.status === 'rejected' ? x.reason : x.status;
          outcomes[k] = (outcomes[k] ?? 0) + 1;
        }
      }
      const secs = (Date.now() - t0) / 1000;
      expect(outcomes.bad_signature ?? 0).toBeLessThanOrEqual(50 + Math.ceil(secs * 20) + 1);
      expect((outcomes.bad_signature ?? 0) + (outcomes.rate_limited ?? 0)).toBe(1000);
      c.close();
    });
    console.log(`bad-signature outcomes: ${JSON.stringify(outcomes)}`);
    expect(m.rssAfter - m.rssBefore).toBeLessThan(48);
  });

  it('a 5,000-request pipeline on one connection: /healthz and another connection stay prompt', async () => {
    let worstPing = 0;
    const m = await measure('pipeline-5000', async () => {
      const bob = device('bob');
      const other = await client(r.url, bob);
      const p = await authedRaw(r.url, alice);
      const frames = Array.from({ length: 5000 }, (_, i) => encodeMessage({ t: 'pull', id: 10 + i, workspaceId, cursor: 16, limit: 1 }));
      for (const f of frames) p.ws.send(f);
      const done = until(() => p.frames() >= 2 + 5000, 60_000, '5,000 replies');
      let finished = false;
      void done.then(() => (finished = true), () => undefined);
      while (!finished) {
        const t = performance.now();
        await other.c.ping();
        worstPing = Math.max(worstPing, performance.now() - t);
        await new Promise((res) => setTimeout(res, 20));
      }
      await done;
      other.c.close();
      p.ws.close();
    });
    console.log(`pipeline-5000: worst ping from another connection ${Math.round(worstPing)} ms`);
    expect(worstPing).toBeLessThan(250); // measured from this (busy) process: an upper bound
    expect(m.rssAfter - m.rssBefore).toBeLessThan(48);
  });

  it('500 unauthenticated connections from 10 loopback addresses: capped per address, closed at the auth timeout', async () => {
    let refused = 0;
    const m = await measure('unauthenticated-500', async (peak) => {
      const open = (i: number, addr: string) =>
        new Promise<{ ws: WebSocket; code: Promise<number> }>((resolve) => {
          const ws = new WebSocket(r.url, { localAddress: addr });
          const code = new Promise<number>((res) => ws.on('close', (c) => res(c)));
          ws.on('error', () => undefined);
          ws.on('open', () => resolve({ ws, code }));
          void code.then(() => resolve({ ws, code }));
          void i;
        });
      const addrs = Array.from({ length: 10 }, (_, i) => `127.0.0.${i + 2}`);
      const socks = await Promise.all(Array.from({ length: 500 }, (_, i) => open(i, addrs[i % 10]!)));
      // 20 more from one address: 50 + 20 > 64, so 6 are refused with 1013.
      const extra = await Promise.all(Array.from({ length: 20 }, (_, i) => open(i, addrs[0]!)));
      peak();
      const codes = await Promise.all([...socks, ...extra].map((s) => s.code));
      refused = codes.filter((c) => c === 1013).length;
      expect(refused).toBe(6);
      expect(codes.filter((c) => c === 4001).length).toBe(514); // authentication timeout
    });
    expect(m.rssAfter - m.rssBefore).toBeLessThan(48);
  });

  it('workspace creation under token: 300 attempts without a token or with a made-up one are refused and store nothing', async () => {
    const main = r;
    r = await startChild('token');
    try {
      const outcomes: Record<string, number> = {};
      const m = await measure('creation-under-token', async (peak) => {
        const now = Date.now();
        await Promise.all(Array.from({ length: 10 }, async (_, k) => {
          const d = device(`eve${k}`);
          const { c } = await client(r.url, d);
          for (let i = 0; i < 30; i++) {
            const created = createWorkspace(d, `spam ${k}.${i}`, { now });
            const code = await c.appendLog(created.workspaceId, created.root, i % 2 ? 'cst_madeup' : undefined).then(
              () => 'stored',
              (e: unknown) => (e as { code?: string }).code ?? 'error',
            );
            outcomes[code] = (outcomes[code] ?? 0) + 1;
          }
          peak();
          c.close();
        }));
      });
      expect(outcomes).toEqual({ admission_required: 150, admission_refused: 150 });
      const metrics = await (await fetch(`${r.httpUrl}/metrics`)).text();
      expect(/^cloister_storage_workspaces (\d+)/m.exec(metrics)?.[1]).toBe('0');
      expect(m.rssAfter - m.rssBefore).toBeLessThan(32);
    } finally {
      const exited = new Promise((res) => r.proc.once('exit', res));
      r.proc.kill('SIGTERM');
      await exited;
      rmSync(r.dir, { recursive: true, force: true });
      r = main;
    }
  });

  it('an authenticated connection that sends nothing is closed as idle (4002)', async () => {
    const p = await authedRaw(r.url, device('dora'));
    const t0 = Date.now();
    expect(await p.closed).toBe(4002);
    expect(Date.now() - t0).toBeGreaterThan(4000);
  });
});
