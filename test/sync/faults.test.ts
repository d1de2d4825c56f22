// No lost edits under faults. Alice, bob and carol sync through a real relay process behind a
// WebSocket proxy that injects faults: connections cut after a random number of frames (mid-push),
// duplicated client frames, the relay killed (SIGKILL) after storing pushes but before the client saw
// the acks and restarted on the same SQLite file, and a client process killed mid-burst. After each
// fault stops, everyone syncs until quiet: every edit whose update() call resolved is in every peer's
// record, and all peers have the same heads. Seeded: CLOISTER_FAULT_SEED=<n> replays a run.
import * as A from '@automerge/automerge';
import { spawn } from 'node:child_process';
import { join as pathJoin } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { peek } from '../relay/mitm.ts';
import type { SyncSummary } from '../../src/docs/sync/SyncEngine.ts';
import { startFaultProxy, type FaultProxy } from './faultProxy.ts';
import { cleanupDirs, createStoredWorkspace, invite, join, makeUser, open, spawnRelay, tempDir, type Open, type User } from './helpers.ts';
import { mulberry32 } from '../../src/cli/sim/rng.ts';
import { integrationTimeouts } from '../timeouts.ts';

integrationTimeouts();

const SEED = Number(process.env.CLOISTER_FAULT_SEED ?? 20261127);
console.log(`faults.test seed ${SEED} (replay with CLOISTER_FAULT_SEED=${SEED})`);

/** mulberry32 (src/cli/sim/rng.ts): a seeded generator, so an order can be replayed from the printed seed. */
const rng = mulberry32;
const random = rng(SEED);
const between = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));

const ENGINE = { timeoutMs: 5_000 };
let relay: Awaited<ReturnType<typeof spawnRelay>>;
let dbPath: string;
let proxy: FaultProxy;
let alice: User, bob: User, carol: User;
let a: Open, b: Open;
let recordId: string;
/** Keys of every field set by an update() call that resolved. */
const accepted = new Set<string>();

async function edit(o: Open, key: string): Promise<void> {
  await o.s.records.update(recordId, { fields: { [key]: 'v' } });
  accepted.add(key);
}

const quiet = (s: SyncSummary) => s.acked + s.duplicates + s.applied + s.logReceived + s.logSent === 0 && s.outbox === 0;

/** Faults off; sync every peer in turn until a whole round is quiet. Returns the first round's summaries. */
async function settle(peers: Open[]): Promise<SyncSummary[]> {
  proxy.faults = { duplicate: 0 };
  let first: SyncSummary[] | undefined;
  for (let round = 0; round < 10; round++) {
    const sums: SyncSummary[] = [];
    for (const p of peers) sums.push(await p.engine.syncOnce());
    first ??= sums;
    if (sums.every(quiet)) return first;
  }
  throw new Error('peers did not go quiet');
}

async function expectConverged(peers: Open[]): Promise<void> {
  const heads: string[][] = [];
  for (const p of peers) {
    const rec = await p.s.records.get(recordId);
    const missing = [...accepted].filter(k => rec?.fields[k] !== 'v');
    expect(missing, `peer ${peers.indexOf(p)} misses accepted edits`).toEqual([]);
    const h = await p.s.session.open<unknown>(recordId);
    heads.push([...A.getHeads(h!.doc())].sort());
  }
  for (const h of heads) expect(h).toEqual(heads[0]);
}

/** Sync passes while faults are on: failures are the point, so they are counted, not thrown. */
async function faultyPasses(peers: Open[], rounds: number): Promise<number> {
  let failed = 0;
  for (let i = 0; i < rounds; i++)
    for (const p of peers) await p.engine.syncOnce().catch(() => failed++);
  return failed;
}

beforeAll(async () => {
  dbPath = pathJoin(tempDir('cloister-relaydb-'), 'relay.sqlite');
  relay = await spawnRelay(dbPath);
  proxy = await startFaultProxy(relay.url, random);
  [alice, bob, carol] = await Promise.all([makeUser('alice'), makeUser('bob'), makeUser('carol')]);
  const ws = createStoredWorkspace(alice, 'faults', proxy.url);
  const bobCode = invite(alice, ws, 'writer');
  const carolCode = invite(alice, ws, 'writer');
  a = await open(alice, proxy.url, ENGINE);
  await a.engine.syncOnce();
  await join(bob, bobCode, proxy.url);
  await join(carol, carolCode, proxy.url);
  b = await open(bob, proxy.url, ENGINE);
  recordId = await a.s.records.create({ title: 'shared', fields: {} });
  await a.engine.syncOnce();
  await b.engine.syncOnce();
  const c = await open(carol, proxy.url, ENGINE);
  await c.engine.syncOnce();
  await c.close();
});

afterAll(async () => {
  console.log(`faults.test proxy stats (seed ${SEED}): ${JSON.stringify(proxy?.stats)}`);
  await a?.close().catch(() => undefined);
  await b?.close().catch(() => undefined);
  await proxy?.close();
  await relay?.stop();
  cleanupDirs();
});

describe(`no accepted edit is lost under faults (seed ${SEED})`, () => {
  it('connections cut after a random number of frames, mid-push: later passes re-send, nothing is lost', async () => {
    for (let i = 0; i < 15; i++) {
      await edit(a, `drop-a${i}`);
      await edit(b, `drop-b${i}`);
    }
    proxy.faults = { duplicate: 0, cutAfter: () => between(2, 14) };
    proxy.cutAll(); // connections open from before get no budget: start over
    const failed = await faultyPasses([a, b], 6);
    expect(proxy.stats.cut).toBeGreaterThan(0);
    expect(failed).toBeGreaterThan(0);
    await settle([a, b]);
    await expectConverged([a, b]);
  });

  it('client frames duplicated (pushes, pulls, everything): idempotent acks, nothing lost or applied twice', async () => {
    const before = proxy.stats.duplicated;
    proxy.faults = { duplicate: 0.4 };
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 5; i++) {
        await edit(a, `dup-a${round}-${i}`);
        await edit(b, `dup-b${round}-${i}`);
      }
      await faultyPasses([a, b], 1);
    }
    expect(proxy.stats.duplicated).toBeGreaterThan(before);
    await settle([a, b]);
    await expectConverged([a, b]);
    const q = await a.s.session.quarantine.list();
    expect(q.filter(e => e.reason === 'seq_replay')).toEqual([]);
  });

  it('the relay is killed (SIGKILL) after storing pushes but before alice sees the acks, and restarts on the same file', async () => {
    const n = between(8, 16);
    for (let i = 0; i < n; i++) await edit(a, `restart-a${i}`);
    const withheldBefore = proxy.stats.withheld;
    proxy.faults = { duplicate: 0, withhold: m => peek(m)?.t === 'push_ack' };
    const pass = a.engine.syncOnce().then(() => 'finished', (e: unknown) => e);
    const deadline = Date.now() + 15_000;
    while (proxy.stats.withheld - withheldBefore < n && Date.now() < deadline) await new Promise(r => setTimeout(r, 20));
    expect(proxy.stats.withheld - withheldBefore).toBe(n); // the relay stored and acked every push; alice saw none
    const exited = new Promise(r => relay.proc.once('exit', r));
    relay.proc.kill('SIGKILL');
    await exited;
    expect(await pass).toBeInstanceOf(Error);
    expect((await a.s.session.outbox.pending()).length).toBeGreaterThanOrEqual(n);

    relay = await spawnRelay(dbPath);
    proxy.upstream = relay.url;
    const [first] = await settle([a, b]);
    expect(first!.duplicates).toBe(n); // the restarted relay still had them all
    await expectConverged([a, b]);
  });

  it('carol\'s client process is killed (SIGKILL) mid-burst of live-synced edits; reopened, it delivers every edit whose call resolved', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', pathJoin(import.meta.dirname, 'faultClientChild.ts'), carol.home, 'carol password', proxy.url, recordId, 'crash-c'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const killAt = between(15, 40);
    const exited = new Promise<NodeJS.Signals | null>(r => child.on('exit', (_c, sig) => r(sig)));
    let buf = '';
    let acked = 0;
    await new Promise<void>(resolve => {
      child.stdout!.on('data', (d: Buffer) => {
        buf += d.toString();
        const lines = buf.split('\n');
        buf = lines.pop()!;
        for (const l of lines) {
          if (!l.startsWith('acked ')) continue;
          accepted.add(l.slice(6));
          if (++acked === killAt) {
            child.kill('SIGKILL');
            resolve();
          }
        }
      });
      child.on('exit', () => resolve());
    });
    // Alice and bob keep editing meanwhile, with duplicated frames on the wire.
    proxy.faults = { duplicate: 0.2 };
    for (let i = 0; i < 5; i++) await edit(a, `crash-a${i}`);
    expect(await exited).toBe('SIGKILL');
    expect(acked).toBe(killAt);

    const c = await open(carol, proxy.url, ENGINE);
    try {
      await settle([c, a, b]);
      await expectConverged([a, b, c]);
    } finally {
      await c.close();
    }
  });
});
