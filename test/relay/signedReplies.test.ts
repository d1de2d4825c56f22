// Authenticated relay replies (DESIGN → Relay; issue 10). Mallory sits on the wire between alice and the
// relay. She can read, drop and inject frames, and she keeps every genuine reply she has seen, but she
// does not hold the relay key. A reply counts only when the relay signed it for this connection's
// challenge and this request id: her forgeries and the replies she moves resolve nothing.
import { WebSocket } from 'ws';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { generateSigningKey } from '../../src/crypto/ed25519.ts';
import type { PublicKey, SigningSecretKey } from '../../src/crypto/keys.ts';
import { RelayClient } from '../../src/docs/sync/relayClient.ts';
import { decodeRelayMessage, encodeMessage, type RelayMessage } from '../../src/protocol/messages.ts';
import { openReply, sealReply, signReply } from '../../src/protocol/signedReply.ts';
import { cleanupDirs, createStoredWorkspace, makeUser, open, startTestRelay as startSyncRelay } from '../sync/helpers.ts';
import { integrationTimeouts } from '../timeouts.ts';
import { device, envelope, leaseIdOf, publishWorkspace, startTestRelay, type TestRelay } from './helpers.ts';
import { bareReply, forgeReply, startMitm, type Mitm } from './mitm.ts';

integrationTimeouts();
afterAll(cleanupDirs);

const challenge = new Uint8Array(48).fill(7);
const relay = generateSigningKey<SigningSecretKey>();
const opened = (frame: Uint8Array, pub: Uint8Array = relay.publicKey, ch = challenge) => {
  const m = decodeRelayMessage(frame);
  if (!m.ok) throw new Error(m.reason);
  return openReply(pub as PublicKey, ch, m.value);
};

describe('a signed reply opens only for its relay key, connection and request', () => {
  const pong = { t: 'pong', id: 7, time: 1234 } as const;

  it('the relay key, the challenge and the id it was signed for open it', () => {
    expect(opened(sealReply(relay.secretKey, challenge, pong))).toEqual({ ok: true, value: pong });
  });

  it("another key, another connection's challenge or another id does not", () => {
    const frame = sealReply(relay.secretKey, challenge, pong);
    expect(opened(frame, generateSigningKey().publicKey)).toMatchObject({ ok: false, reason: 'reply_bad_signature' });
    expect(opened(frame, relay.publicKey, new Uint8Array(48).fill(8))).toMatchObject({ ok: false, reason: 'reply_bad_signature' });
    const m = decodeRelayMessage(frame);
    if (!m.ok || m.value.t !== 'reply') throw new Error('not a reply');
    expect(opened(encodeMessage({ ...m.value, id: 8 }))).toMatchObject({ ok: false, reason: 'reply_bad_signature' });
    expect(opened(encodeMessage({ ...m.value, body: encodeMessage({ ...pong, time: 2 ** 52 }) }))).toMatchObject({ ok: false, reason: 'reply_bad_signature' });
  });

  it('an unsigned answer, a signed body for another id, and a signed hello or event are refused', () => {
    expect(opened(encodeMessage(pong))).toMatchObject({ ok: false, reason: 'reply_unsigned' });
    const body = encodeMessage({ ...pong, id: 9 });
    expect(opened(encodeMessage({ t: 'reply', id: 7, body, sig: signReply(relay.secretKey, challenge, 7, body) }))).toMatchObject({
      ok: false, reason: 'reply_id_mismatch',
    });
    const event: RelayMessage = { t: 'envelope', workspaceId: 'w', relaySeq: 1, envelope: new Uint8Array(3) };
    const ev = encodeMessage(event);
    expect(opened(encodeMessage({ t: 'reply', id: 7, body: ev, sig: signReply(relay.secretKey, challenge, 7, ev) }))).toMatchObject({
      ok: false, reason: 'reply_not_an_answer',
    });
    const junk = new Uint8Array([0xff, 0x00]);
    expect(opened(encodeMessage({ t: 'reply', id: 7, body: junk, sig: signReply(relay.secretKey, challenge, 7, junk) }))).toMatchObject({
      ok: false, reason: 'reply_body_malformed',
    });
  });
});

describe('mallory on the wire', () => {
  let mitm: Mitm | undefined;
  let t: TestRelay | undefined;
  afterEach(async () => {
    await mitm?.close();
    await t?.stop();
    mitm = undefined;
    t = undefined;
  });

  it('a forged push_rejected is ignored: the envelope stays in the outbox and is acked by the honest relay', async () => {
    const relay = await startSyncRelay();
    const alice = await makeUser('alice');
    createStoredWorkspace(alice, 'ops', relay.url);
    try {
      const first = await open(alice, relay.url);
      await first.engine.syncOnce(); // publishes the workspace, pins the relay key
      const id = await first.s.records.create({ title: 'VPN', fields: { user: 'alice' } });
      await first.close();

      // Mallory swallows every push and answers it herself: bad_signature, bare and sealed under her key.
      let forged = 0;
      mitm = await startMitm(relay.url, {
        up: (m, c) => {
          if (m?.t !== 'push') return;
          const rejection = { t: 'push_rejected', id: m.id, reason: 'bad_signature' } as const;
          c.toClient(bareReply(rejection));
          c.toClient(forgeReply(rejection, c.hello!.challenge));
          forged += 2;
          return false;
        },
      });
      const a = await open(alice, mitm.url, { timeoutMs: 1500 });
      const pending = await a.s.session.outbox.pending();
      expect(pending.length).toBeGreaterThan(0);
      await expect(a.engine.syncOnce()).rejects.toThrow(/timed out/);
      expect(forged).toBeGreaterThan(0);
      expect(await a.s.session.quarantine.list()).toEqual([]);
      expect((await a.s.session.outbox.pending()).map(e => e.seq)).toEqual(pending.map(e => e.seq));
      await a.close();

      const honest = await open(alice, relay.url);
      try {
        const pass = await honest.engine.syncOnce();
        expect(pass).toMatchObject({ rejected: {}, outbox: 0, duplicates: 0 });
        expect(pass.acked).toBe(pending.length);
        expect(await honest.s.session.quarantine.list()).toEqual([]);
        expect((await honest.s.records.get(id))?.title).toBe('VPN');
      } finally {
        await honest.close();
      }
    } finally {
      await relay.close();
    }
  });

  it('a forged pong time of 2^52 is ignored and does not lock editing', async () => {
    const relay = await startSyncRelay();
    const alice = await makeUser('alice');
    createStoredWorkspace(alice, 'ops', relay.url);
    const FAR = 2 ** 52;
    let forged = 0;
    // Each forgery reaches alice before the relay's genuine answer (it is sent as the request goes by).
    mitm = await startMitm(relay.url, {
      up: (m, c) => {
        if (m?.t === 'ping') {
          c.toClient(bareReply({ t: 'pong', id: m.id, time: FAR }));
          c.toClient(forgeReply({ t: 'pong', id: m.id, time: FAR }, c.hello!.challenge));
          forged += 2;
        }
        if (m?.t === 'auth') {
          c.toClient(forgeReply({ t: 'auth_ok', id: m.id, deviceId: m.deviceId, leases: [], time: FAR, relayProof: new Uint8Array(64) }, c.hello!.challenge));
          forged++;
        }
      },
    });
    const a = await open(alice, mitm.url);
    try {
      await a.engine.syncOnce();
      expect(forged).toBeGreaterThanOrEqual(3);
      expect(a.s.lease.lastSeen).toBeLessThan(Date.now() + 60_000);
      expect(a.s.lease.offlineRemainingMs()).toBeGreaterThan(0);
      const id = await a.s.records.create({ title: 'still editable' }); // an expired lease would refuse this
      await a.s.records.update(id, { notes: 'and again' });
      expect((await a.engine.syncOnce()).acked).toBeGreaterThan(0);
      expect(a.s.lease.lastSeen).toBeLessThan(Date.now() + 60_000);
    } finally {
      await a.close();
      await relay.close();
    }
  });

  it("a reply signed for another connection's challenge or another request id is ignored", async () => {
    t = await startTestRelay();
    const alice = device('alice');
    const w = await publishWorkspace(t.relay, alice);
    // Ids run 1 (auth), 2, 3… on every connection, so a genuine reply from one fits the other's request.
    const injections = new Map<string, Uint8Array>(); // `${conn}:${id}` → the frame Mallory sends first
    mitm = await startMitm(t.relay.url, {
      up: (m, c) => {
        if (m?.t === 'push') {
          const f = injections.get(`${c.index}:${m.id}`);
          if (f) c.toClient(f);
        }
      },
    });
    const connectVia = () =>
      RelayClient.connect({
        url: mitm!.url, signingKey: alice.signingKey, devicePub: alice.signingPub, workspaces: [w.workspaceId],
        expectedRelayPub: t!.relay.relayPub, WebSocket: WebSocket as never, timeoutMs: 10_000,
      });
    const gapped = (c: RelayClient) => envelope(alice, { workspaceId: w.workspaceId, seq: 50, leaseId: leaseIdOf(c, w.workspaceId) });

    // Connection 0: a push the relay refuses (seq_gap), answered with a genuine signed push_rejected for id 2.
    const c0 = await connectVia();
    expect(await c0.push(gapped(c0))).toMatchObject({ status: 'rejected', reason: 'seq_gap' });
    const rejection0 = mitm.conns[0]!.fromRelay.at(-1)!;
    c0.close();

    // Connection 1: that rejection arrives first for its own id 2, but it names connection 0's challenge.
    injections.set('1:2', rejection0);
    const c1 = await connectVia();
    const env1 = envelope(alice, { workspaceId: w.workspaceId, seq: 1, leaseId: leaseIdOf(c1, w.workspaceId) });
    expect(await c1.push(env1)).toMatchObject({ status: 'acked', duplicate: false });
    expect(c1.ignored).toEqual({ reply_bad_signature: 1 });

    // Connection 1's own genuine rejection for id 3, moved to id 4: the signature names id 3.
    expect(await c1.push(gapped(c1))).toMatchObject({ status: 'rejected', reason: 'seq_gap' });
    const rejection3 = decodeRelayMessage(mitm.conns[1]!.fromRelay.at(-1)!);
    if (!rejection3.ok || rejection3.value.t !== 'reply') throw new Error('expected a reply frame');
    expect(rejection3.value.id).toBe(3);
    injections.set('1:4', encodeMessage({ ...rejection3.value, id: 4 }));
    const env2 = envelope(alice, { workspaceId: w.workspaceId, seq: 2, leaseId: leaseIdOf(c1, w.workspaceId) });
    expect(await c1.push(env2)).toMatchObject({ status: 'acked', duplicate: false });
    expect(c1.ignored).toEqual({ reply_bad_signature: 2 });
    // Replayed as it was (id 3, long answered), it resolves nothing either: id 5 gets its own answer.
    injections.set('1:5', encodeMessage(rejection3.value));
    expect(await c1.push(env2)).toMatchObject({ status: 'acked', duplicate: true });
    c1.close();
  });
});
