// A network attacker in front of the relay: it can forward traffic, but can't pass for the relay
// (no relay proof without the relay key) and can't fake an acknowledgement (receipts are signed).
import { WebSocket, WebSocketServer } from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { RelayClient } from '../../src/docs/sync/relayClient.ts';
import { decodeClientMessage, decodeRelayMessage, encodeMessage } from '../../src/protocol/messages.ts';
import { signReceipt, verifyReceipt, receiptHashOf } from '../../src/protocol/receipt.ts';
import { generateSigningKey } from '../../src/crypto/ed25519.ts';
import type { SigningSecretKey } from '../../src/crypto/keys.ts';
import { connect, device, envelope, leaseIdOf, publishWorkspace, startTestRelay, type TestRelay } from './helpers.ts';
import { integrationTimeouts } from '../timeouts.ts';

integrationTimeouts();

/** Mallory's proxy: forwards both ways, letting `tamper` rewrite relay → client frames. */
async function proxy(target: string, tamper: (frame: Uint8Array, fromClient: Uint8Array[]) => Uint8Array | undefined) {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise((r) => wss.once('listening', r));
  wss.on('connection', (client) => {
    const upstream = new WebSocket(target);
    const fromClient: Uint8Array[] = [];
    const pending: Buffer[] = [];
    upstream.on('open', () => pending.splice(0).forEach((b) => upstream.send(b)));
    client.on('message', (b: Buffer) => {
      fromClient.push(new Uint8Array(b));
      if (upstream.readyState === WebSocket.OPEN) upstream.send(b);
      else pending.push(b);
    });
    upstream.on('message', (b: Buffer) => {
      const out = tamper(new Uint8Array(b), fromClient);
      if (out) client.send(out);
    });
    client.on('close', () => upstream.close());
    upstream.on('close', () => client.close());
  });
  const port = (wss.address() as { port: number }).port;
  return { url: `ws://127.0.0.1:${port}/`, close: () => new Promise<void>((r) => wss.close(() => r())) };
}

describe('impostor relays', () => {
  let t: TestRelay;
  afterEach(async () => {
    await t.stop();
  });

  it("mallory replaying the relay's hello can't complete authentication without the relay key", async () => {
    t = await startTestRelay();
    const alice = device('alice');
    const mallory = generateSigningKey<SigningSecretKey>();
    const p = await proxy(t.relay.url, (frame) => {
      const m = decodeRelayMessage(frame);
      if (m.ok && m.value.t === 'auth_ok') return encodeMessage({ ...m.value, relayProof: signReceipt(mallory.secretKey, { workspaceId: 'x', relaySeq: 1, envelopeHash: new Uint8Array(32) }) });
      return frame;
    });
    await expect(
      RelayClient.connect({ url: p.url, signingKey: alice.signingKey, devicePub: alice.signingPub, expectedRelayPub: t.relay.relayPub, WebSocket: WebSocket as never }),
    ).rejects.toMatchObject({ code: 'relay_key_mismatch' });
    await p.close();
  });

  it("mallory can't fake a push_ack: the client refuses an ack without a valid receipt", async () => {
    t = await startTestRelay();
    const alice = device('alice');
    const w = await publishWorkspace(t.relay, alice);
    const p = await proxy(t.relay.url, (frame, fromClient) => {
      const m = decodeRelayMessage(frame);
      if (m.ok && m.value.t === 'push_ack') {
        // Claim the newest push landed at relay seq 99 instead of what the relay said.
        const last = decodeClientMessage(fromClient[fromClient.length - 1]!);
        expect(last.ok).toBe(true);
        return encodeMessage({ ...m.value, relaySeq: 99 });
      }
      return frame;
    });
    const a = await RelayClient.connect({ url: p.url, signingKey: alice.signingKey, devicePub: alice.signingPub, workspaces: [w.workspaceId], expectedRelayPub: t.relay.relayPub, WebSocket: WebSocket as never });
    const env = envelope(alice, { workspaceId: w.workspaceId, seq: 1, leaseId: leaseIdOf(a, w.workspaceId) });
    await expect(a.push(env)).rejects.toMatchObject({ code: 'protocol' });
    a.close();
    await p.close();
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
