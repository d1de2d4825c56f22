// Snapshots through a real relay (issue 13; docs/RELAY.md → Snapshots and pruning): snapshot_put is
// judged as a push is, covers must name stored envelopes, snapshot_list serves members only, and after
// the retention (the relay's injected clock) the envelopes a snapshot covers are pruned, except each
// device's newest; a late re-send of a pruned envelope is covered_by_snapshot, not seq_replay.
import { afterEach, describe, expect, it } from 'vitest';
import { seal } from '../../src/crypto/aead.ts';
import { randomBytes, utf8 } from '../../src/crypto/bytes.ts';
import { DOMAIN } from '../../src/crypto/domains.ts';
import type { DocumentKey } from '../../src/crypto/keys.ts';
import type { RelayClient } from '../../src/docs/sync/relayClient.ts';
import { revokeDevice } from '../../src/identity/workspace/devices.ts';
import { removeMember } from '../../src/identity/workspace/members.ts';
import type { DeviceKeys } from '../../src/identity/workspace/signEntry.ts';
import type { ReplyMessage } from '../../src/protocol/messages.ts';
import { SNAPSHOT_VERSION, encodeSnapshot, encodeSnapshotHeader, type SnapshotCover } from '../../src/protocol/snapshot.ts';
import { SqliteStore } from '../../relay/store/SqliteStore.ts';
import type { RelayLimits } from '../../relay/context.ts';
import {
  T0, apply, clock, connect, device, envelope, leaseIdOf, logPositionOf, publishWorkspace, startTestRelay, type TestRelay, until } from './helpers.ts';
import { integrationTimeouts } from '../timeouts.ts';

integrationTimeouts();

const DAY = 24 * 3600 * 1000;

interface SnapOpts {
  workspaceId: string;
  docId?: string;
  covers: SnapshotCover[];
  snapshotId?: Uint8Array;
  epoch?: number;
  logIndex?: number;
  logHead?: Uint8Array;
  signer?: DeviceKeys;
  body?: Uint8Array;
}

/** A snapshot by `d`, sealed under a random key (the relay never opens it) and signed by `signer` (default `d`). */
function snapshot(d: DeviceKeys, o: SnapOpts): Uint8Array {
  const headerBytes = encodeSnapshotHeader({
    version: SNAPSHOT_VERSION, workspaceId: o.workspaceId, docId: o.docId ?? 'doc-1', deviceId: d.deviceId, epoch: o.epoch ?? 0,
    claimedTime: T0, ...logPositionOf(o), snapshotId: o.snapshotId ?? randomBytes(32),
    covers: [...o.covers].sort((x, y) => (x.deviceId < y.deviceId ? -1 : 1)), // the format wants them sorted
  });
  const sealed = seal(randomBytes(32) as DocumentKey, o.body ?? utf8('automerge save() bytes'), DOMAIN.snapshotBody, headerBytes);
  return encodeSnapshot(headerBytes, sealed, (o.signer ?? d).signingKey);
}

const put = (c: RelayClient, s: Uint8Array) => c.request({ t: 'snapshot_put', snapshot: s });
const list = async (c: RelayClient, workspaceId: string, after = 0, limit = 200, docId?: string) => {
  const m = await c.request({ t: 'snapshot_list', workspaceId, after, limit, ...(docId ? { docId } : {}) });
  if (m.t !== 'snapshots') throw new Error(`expected snapshots, got ${m.t}`);
  return m;
};
const rejected = (reason: string) => ({ t: 'snapshot_rejected', reason });
const stored = (snapshotSeq: number, duplicate = false): Partial<ReplyMessage> => ({ t: 'snapshot_stored', snapshotSeq, duplicate });

async function storedEnvelopes(t: TestRelay, workspaceId: string): Promise<string[]> {
  const s = new SqliteStore(t.dbPath);
  try {
    return (await s.listEnvelopes(workspaceId, 0, 1000)).map((e) => `${e.deviceId.slice(0, 4)}:${e.docId}:${e.seq}`);
  } finally {
    await s.close();
  }
}


describe('relay snapshots', () => {
  let t: TestRelay | undefined;
  const clients: RelayClient[] = [];
  const start = async (o: { now?: () => number; limits?: Partial<RelayLimits> } = {}) => (t = await startTestRelay(o));
  const open = async (...args: Parameters<typeof connect>) => {
    const c = await connect(...args);
    clients.push(c);
    return c;
  };
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await t?.stop();
    t = undefined;
  });

  /** alice (admin) and bob (writer) in a fresh workspace; alice has pushed `n` envelopes to doc-1. */
  async function team(n: number, o: { now?: () => number; limits?: Partial<RelayLimits> } = {}) {
    const r = await start(o);
    const alice = device('alice');
    const bob = device('bob');
    const w = await publishWorkspace(r.relay, alice, [{ d: bob, role: 'writer' }], undefined, o.now?.());
    const a = await open(r.relay, alice, [w.workspaceId]);
    const b = await open(r.relay, bob, [w.workspaceId]);
    for (let i = 1; i <= n; i++) expect(await a.push(envelope(alice, { workspaceId: w.workspaceId, seq: i, leaseId: leaseIdOf(a, w.workspaceId) }))).toMatchObject({ status: 'acked' });
    return { r, alice, bob, w, a, b, ws: w.workspaceId };
  }

  it("a member's snapshot is stored once, and another member lists the newest of each document", async () => {
    const { alice, a, b, ws } = await team(3);
    const s1 = snapshot(alice, { workspaceId: ws, covers: [{ deviceId: alice.deviceId, seq: 2 }] });
    expect(await put(a, s1)).toMatchObject(stored(1));
    expect(await put(a, s1)).toMatchObject(stored(1, true)); // a re-send
    const id = randomBytes(32);
    expect(await put(a, snapshot(alice, { workspaceId: ws, covers: [{ deviceId: alice.deviceId, seq: 3 }], snapshotId: id }))).toMatchObject(stored(2));
    // Another seal of the same heads (same snapshot id, other bytes) is the same snapshot.
    expect(await put(a, snapshot(alice, { workspaceId: ws, covers: [{ deviceId: alice.deviceId, seq: 3 }], snapshotId: id }))).toMatchObject(stored(2, true));
    const s3 = snapshot(alice, { workspaceId: ws, docId: 'doc-2', covers: [] });
    expect(await put(a, s3)).toMatchObject(stored(3));
    const all = await list(b, ws);
    expect(all.snapshots.map((s) => s.snapshotSeq)).toEqual([2, 3]);
    expect(all.snapshots[1]!.snapshot).toEqual(s3);
    expect(all).toMatchObject({ next: 3, more: false });
    const page = await list(b, ws, 0, 1);
    expect(page).toMatchObject({ next: 2, more: true });
    expect((await list(b, ws, page.next)).snapshots.map((s) => s.snapshotSeq)).toEqual([3]);
    expect((await list(b, ws, 0, 200, 'doc-1')).snapshots.map((s) => s.snapshotSeq)).toEqual([2, 1]);
  });

  it('the relay keeps the newest three snapshots of a document', async () => {
    const { alice, a, b, ws } = await team(1);
    for (let i = 1; i <= 5; i++) expect(await put(a, snapshot(alice, { workspaceId: ws, covers: [{ deviceId: alice.deviceId, seq: 1 }] }))).toMatchObject(stored(i));
    expect((await list(b, ws, 0, 200, 'doc-1')).snapshots.map((s) => s.snapshotSeq)).toEqual([5, 4, 3]);
  });

  it('a snapshot that claims to cover an envelope the relay never stored is refused', async () => {
    const { alice, bob, a, ws } = await team(2);
    expect(await put(a, snapshot(alice, { workspaceId: ws, covers: [{ deviceId: alice.deviceId, seq: 3 }] }))).toMatchObject(rejected('snapshot_covers_unknown'));
    expect(await put(a, snapshot(alice, { workspaceId: ws, covers: [{ deviceId: bob.deviceId, seq: 1 }] }))).toMatchObject(rejected('snapshot_covers_unknown'));
    expect(await put(a, snapshot(alice, { workspaceId: ws, docId: 'doc-2', covers: [{ deviceId: alice.deviceId, seq: 1 }] }))).toMatchObject(rejected('snapshot_covers_unknown'));
    expect(await put(a, snapshot(alice, { workspaceId: ws, covers: [{ deviceId: 'AAAAAAAAAAAAAAAAAAAAAA', seq: 1 }] }))).toMatchObject(rejected('snapshot_covers_unknown'));
    expect((await list(a, ws)).snapshots).toEqual([]);
  });

  it("a forged snapshot signature is refused; eve can't put alice's snapshot over her own connection, nor one for a workspace she is not in", async () => {
    const { alice, a, ws } = await team(1);
    const eve = device('eve');
    const covers = [{ deviceId: alice.deviceId, seq: 1 }];
    expect(await put(a, snapshot(alice, { workspaceId: ws, covers, signer: eve }))).toMatchObject(rejected('bad_signature'));
    const tampered = snapshot(alice, { workspaceId: ws, covers });
    tampered[tampered.length - 70]! ^= 1; // inside the ciphertext
    expect(await put(a, tampered)).toMatchObject(rejected('bad_signature'));
    const e = await open(t!.relay, eve);
    expect(await put(e, snapshot(alice, { workspaceId: ws, covers }))).toMatchObject(rejected('wrong_device'));
    expect(await put(e, snapshot(eve, { workspaceId: ws, covers: [] }))).toMatchObject(rejected('unknown_device'));
    expect(await put(e, snapshot(eve, { workspaceId: 'nope', covers: [] }))).toMatchObject(rejected('unknown_workspace'));
    expect(await put(e, new Uint8Array([1, 2, 3]))).toMatchObject(rejected('snapshot_malformed'));
    const v2 = snapshot(eve, { workspaceId: ws, covers: [] });
    v2[0] = 2;
    expect(await put(e, v2)).toMatchObject(rejected('snapshot_version_unsupported'));
    expect((await list(a, ws)).snapshots).toEqual([]);
  });

  it('a snapshot from a removed member is refused as not_a_member, from a revoked device as device_revoked, from a reader as no_write_permission', async () => {
    const r = await start();
    const [alice, bob, carol, dave] = ['alice', 'bob', 'carol', 'dave'].map(device) as [DeviceKeys, DeviceKeys, DeviceKeys, DeviceKeys];
    const w = await publishWorkspace(r.relay, alice, [{ d: bob, role: 'writer' }, { d: carol, role: 'reader' }, { d: dave, role: 'writer' }]);
    const ws = w.workspaceId;
    const a = await open(r.relay, alice, [ws]);
    const b = await open(r.relay, bob, [ws]);
    const c = await open(r.relay, carol, [ws]);
    const d = await open(r.relay, dave, [ws]);
    expect(await b.push(envelope(bob, { workspaceId: ws, seq: 1, leaseId: leaseIdOf(b, ws) }))).toMatchObject({ status: 'acked' });
    const covers = [{ deviceId: bob.deviceId, seq: 1 }];
    expect(await put(c, snapshot(carol, { workspaceId: ws, covers }))).toMatchObject(rejected('no_write_permission'));
    const removed = removeMember(w.state, alice, new Map([[0, w.epochKey]]), 'bob', T0);
    await a.appendLog(ws, removed.entry.bytes);
    const state2 = apply(w.state, removed.entry.bytes);
    const revoked = revokeDevice(state2, alice, new Map([[0, w.epochKey], [1, removed.epochKey]]), dave.deviceId, T0);
    await a.appendLog(ws, revoked.entry.bytes);
    expect(await put(b, snapshot(bob, { workspaceId: ws, covers }))).toMatchObject(rejected('not_a_member'));
    expect(await put(d, snapshot(dave, { workspaceId: ws, covers }))).toMatchObject(rejected('device_revoked'));
    // The reader may list (it is a member); the removed member may not.
    expect((await list(c, ws)).snapshots).toEqual([]);
    await expect(list(b, ws)).rejects.toMatchObject({ code: 'not_member' });
  });

  it('a snapshot at a log position the relay does not have, or under an epoch the workspace has not reached, is refused', async () => {
    const { alice, a, ws } = await team(1);
    const covers = [{ deviceId: alice.deviceId, seq: 1 }];
    expect(await put(a, snapshot(alice, { workspaceId: ws, covers, logIndex: 0, logHead: randomBytes(32) }))).toMatchObject(rejected('log_position_unknown'));
    expect(await put(a, snapshot(alice, { workspaceId: ws, covers, logIndex: 7 }))).toMatchObject(rejected('log_position_unknown'));
    expect(await put(a, snapshot(alice, { workspaceId: ws, covers, epoch: 3 }))).toMatchObject(rejected('unknown_epoch'));
  });

  it('a non-member cannot list snapshots', async () => {
    const { alice, a, ws } = await team(1);
    expect(await put(a, snapshot(alice, { workspaceId: ws, covers: [{ deviceId: alice.deviceId, seq: 1 }] }))).toMatchObject(stored(1));
    const eve = await open(t!.relay, device('eve'));
    await expect(list(eve, ws)).rejects.toMatchObject({ code: 'not_member' });
    await expect(list(eve, ws, 0, 10, 'doc-1')).rejects.toMatchObject({ code: 'not_member' });
    await expect(list(eve, 'no-such-workspace')).rejects.toMatchObject({ code: 'not_member' });
  });

  it('snapshot_put is rate-limited per device, and refused past the workspace quota', async () => {
    const { alice, a, ws } = await team(1, { limits: { snapshotBurst: 2, snapshotPerSecond: 0.001, quotaBytes: 64 * 1024 } });
    const covers = [{ deviceId: alice.deviceId, seq: 1 }];
    expect(await put(a, snapshot(alice, { workspaceId: ws, covers, body: new Uint8Array(80 * 1024) }))).toMatchObject(rejected('quota_exceeded'));
    expect(await put(a, snapshot(alice, { workspaceId: ws, covers }))).toMatchObject(stored(1));
    expect(await put(a, snapshot(alice, { workspaceId: ws, covers }))).toMatchObject(rejected('rate_limited'));
  });

  it("pruning after the retention deletes covered envelopes but keeps each device's newest", async () => {
    const c = clock();
    const { alice, bob, a, b, ws } = await team(5, { now: c.now, limits: { pruneIntervalMs: 25 } });
    for (let i = 1; i <= 3; i++) expect(await b.push(envelope(bob, { workspaceId: ws, seq: i, leaseId: leaseIdOf(b, ws) }))).toMatchObject({ status: 'acked' });
    const A = alice.deviceId.slice(0, 4);
    const B = bob.deviceId.slice(0, 4);
    const everything = [1, 2, 3, 4, 5].map((i) => `${A}:doc-1:${i}`).concat([1, 2, 3].map((i) => `${B}:doc-1:${i}`));
    expect(await put(a, snapshot(alice, { workspaceId: ws, covers: [{ deviceId: alice.deviceId, seq: 5 }, { deviceId: bob.deviceId, seq: 2 }] }))).toMatchObject(stored(1));

    // Within the default retention (30 days): nothing goes.
    c.advance(29 * DAY);
    await new Promise((r) => setTimeout(r, 150)); // several prune ticks
    expect(await storedEnvelopes(t!, ws)).toEqual(everything);

    c.advance(2 * DAY);
    await until(async () => (await storedEnvelopes(t!, ws)).length < everything.length);
    expect(await storedEnvelopes(t!, ws)).toEqual([`${A}:doc-1:5`, `${B}:doc-1:3`]);
    const metrics = await (await fetch(`${t!.relay.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/^cloister_envelopes_pruned_total 6$/m);
    expect(metrics).toMatch(/^cloister_snapshots_pruned_total 1$/m);
    expect(metrics).toMatch(/^cloister_snapshots_stored_total 1$/m);

    // A new device starts from the snapshot and pulls what is left.
    expect((await list(b, ws)).snapshots).toHaveLength(1);
    expect((await b.pull(ws, 0, 500, true)).envelopes).toHaveLength(2);
    // Seqs go on after the pruned ones.
    const fresh = (await a.renewLease(ws)).leaseId;
    expect(await a.push(envelope(alice, { workspaceId: ws, seq: 6, leaseId: fresh }))).toMatchObject({ status: 'acked', relaySeq: 9 });
  });

  it('a re-send of a pruned envelope is refused as covered_by_snapshot, not seq_replay', async () => {
    const c = clock();
    const { alice, a, ws } = await team(0, { now: c.now, limits: { pruneIntervalMs: 25, snapshotRetentionMs: DAY } });
    const leaseId = leaseIdOf(a, ws);
    const sent = [1, 2, 3].map((seq) => envelope(alice, { workspaceId: ws, seq, leaseId }));
    for (const e of sent) expect(await a.push(e)).toMatchObject({ status: 'acked' });
    expect(await put(a, snapshot(alice, { workspaceId: ws, covers: [{ deviceId: alice.deviceId, seq: 3 }] }))).toMatchObject(stored(1));
    c.advance(DAY + 1);
    await until(async () => (await storedEnvelopes(t!, ws)).length === 1);
    // Its ack was lost, say: the outbox sends seq 2 again.
    expect(await a.push(sent[1]!)).toMatchObject({ status: 'rejected', reason: 'covered_by_snapshot' });
    // The newest is still stored: an identical re-send is a duplicate, other bytes at its seq a replay.
    expect(await a.push(sent[2]!)).toMatchObject({ status: 'acked', relaySeq: 3, duplicate: true });
    expect(await a.push(envelope(alice, { workspaceId: ws, seq: 3, leaseId, plaintext: utf8('other') }))).toMatchObject({ status: 'rejected', reason: 'seq_replay' });
  });

  it('a snapshot that falls behind what the relay pruned is refused, since a new device could not rebuild the document from it', async () => {
    const c = clock();
    const { alice, bob, a, b, ws } = await team(4, { now: c.now, limits: { pruneIntervalMs: 25, snapshotRetentionMs: DAY } });
    expect(await put(a, snapshot(alice, { workspaceId: ws, covers: [{ deviceId: alice.deviceId, seq: 4 }] }))).toMatchObject(stored(1));
    c.advance(DAY + 1);
    await until(async () => (await storedEnvelopes(t!, ws)).length === 1);
    // bob lagged: his snapshot holds alice's changes only through 2, and the relay pruned through 3.
    const r = await put(b, snapshot(bob, { workspaceId: ws, covers: [{ deviceId: alice.deviceId, seq: 2 }] }));
    expect(r).toMatchObject(rejected('snapshot_behind_pruned'));
    expect(r.t === 'snapshot_rejected' && r.detail).toMatch(/pruned its envelopes through 3/);
    expect(await put(b, snapshot(bob, { workspaceId: ws, covers: [{ deviceId: alice.deviceId, seq: 4 }] }))).toMatchObject(stored(2));
  });

  it('with a retention of 0 the relay never prunes', async () => {
    const c = clock();
    const { alice, a, ws } = await team(3, { now: c.now, limits: { pruneIntervalMs: 25, snapshotRetentionMs: 0 } });
    expect(await put(a, snapshot(alice, { workspaceId: ws, covers: [{ deviceId: alice.deviceId, seq: 3 }] }))).toMatchObject(stored(1));
    c.advance(3650 * DAY);
    await new Promise((r) => setTimeout(r, 150));
    expect(await storedEnvelopes(t!, ws)).toHaveLength(3);
  });
});
