// DESIGN → Fork detection in the data plane: "The relay refuses envelopes naming a log position it
// doesn't have." Through a real relay over WebSockets.
import { describe, expect, it } from 'vitest';
import { fromBase64url, randomBytes } from '../../src/crypto/bytes.ts';
import { device, envelope, leaseIdOf, publishWorkspace, relayPerTest } from './helpers.ts';
import { integrationTimeouts } from '../timeouts.ts';

integrationTimeouts();

describe('relay: envelopes must name a log position on its chain', () => {
  const env = relayPerTest();
  const { open } = env;

  it('a push naming an index beyond the chain, or another head at a real index, is refused as log_position_unknown and nothing is stored', async () => {
    const alice = device('alice');
    const bob = device('bob');
    const w = await publishWorkspace(env.t.relay, alice, [{ d: bob, role: 'writer' }]);
    const ws = w.workspaceId;
    const a = await open(env.t.relay, alice, [ws]);
    const leaseId = leaseIdOf(a, ws);
    const last = w.state.order.length - 1;
    const head = fromBase64url(w.state.head)!;
    expect(last).toBeGreaterThan(0);

    const beyond = envelope(alice, { workspaceId: ws, seq: 1, leaseId, logIndex: last + 1, logHead: head });
    expect(await a.push(beyond)).toMatchObject({ status: 'rejected', reason: 'log_position_unknown' });
    const farBeyond = envelope(alice, { workspaceId: ws, seq: 1, leaseId, logIndex: 0xffff_ffff, logHead: head });
    expect(await a.push(farBeyond)).toMatchObject({ status: 'rejected', reason: 'log_position_unknown' });
    const otherHead = envelope(alice, { workspaceId: ws, seq: 1, leaseId, logIndex: last, logHead: randomBytes(32) });
    expect(await a.push(otherHead)).toMatchObject({ status: 'rejected', reason: 'log_position_unknown' });
    // the entry of another index named at this one is no better
    const shifted = envelope(alice, { workspaceId: ws, seq: 1, leaseId, logIndex: 0, logHead: head });
    expect(await a.push(shifted)).toMatchObject({ status: 'rejected', reason: 'log_position_unknown' });
    expect((await a.pull(ws, 0, 500, true)).envelopes).toEqual([]);

    // Nothing took seq 1: the envelope naming the relay's head (or any earlier entry it holds) is stored.
    const good = envelope(alice, { workspaceId: ws, seq: 1, leaseId, logIndex: last, logHead: head });
    expect(await a.push(good)).toMatchObject({ status: 'acked', relaySeq: 1, duplicate: false });
    const older = envelope(alice, { workspaceId: ws, docId: 'doc-2', seq: 1, leaseId, logIndex: 0, logHead: fromBase64url(w.state.order[0]!)! });
    expect(await a.push(older)).toMatchObject({ status: 'acked', relaySeq: 2 });
    expect((await a.pull(ws, 0, 500, true)).envelopes.map(e => e.envelope)).toEqual([good, older]);
  });

  it('an envelope the relay would hold (unknown lease) is refused, not held, when its log position is unknown', async () => {
    const alice = device('alice');
    const w = await publishWorkspace(env.t.relay, alice);
    const ws = w.workspaceId;
    const a = await open(env.t.relay, alice, [ws]);
    const forked = envelope(alice, { workspaceId: ws, seq: 1, leaseId: 'no-such-lease', logIndex: 0, logHead: randomBytes(32) });
    expect(await a.push(forked)).toMatchObject({ status: 'rejected', reason: 'log_position_unknown' });
    // the same seq with a position the relay has is held: the refused one took no place
    const onChain = envelope(alice, { workspaceId: ws, seq: 1, leaseId: 'no-such-lease' });
    expect(await a.push(onChain)).toMatchObject({ status: 'held' });
    expect((await a.pull(ws, 0, 500, true)).envelopes).toEqual([]);
  });
});
