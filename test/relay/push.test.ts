// Push checks through a real relay over WebSockets: sequence, signatures, membership, fan-out.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { removeMember } from '../../src/identity/workspace/members.ts';
import { revokeDevice } from '../../src/identity/workspace/devices.ts';
import type { RelayClient } from '../../src/docs/sync/relayClient.ts';
import { T0, apply, connect, device, envelope, leaseIdOf, publishWorkspace, startTestRelay, type TestRelay } from './helpers.ts';
import { integrationTimeouts } from '../timeouts.ts';

integrationTimeouts();

describe('relay push checks', () => {
  let t: TestRelay;
  const clients: RelayClient[] = [];
  const open = async (...args: Parameters<typeof connect>) => {
    const c = await connect(...args);
    clients.push(c);
    return c;
  };
  beforeEach(async () => {
    t = await startTestRelay();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await t.stop();
  });

  it('a replayed envelope is acknowledged but changes nothing', async () => {
    const alice = device('alice');
    const w = await publishWorkspace(t.relay, alice);
    const a = await open(t.relay, alice, [w.workspaceId]);
    const env1 = envelope(alice, { workspaceId: w.workspaceId, seq: 1, leaseId: leaseIdOf(a, w.workspaceId) });
    expect(await a.push(env1)).toMatchObject({ status: 'acked', relaySeq: 1, duplicate: false });
    expect(await a.push(env1)).toMatchObject({ status: 'acked', relaySeq: 1, duplicate: true });
    const page = await a.pull(w.workspaceId, 0, 500, true);
    expect(page.envelopes).toHaveLength(1);
    expect(page.envelopes[0]!.envelope).toEqual(env1);
  });

  it("a different envelope with a used seq is rejected as seq_replay, a gap as seq_gap", async () => {
    const alice = device('alice');
    const w = await publishWorkspace(t.relay, alice);
    const a = await open(t.relay, alice, [w.workspaceId]);
    const leaseId = leaseIdOf(a, w.workspaceId);
    await a.push(envelope(alice, { workspaceId: w.workspaceId, seq: 1, leaseId }));
    await a.push(envelope(alice, { workspaceId: w.workspaceId, seq: 2, leaseId }));
    const other1 = envelope(alice, { workspaceId: w.workspaceId, seq: 1, leaseId, plaintext: new Uint8Array([9]) });
    expect(await a.push(other1)).toMatchObject({ status: 'rejected', reason: 'seq_replay' });
    expect(await a.push(envelope(alice, { workspaceId: w.workspaceId, seq: 4, leaseId }))).toMatchObject({ status: 'rejected', reason: 'seq_gap' });
    // Sequences are per (device, doc): another doc starts at 1.
    expect(await a.push(envelope(alice, { workspaceId: w.workspaceId, docId: 'doc-2', seq: 1, leaseId }))).toMatchObject({ status: 'acked', relaySeq: 3 });
    expect((await a.pull(w.workspaceId, 0, 500, true)).envelopes.map((e) => e.relaySeq)).toEqual([1, 2, 3]);
  });

  it("eve can't forge alice's envelope: bad_signature; and can't push as alice over her own connection: wrong_device", async () => {
    const alice = device('alice');
    const eve = device('eve');
    const w = await publishWorkspace(t.relay, alice);
    const a = await open(t.relay, alice, [w.workspaceId]);
    const leaseId = leaseIdOf(a, w.workspaceId);
    const forged = envelope(alice, { workspaceId: w.workspaceId, seq: 1, leaseId, signer: eve });
    expect(await a.push(forged)).toMatchObject({ status: 'rejected', reason: 'bad_signature' });
    const tampered = envelope(alice, { workspaceId: w.workspaceId, seq: 1, leaseId });
    tampered[tampered.length - 70]! ^= 1; // inside the ciphertext
    expect(await a.push(tampered)).toMatchObject({ status: 'rejected', reason: 'bad_signature' });
    const e = await open(t.relay, eve);
    expect(await e.push(envelope(alice, { workspaceId: w.workspaceId, seq: 1, leaseId }))).toMatchObject({ status: 'rejected', reason: 'wrong_device' });
    expect(await e.push(envelope(eve, { workspaceId: w.workspaceId, seq: 1, leaseId }))).toMatchObject({ status: 'rejected', reason: 'unknown_device' });
    expect(await e.push(envelope(eve, { workspaceId: 'nope', seq: 1, leaseId }))).toMatchObject({ status: 'rejected', reason: 'unknown_workspace' });
    expect(await e.push(new Uint8Array([1, 2, 3]))).toMatchObject({ status: 'rejected', reason: 'envelope_malformed' });
  });

  it("a reader can't write; a removed member and a revoked device are rejected", async () => {
    const alice = device('alice');
    const bob = device('bob');
    const carol = device('carol');
    const dave = device('dave');
    const w = await publishWorkspace(t.relay, alice, [
      { d: bob, role: 'writer' }, { d: carol, role: 'reader' }, { d: dave, role: 'writer' },
    ]);
    const c = await open(t.relay, carol, [w.workspaceId]);
    expect(await c.push(envelope(carol, { workspaceId: w.workspaceId, seq: 1, leaseId: leaseIdOf(c, w.workspaceId) })))
      .toMatchObject({ status: 'rejected', reason: 'no_write_permission' });

    const b = await open(t.relay, bob, [w.workspaceId]);
    const d = await open(t.relay, dave, [w.workspaceId]);
    const bobLease = leaseIdOf(b, w.workspaceId);
    const daveLease = leaseIdOf(d, w.workspaceId);
    expect(await b.push(envelope(bob, { workspaceId: w.workspaceId, seq: 1, leaseId: bobLease }))).toMatchObject({ status: 'acked' });

    const a = await open(t.relay, alice, [w.workspaceId]);
    const keys = new Map([[0, w.epochKey]]);
    const removed = removeMember(w.state, alice, keys, 'bob', T0);
    await a.appendLog(w.workspaceId, removed.entry.bytes);
    const state2 = apply(w.state, removed.entry.bytes);
    const revoked = revokeDevice(state2, alice, new Map([[0, w.epochKey], [1, removed.epochKey]]), dave.deviceId, T0);
    await a.appendLog(w.workspaceId, revoked.entry.bytes);

    expect(await b.push(envelope(bob, { workspaceId: w.workspaceId, seq: 2, leaseId: bobLease }))).toMatchObject({ status: 'rejected', reason: 'not_a_member' });
    expect(await d.push(envelope(dave, { workspaceId: w.workspaceId, seq: 1, leaseId: daveLease }))).toMatchObject({ status: 'rejected', reason: 'device_revoked' });
    // Nor can they read on, or get a fresh lease.
    await expect(b.pull(w.workspaceId, 0)).rejects.toMatchObject({ code: 'not_member' });
    await expect(d.renewLease(w.workspaceId)).rejects.toMatchObject({ code: 'not_member' });
    const d2 = await open(t.relay, dave, [w.workspaceId]);
    expect(d2.leases.size).toBe(0);
  });

  it('new envelopes fan out live to subscribed members, and pulls page by cursor', async () => {
    const alice = device('alice');
    const bob = device('bob');
    const w = await publishWorkspace(t.relay, alice, [{ d: bob, role: 'writer' }]);
    const a = await open(t.relay, alice, [w.workspaceId]);
    const b = await open(t.relay, bob, [w.workspaceId]);
    const seen: number[] = [];
    const got = new Promise<void>((resolve) =>
      b.onEnvelope((e) => {
        seen.push(e.relaySeq);
        if (seen.length === 5) resolve();
      }),
    );
    expect(await b.subscribe(w.workspaceId)).toEqual({ head: 0 });
    const leaseId = leaseIdOf(a, w.workspaceId);
    for (let i = 1; i <= 5; i++) await a.push(envelope(alice, { workspaceId: w.workspaceId, seq: i, leaseId }));
    await got;
    expect(seen).toEqual([1, 2, 3, 4, 5]);
    const p1 = await b.pull(w.workspaceId, 0, 2);
    expect(p1).toMatchObject({ nextCursor: 2, more: true });
    const p2 = await b.pull(w.workspaceId, p1.nextCursor, 10);
    expect(p2.envelopes.map((e) => e.relaySeq)).toEqual([3, 4, 5]);
    expect(p2).toMatchObject({ nextCursor: 5, more: false });
    expect(await b.pull(w.workspaceId, 5)).toMatchObject({ envelopes: [], nextCursor: 5, more: false });
  });

  it('membership log entries fan out to subscribers', async () => {
    const alice = device('alice');
    const w = await publishWorkspace(t.relay, alice);
    const a = await open(t.relay, alice, [w.workspaceId]);
    await a.subscribe(w.workspaceId);
    const entry = new Promise<number>((resolve) => a.onLogEntry((e) => resolve(e.index)));
    await inviteThroughRelay(t, alice, w);
    expect(await entry).toBe(1);
  });

  it('a pull stops at the batch byte budget and says there is more', async () => {
    await t.stop();
    const alice = device('alice');
    const size = envelope(alice, { workspaceId: 'w', seq: 1, leaseId: 'l', plaintext: new Uint8Array(400) }).length;
    t = await startTestRelay({ limits: { maxBatchBytes: 2 * size + 100 } });
    const w = await publishWorkspace(t.relay, alice);
    const a = await open(t.relay, alice, [w.workspaceId]);
    const leaseId = leaseIdOf(a, w.workspaceId);
    for (let i = 1; i <= 6; i++) await a.push(envelope(alice, { workspaceId: w.workspaceId, seq: i, leaseId, plaintext: new Uint8Array(400) }));
    const sizes: number[] = [];
    for (let cursor = 0, more = true; more; ) {
      const p = await a.pull(w.workspaceId, cursor, 100, true);
      sizes.push(p.envelopes.length);
      cursor = p.nextCursor;
      more = p.more;
    }
    expect(sizes).toEqual([2, 2, 2]);
  });

  it('rate limits pushes per device', async () => {
    await t.stop();
    t = await startTestRelay({ limits: { pushBurst: 3, pushPerSecond: 0 } });
    const alice = device('alice');
    const w = await publishWorkspace(t.relay, alice);
    const a = await open(t.relay, alice, [w.workspaceId]);
    const leaseId = leaseIdOf(a, w.workspaceId);
    const results = [];
    for (let i = 1; i <= 4; i++) results.push(await a.push(envelope(alice, { workspaceId: w.workspaceId, seq: i, leaseId })));
    expect(results.map((r) => r.status)).toEqual(['acked', 'acked', 'acked', 'rejected']);
    expect(results[3]).toMatchObject({ reason: 'rate_limited' });
  });
});

// Alice publishes an invitation entry from a second connection.
async function inviteThroughRelay(t: TestRelay, alice: ReturnType<typeof device>, w: Awaited<ReturnType<typeof publishWorkspace>>) {
  const { createInvitation } = await import('../../src/identity/workspace/invitations.ts');
  const inv = createInvitation(w.state, alice, w.epochKey, { role: 'writer', expiresAt: T0 + 1e7, now: T0 });
  const a = await connect(t.relay, alice);
  await a.appendLog(w.workspaceId, inv.entry.bytes);
  a.close();
}
