// Offline leases: signed by the relay's own key, enforced by the relay's (injected) clock.
import { afterEach, describe, expect, it } from 'vitest';
import { verifyLease, leaseRemainingMs } from '../../src/protocol/lease.ts';
import { HOUR, clock, connect, device, envelope, leaseIdOf, publishWorkspace, startTestRelay, type TestRelay } from './helpers.ts';
import { integrationTimeouts } from '../timeouts.ts';

integrationTimeouts();

describe('offline leases', () => {
  let t: TestRelay | undefined;
  afterEach(async () => {
    await t?.stop();
    t = undefined;
  });

  it("a lease is signed by the relay's key and lasts the workspace's maximum offline time", async () => {
    const c = clock();
    t = await startTestRelay({ now: c.now });
    const alice = device('alice');
    const w = await publishWorkspace(t.relay, alice, [], { maxOfflineMs: 8 * HOUR, leasePolicy: 'reject' }, c.now());
    const a = await connect(t.relay, alice, [w.workspaceId]);
    const { lease, bytes } = a.leases.get(w.workspaceId)!;
    expect(lease).toMatchObject({ workspaceId: w.workspaceId, deviceId: alice.deviceId, issuedAt: c.now(), notAfter: c.now() + 8 * HOUR, relayId: t.relay.relayId });
    expect(verifyLease(bytes, t.relay.relayPub).ok).toBe(true);
    const forged = bytes.slice();
    forged[forged.length - 65]! ^= 1; // the low byte of notAfter: a lease stretched by 1 ms
    expect(verifyLease(forged, t.relay.relayPub)).toMatchObject({ ok: false, reason: 'lease_bad_signature' });
    expect(verifyLease(bytes, device('x').signingPub)).toMatchObject({ ok: false });
    expect(leaseRemainingMs(lease, c.now() + HOUR)).toBe(7 * HOUR);
    a.close();
  });

  it("the relay keeps its key across restarts (leases stay verifiable)", async () => {
    t = await startTestRelay();
    const before = t.relay.relayPub;
    await t.restart();
    expect(t.relay.relayPub).toEqual(before);
  });

  it("an envelope pushed after its lease's notAfter is rejected with lease_expired (policy reject)", async () => {
    const c = clock();
    t = await startTestRelay({ now: c.now });
    const alice = device('alice');
    const w = await publishWorkspace(t.relay, alice, [], { maxOfflineMs: 2 * HOUR, leasePolicy: 'reject' }, c.now());
    const a = await connect(t.relay, alice, [w.workspaceId]);
    const leaseId = leaseIdOf(a, w.workspaceId);
    expect(await a.push(envelope(alice, { workspaceId: w.workspaceId, seq: 1, leaseId }))).toMatchObject({ status: 'acked' });
    c.advance(2 * HOUR + 1);
    const late = envelope(alice, { workspaceId: w.workspaceId, seq: 2, leaseId });
    expect(await a.push(late)).toEqual({ status: 'rejected', reason: 'lease_expired' });
    expect(await a.push(envelope(alice, { workspaceId: w.workspaceId, seq: 2, leaseId: 'never-issued' }))).toEqual({ status: 'rejected', reason: 'lease_unknown' });
    // A rejected envelope does not use up its seq: the device's next envelope for this doc must
    // carry seq 2 again (seq 3 would be a gap), sealed under a fresh lease.
    const fresh = await a.renewLease(w.workspaceId);
    expect(await a.push(envelope(alice, { workspaceId: w.workspaceId, seq: 3, leaseId: fresh.leaseId }))).toMatchObject({ status: 'rejected', reason: 'seq_gap' });
    expect(fresh.notAfter).toBe(c.now() + 2 * HOUR);
    expect(await a.push(envelope(alice, { workspaceId: w.workspaceId, seq: 2, leaseId: fresh.leaseId }))).toMatchObject({ status: 'acked', relaySeq: 2 });
    expect((await a.pull(w.workspaceId, 0, 500, true)).envelopes).toHaveLength(2);
    const metrics = await (await fetch(`${t.relay.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/cloister_envelopes_rejected_total\{reason="lease_expired"\} 1/);
    a.close();
  });

  it("bob's lease doesn't cover alice's envelopes", async () => {
    const c = clock();
    t = await startTestRelay({ now: c.now });
    const alice = device('alice');
    const bob = device('bob');
    const w = await publishWorkspace(t.relay, alice, [{ d: bob, role: 'writer' }], { maxOfflineMs: HOUR, leasePolicy: 'reject' }, c.now());
    const a = await connect(t.relay, alice, [w.workspaceId]);
    const b = await connect(t.relay, bob, [w.workspaceId]);
    expect(await a.push(envelope(alice, { workspaceId: w.workspaceId, seq: 1, leaseId: leaseIdOf(b, w.workspaceId) })))
      .toEqual({ status: 'rejected', reason: 'lease_unknown' });
    a.close();
    b.close();
  });

  it("under policy 'hold' a late envelope is held until an admin approves it", async () => {
    const c = clock();
    t = await startTestRelay({ now: c.now });
    const alice = device('alice');
    const bob = device('bob');
    const w = await publishWorkspace(t.relay, alice, [{ d: bob, role: 'writer' }], { maxOfflineMs: HOUR, leasePolicy: 'hold' }, c.now());
    const b = await connect(t.relay, bob, [w.workspaceId]);
    const leaseId = leaseIdOf(b, w.workspaceId);
    c.advance(HOUR + 1);
    const late = envelope(bob, { workspaceId: w.workspaceId, seq: 1, leaseId });
    const held = await b.push(late);
    expect(held).toMatchObject({ status: 'held' });
    expect(await b.push(late)).toEqual(held); // a re-send is held once
    expect(await b.push(envelope(bob, { workspaceId: w.workspaceId, seq: 1, leaseId, plaintext: new Uint8Array([5]) })))
      .toMatchObject({ status: 'rejected', reason: 'seq_replay' });
    expect((await b.pull(w.workspaceId, 0, 500, true)).envelopes).toHaveLength(0);
    await expect(b.listHeld(w.workspaceId)).rejects.toMatchObject({ code: 'not_admin' });

    const a = await connect(t.relay, alice, [w.workspaceId]);
    const items = await a.listHeld(w.workspaceId);
    expect(items).toMatchObject([{ deviceId: bob.deviceId, docId: 'doc-1', seq: 1 }]);
    expect(await a.approveHeld(w.workspaceId, items[0]!.heldId)).toBe(1);
    expect((await b.pull(w.workspaceId, 0, 500, true)).envelopes.map((e) => e.envelope)).toEqual([late]);
    expect(await a.listHeld(w.workspaceId)).toEqual([]);
    expect(await b.push(late)).toMatchObject({ status: 'acked', relaySeq: 1, duplicate: true });
    a.close();
    b.close();
  });
});
