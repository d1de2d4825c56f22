// Hostile input: oversized frames close with 1009; random and malformed frames get error replies,
// and the relay keeps serving everyone. Randomised with fast-check under a fixed, printed seed.
import fc from 'fast-check';
import { Encoder } from 'cbor-x';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signChallenge } from '../../src/protocol/challenge.ts';
import type { RelayMessage } from '../../src/protocol/messages.ts';
import { connect, device, envelope, leaseIdOf, publishWorkspace, startTestRelay, type TestRelay } from './helpers.ts';
import { rawSocket, type RawSocket } from './rawSocket.ts';
import { integrationTimeouts } from '../timeouts.ts';

integrationTimeouts();

const SEED = 20261127;
const cbor = new Encoder({ useRecords: false, mapsAsObjects: true, tagUint8Array: false });

describe('relay robustness', () => {
  let t: TestRelay;
  beforeAll(async () => {
    t = await startTestRelay({ limits: { maxFrameBytes: 64 * 1024 } });
  });
  afterAll(async () => {
    await t.stop();
  });

  async function authed(): Promise<RawSocket> {
    const d = device('mallory');
    const s = await rawSocket(t.relay.url);
    const hello = (await s.next()) as Extract<RelayMessage, { t: 'hello' }>;
    s.send({ t: 'auth', id: 0, deviceId: d.deviceId, devicePub: d.signingPub, challenge: hello.challenge, signature: signChallenge(d.signingKey, d.signingPub, hello.challenge), clientNonce: new Uint8Array(32) });
    expect((await s.next()).t).toBe('auth_ok');
    return s;
  }

  it('an oversized frame closes the connection with 1009, and the relay keeps serving', async () => {
    const s = await authed();
    s.sendRaw(new Uint8Array(64 * 1024 + 1));
    expect(await s.closed).toBe(1009);
    const alice = device('alice');
    const w = await publishWorkspace(t.relay, alice);
    const a = await connect(t.relay, alice, [w.workspaceId]);
    expect(await a.push(envelope(alice, { workspaceId: w.workspaceId, seq: 1, leaseId: leaseIdOf(a, w.workspaceId) }))).toMatchObject({ status: 'acked' });
    a.close();
  });

  it('text frames and non-map CBOR get error replies', async () => {
    const s = await authed();
    s.sendRaw('hello');
    expect(await s.next()).toMatchObject({ t: 'error', code: 'malformed_message' });
    for (const v of [1, 'x', [1, 2], null, { t: 'nope', id: 3 }, { t: 'push', id: 4 }, { t: 'push', id: 5, envelope: 'str' }]) {
      s.sendRaw(new Uint8Array(cbor.encode(v)));
      const r = await s.next();
      expect(r).toMatchObject({ t: 'error', code: 'malformed_message' });
    }
    // The error reply names the request id when it can be read.
    s.sendRaw(new Uint8Array(cbor.encode({ t: 'pull', id: 77, workspaceId: 5 })));
    expect(await s.next()).toMatchObject({ t: 'error', id: 77, code: 'malformed_message' });
    // A "__proto__" key can't smuggle fields in.
    s.sendRaw(Uint8Array.from([0xa1, 0x69, ...Buffer.from('__proto__'), 0xa2, 0x61, 0x74, 0x64, ...Buffer.from('ping'), 0x62, 0x69, 0x64, 0x01]));
    expect(await s.next()).toMatchObject({ t: 'error', code: 'malformed_message' });
    s.ws.close();
  });

  it(`random frames (seed ${SEED}) each get an error reply and never crash the relay`, async () => {
    const s = await authed();
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 300 }), async (bytes) => {
        s.sendRaw(bytes);
        const r = await s.next();
        expect(r.t).toBe('error');
      }),
      { seed: SEED, numRuns: 400 },
    );
    s.ws.close();
  });

  it(`schema-shaped garbage (seed ${SEED}) gets a reply to every frame, and the relay keeps serving`, async () => {
    const s = await authed();
    const kinds = ['auth', 'push', 'pull', 'subscribe', 'unsubscribe', 'log_get', 'log_append', 'lease_renew', 'held_list', 'held_approve', 'mailbox_put', 'mailbox_get', 'ping', 'x'];
    const value = fc.oneof(fc.integer(), fc.double(), fc.string({ maxLength: 20 }), fc.uint8Array({ maxLength: 200 }), fc.constant(null), fc.boolean(), fc.array(fc.integer(), { maxLength: 3 }));
    const frame = fc.record({
      t: fc.constantFrom(...kinds),
      id: fc.oneof(fc.nat(1000), fc.integer(), fc.string({ maxLength: 3 })),
      workspaceId: value,
      cursor: value,
      limit: value,
      envelope: value,
      entry: value,
      heldId: value,
      challenge: value,
      signature: value,
      devicePub: value,
      deviceId: value,
      box: fc.oneof(value, fc.constant('AAAAAAAAAAAAAAAAAAAAAA')),
      slot: fc.oneof(value, fc.constantFrom('request', 'offer', 'enrol', 'done')),
      data: value,
    }, { requiredKeys: ['t'] });
    await fc.assert(
      fc.asyncProperty(frame, async (v) => {
        s.sendRaw(new Uint8Array(cbor.encode(v)));
        const r = await s.next();
        expect(typeof r.t).toBe('string');
      }),
      { seed: SEED, numRuns: 400 },
    );
    const health = await fetch(`${t.relay.httpUrl}/healthz`);
    expect(health.status).toBe(200);
    s.send({ t: 'ping', id: 9 });
    expect(await s.next()).toMatchObject({ t: 'pong', id: 9 });
    s.ws.close();
  });

  it('a connection that floods requests without reading replies is closed (1008), others carry on', async () => {
    const flood = await startTestRelay({ limits: { maxQueuedFrames: 5 } });
    try {
      const d = device('mallory');
      const s = await rawSocket(flood.relay.url);
      const hello = (await s.next()) as Extract<RelayMessage, { t: 'hello' }>;
      s.send({ t: 'auth', id: 0, deviceId: d.deviceId, devicePub: d.signingPub, challenge: hello.challenge, signature: signChallenge(d.signingKey, d.signingPub, hello.challenge), clientNonce: new Uint8Array(32) });
      for (let i = 0; i < 200; i++) s.send({ t: 'log_get', id: i + 1, workspaceId: `w${i}` });
      expect(await s.closed).toBe(1008);
      const h = await fetch(`${flood.relay.httpUrl}/healthz`);
      expect(h.status).toBe(200);
    } finally {
      await flood.stop();
    }
  });
});
