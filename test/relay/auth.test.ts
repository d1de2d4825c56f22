// Device authentication by signed challenge: fresh, once, for this relay, by the key the id names.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signChallenge } from '../../src/protocol/challenge.ts';
import type { RelayMessage } from '../../src/protocol/messages.ts';
import { clock, connect, device, envelope, publishWorkspace, startTestRelay, type TestRelay } from './helpers.ts';
import { rawSocket } from './rawSocket.ts';
import { integrationTimeouts } from '../timeouts.ts';

integrationTimeouts();

type Hello = Extract<RelayMessage, { t: 'hello' }>;

describe('relay authentication', () => {
  let t: TestRelay;
  const c = clock();
  beforeEach(async () => {
    c.set(Date.now());
    t = await startTestRelay({ now: c.now });
  });
  afterEach(async () => {
    await t.stop();
  });

  const authMsg = (d: ReturnType<typeof device>, hello: Hello, id = 1) => ({
    t: 'auth' as const, id, deviceId: d.deviceId, devicePub: d.signingPub, challenge: hello.challenge,
    signature: signChallenge(d.signingKey, d.signingPub, hello.challenge), clientNonce: new Uint8Array(32).fill(id),
  });

  it('alice authenticates by signing the challenge', async () => {
    const alice = device('alice');
    const s = await rawSocket(t.relay.url);
    const hello = (await s.next()) as Hello;
    expect(hello).toMatchObject({ t: 'hello', relayId: t.relay.relayId });
    s.send(authMsg(alice, hello));
    expect(await s.next()).toMatchObject({ t: 'auth_ok', id: 1, deviceId: alice.deviceId });
    s.ws.close();
  });

  it('a stale response (more than 60 s after the challenge) is rejected', async () => {
    const alice = device('alice');
    const s = await rawSocket(t.relay.url);
    const hello = (await s.next()) as Hello;
    c.advance(61_000);
    s.send(authMsg(alice, hello));
    expect(await s.next()).toMatchObject({ t: 'error', code: 'auth_failed', message: 'auth_stale' });
    s.ws.close();
  });

  it("eve's replay of alice's auth response is rejected, on the same or another connection", async () => {
    const alice = device('alice');
    const s1 = await rawSocket(t.relay.url);
    const hello1 = (await s1.next()) as Hello;
    const resp = authMsg(alice, hello1);
    s1.send(resp);
    expect(await s1.next()).toMatchObject({ t: 'auth_ok' });
    // Replayed on a new connection: it answers someone else's challenge.
    const s2 = await rawSocket(t.relay.url);
    await s2.next();
    s2.send(resp);
    expect(await s2.next()).toMatchObject({ t: 'error', code: 'auth_failed', message: 'auth_wrong_challenge' });
    // On the same connection after a failed attempt: the nonce is used once only.
    const s3 = await rawSocket(t.relay.url);
    const hello3 = (await s3.next()) as Hello;
    s3.send({ ...authMsg(alice, hello3), signature: new Uint8Array(64) });
    expect(await s3.next()).toMatchObject({ t: 'error', code: 'auth_failed', message: 'auth_bad_signature' });
    s3.send(authMsg(alice, hello3, 2));
    expect(await s3.next()).toMatchObject({ t: 'error', id: 2, code: 'auth_failed', message: 'auth_replayed' });
    for (const s of [s1, s2, s3]) s.ws.close();
  });

  it("eve can't claim alice's device id with her own key", async () => {
    const alice = device('alice');
    const eve = device('eve');
    const s = await rawSocket(t.relay.url);
    const hello = (await s.next()) as Hello;
    s.send({ ...authMsg(eve, hello), deviceId: alice.deviceId });
    expect(await s.next()).toMatchObject({ t: 'error', code: 'auth_failed', message: 'auth_wrong_device_id' });
    s.ws.close();
  });

  it('requests before authentication are refused', async () => {
    const s = await rawSocket(t.relay.url);
    await s.next();
    s.send({ t: 'pull', id: 5, workspaceId: 'w', cursor: 0 });
    expect(await s.next()).toMatchObject({ t: 'error', id: 5, code: 'not_authenticated' });
    s.ws.close();
  });

  it("a non-member can't subscribe or pull, but can read the log to join", async () => {
    const alice = device('alice');
    const eve = device('eve');
    const w = await publishWorkspace(t.relay, alice, [], undefined, c.now());
    const e = await connect(t.relay, eve, [w.workspaceId]);
    expect(e.leases.size).toBe(0);
    await expect(e.subscribe(w.workspaceId)).rejects.toMatchObject({ code: 'not_member' });
    await expect(e.pull(w.workspaceId, 0)).rejects.toMatchObject({ code: 'not_member' });
    expect(await e.getLog(w.workspaceId)).toHaveLength(1);
    await expect(e.getLog('no-such-workspace')).rejects.toMatchObject({ code: 'unknown_workspace' });
    // Nor can eve append an entry the identity library refuses (a forged invite).
    await expect(e.appendLog(w.workspaceId, envelope(eve, { workspaceId: w.workspaceId, seq: 1, leaseId: 'x' }))).rejects.toMatchObject({ code: 'log_rejected' });
    e.close();
  });

  it('the client refuses a relay whose key differs from the recorded one', async () => {
    const alice = device('alice');
    const { RelayClient } = await import('../../src/docs/sync/relayClient.ts');
    const { WebSocket } = await import('ws');
    await expect(
      RelayClient.connect({ url: t.relay.url, signingKey: alice.signingKey, devicePub: alice.signingPub, expectedRelayPub: new Uint8Array(32).fill(1), WebSocket: WebSocket as never }),
    ).rejects.toMatchObject({ code: 'relay_key_mismatch' });
  });

  it('connecting to a relay that is not there fails with a clear code, not a hang', async () => {
    const alice = device('alice');
    const { RelayClient } = await import('../../src/docs/sync/relayClient.ts');
    const { WebSocket } = await import('ws');
    const url = t.relay.url;
    await t.relay.close();
    await expect(
      RelayClient.connect({ url, signingKey: alice.signingKey, devicePub: alice.signingPub, WebSocket: WebSocket as never, timeoutMs: 5000 }),
    ).rejects.toMatchObject({ code: 'closed' });
    await t.restart();
  });
});
