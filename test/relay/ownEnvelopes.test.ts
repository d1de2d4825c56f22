// The relay does not send a device its own envelopes back (docs/SYNC.md → Own envelopes): pulls skip
// them (the cursor still moves past them) unless the device asks with `own`, and live events never
// reach any connection of the author's device, while other members get both.
import { describe, expect, it } from 'vitest';
import { device, envelope, leaseIdOf, publishWorkspace, relayPerTest } from './helpers.ts';
import { integrationTimeouts } from '../timeouts.ts';

integrationTimeouts();

describe('own envelopes are not echoed', () => {
  const env = relayPerTest();
  const { open } = env;

  it("alice's pull skips her own envelopes but moves past them; with own she gets them; bob gets them all", async () => {
    const alice = device('alice');
    const bob = device('bob');
    const w = await publishWorkspace(env.t.relay, alice, [{ d: bob, role: 'writer' }]);
    const a = await open(env.t.relay, alice, [w.workspaceId]);
    const b = await open(env.t.relay, bob, [w.workspaceId]);
    const mine = [1, 2, 3].map(seq => envelope(alice, { workspaceId: w.workspaceId, seq, leaseId: leaseIdOf(a, w.workspaceId) }));
    for (const e of mine) await a.push(e);
    const bobs = envelope(bob, { workspaceId: w.workspaceId, seq: 1, leaseId: leaseIdOf(b, w.workspaceId) });
    await b.push(bobs);

    // One page that holds only her own: empty, but the cursor moves and `more` says read on.
    const first = await a.pull(w.workspaceId, 0, 2);
    expect(first).toMatchObject({ envelopes: [], nextCursor: 2, more: true });
    const rest = await a.pull(w.workspaceId, first.nextCursor, 10);
    expect(rest.envelopes.map(e => e.envelope)).toEqual([bobs]);
    expect(rest).toMatchObject({ nextCursor: 4, more: false });

    const withOwn = await a.pull(w.workspaceId, 0, 10, true);
    expect(withOwn.envelopes.map(e => e.relaySeq)).toEqual([1, 2, 3, 4]);
    expect((await b.pull(w.workspaceId, 0, 10)).envelopes.map(e => e.relaySeq)).toEqual([1, 2, 3]);
  });

  it("a live envelope reaches bob but none of alice's connections, not even another one of her device's", async () => {
    const alice = device('alice');
    const bob = device('bob');
    const w = await publishWorkspace(env.t.relay, alice, [{ d: bob, role: 'writer' }]);
    const a = await open(env.t.relay, alice, [w.workspaceId]);
    const a2 = await open(env.t.relay, alice, [w.workspaceId]);
    const b = await open(env.t.relay, bob, [w.workspaceId]);
    const toAlice: number[] = [];
    a.onEnvelope(e => toAlice.push(e.relaySeq));
    a2.onEnvelope(e => toAlice.push(e.relaySeq));
    const bobGot = new Promise<number>(resolve => b.onEnvelope(e => resolve(e.relaySeq)));
    await a.subscribe(w.workspaceId);
    await a2.subscribe(w.workspaceId);
    await b.subscribe(w.workspaceId);
    await a.push(envelope(alice, { workspaceId: w.workspaceId, seq: 1, leaseId: leaseIdOf(a, w.workspaceId) }));
    expect(await bobGot).toBe(1);
    // Frames on one connection are handled in order: a ping answered after the push means any event
    // for a2 was sent before its pong.
    await a2.ping();
    expect(toAlice).toEqual([]);
  });
});
