// A network attacker in front of the relay: it can forward traffic, but can't pass for the relay
// (no signed reply or relay proof without the relay key) and can't fake an acknowledgement (replies
// and receipts are signed).
import { WebSocket } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { RelayClient } from '../../src/docs/sync/relayClient.ts';
import { encodeMessage } from '../../src/protocol/messages.ts';
import { signReceipt, verifyReceipt, receiptHashOf } from '../../src/protocol/receipt.ts';
import { sealReply } from '../../src/protocol/signedReply.ts';
import { generateSigningKey } from '../../src/crypto/ed25519.ts';
import type { SigningSecretKey } from '../../src/crypto/keys.ts';
import { bareReply, forgeReply, peek, rebody, startMitm } from './mitm.ts';
import { connect, device, envelope, leaseIdOf, publishWorkspace, relayKeyOf, startTestRelay, type TestRelay } from './helpers.ts';
import { integrationTimeouts } from '../timeouts.ts';

integrationTimeouts();

describe('impostor relays', () => {
  let t: TestRelay;
  afterEach(async () => {
    await t.stop();
  });

  it("mallory replaying the relay's hello can't complete authentication without the relay key", async () => {
    t = await startTestRelay();
    const alice = device('alice');
    const mallory = generateSigningKey<SigningSecretKey>();
    const badProof = signReceipt(mallory.secretKey, { workspaceId: 'x', relaySeq: 1, envelopeHash: new Uint8Array(32) });
    // Her auth_ok, sealed under her own key, is not a reply from the relay: the client waits, then gives up.
    const p = await startMitm(t.relay.url, {
      down: (frame, c) => {
        const m = peek(frame);
        return m?.t === 'auth_ok' ? forgeReply({ ...m, relayProof: badProof }, c.hello!.challenge, mallory.secretKey) : frame;
      },
    });
    await expect(
      RelayClient.connect({ url: p.url, signingKey: alice.signingKey, devicePub: alice.signingPub, expectedRelayPub: t.relay.relayPub, WebSocket: WebSocket as never, timeoutMs: 1500 }),
    ).rejects.toMatchObject({ code: 'timeout' });
    await p.close();
    // Even a reply signed by the relay key must carry a relay proof for this client's nonce: the relay
    // key itself (read from its store) re-seals the forged auth_ok here, and the proof still fails.
    const relayKey = await relayKeyOf(t);
    const q = await startMitm(t.relay.url, {
      down: (frame, c) => {
        const m = peek(frame);
        return m?.t === 'auth_ok' ? sealReply(relayKey, c.hello!.challenge, { ...m, relayProof: badProof }) : frame;
      },
    });
    await expect(
      RelayClient.connect({ url: q.url, signingKey: alice.signingKey, devicePub: alice.signingPub, expectedRelayPub: t.relay.relayPub, WebSocket: WebSocket as never }),
    ).rejects.toMatchObject({ code: 'relay_key_mismatch' });
    await q.close();
  });

  it("mallory can't fake a push_ack: a rewritten ack resolves nothing, and an ack needs a valid receipt", async () => {
    t = await startTestRelay();
    const alice = device('alice');
    const w = await publishWorkspace(t.relay, alice);
    // Claim the push landed at relay seq 99 instead of what the relay said: bare, or under the relay's signature.
    const p = await startMitm(t.relay.url, {
      down: (frame) => {
        const m = peek(frame);
        if (m?.t !== 'push_ack') return frame;
        return m.id % 2 ? bareReply({ ...m, relaySeq: 99 }) : rebody(frame, { ...m, relaySeq: 99 });
      },
    });
    const a = await RelayClient.connect({ url: p.url, signingKey: alice.signingKey, devicePub: alice.signingPub, workspaces: [w.workspaceId], expectedRelayPub: t.relay.relayPub, WebSocket: WebSocket as never, timeoutMs: 1500 });
    const env = envelope(alice, { workspaceId: w.workspaceId, seq: 1, leaseId: leaseIdOf(a, w.workspaceId) });
    await expect(a.push(env)).rejects.toMatchObject({ code: 'timeout' }); // id 2: the signature no longer covers the body
    await expect(a.push(env)).rejects.toMatchObject({ code: 'timeout' }); // id 3: bare
    expect(a.ignored).toMatchObject({ reply_bad_signature: 1, reply_unsigned: 1 });
    a.close();
    await p.close();
    // A reply the relay key did sign, with a receipt that does not verify, is still no ack.
    const relayKey = await relayKeyOf(t);
    const q = await startMitm(t.relay.url, {
      down: (frame, c) => {
        const m = peek(frame);
        return m?.t === 'push_ack' ? sealReply(relayKey, c.hello!.challenge, { ...m, relaySeq: 99 }) : frame;
      },
    });
    const b = await RelayClient.connect({ url: q.url, signingKey: alice.signingKey, devicePub: alice.signingPub, workspaces: [w.workspaceId], expectedRelayPub: t.relay.relayPub, WebSocket: WebSocket as never });
    await expect(b.push(env)).rejects.toMatchObject({ code: 'protocol' });
    b.close();
    await q.close();
    // Through the real relay the same envelope is acknowledged with a receipt that verifies.
    const direct = await connect(t.relay, alice, [w.workspaceId]);
    const r = await direct.push(env);
    expect(r.status).toBe('acked');
    if (r.status === 'acked') {
      expect(verifyReceipt(t.relay.relayPub, w.workspaceId, r.relaySeq, env, r.receipt)).toBe(true);
      expect(verifyReceipt(t.relay.relayPub, w.workspaceId, r.relaySeq + 1, env, r.receipt)).toBe(false);
      expect(verifyReceipt(t.relay.relayPub, 'other', r.relaySeq, env, r.receipt)).toBe(false);
      expect(receiptHashOf(env)).toHaveLength(32);
    }
    direct.close();
  });
});
