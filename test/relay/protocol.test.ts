// The wire protocol on its own: messages round-trip and are validated; challenge and lease codecs
// are strict; push reason codes stay in step with src/docs/rejections.ts.
import { describe, expect, it } from 'vitest';
import { randomBytes } from '../../src/crypto/bytes.ts';
import { generateSigningKey } from '../../src/crypto/ed25519.ts';
import { deviceIdOf } from '../../src/crypto/ids.ts';
import type { DeviceSigningKey, SigningSecretKey } from '../../src/crypto/keys.ts';
import { isEnvelopeRejection } from '../../src/docs/rejections.ts';
import { decodeChallenge, encodeChallenge, signChallenge, verifyChallengeResponse } from '../../src/protocol/challenge.ts';
import { decodeLease, encodeLease, verifyLease } from '../../src/protocol/lease.ts';
import {
  PUSH_REJECTION_REASONS, RELAY_ONLY_REJECTIONS, decodeClientMessage, decodeRelayMessage, encodeMessage,
} from '../../src/protocol/messages.ts';

describe('relay wire protocol', () => {
  it('messages round-trip through CBOR and the schemas', () => {
    const env = randomBytes(100);
    const m = decodeClientMessage(encodeMessage({ t: 'push', id: 7, envelope: env }));
    expect(m).toEqual({ ok: true, value: { t: 'push', id: 7, envelope: env } });
    const pull = decodeClientMessage(encodeMessage({ t: 'pull', id: 1, workspaceId: 'w', cursor: 3 }));
    expect(pull).toMatchObject({ ok: true, value: { limit: 500 } }); // default filled in
    const batch = { t: 'batch' as const, id: 1, workspaceId: 'w', envelopes: [{ relaySeq: 4, envelope: env }], nextCursor: 4, more: false };
    expect(decodeRelayMessage(encodeMessage(batch))).toEqual({ ok: true, value: batch });
  });

  it('a relay message is not accepted as a client message, nor the reverse', () => {
    expect(decodeClientMessage(encodeMessage({ t: 'pong', id: 1, time: 1 }))).toMatchObject({ ok: false, reason: 'schema' });
    expect(decodeRelayMessage(encodeMessage({ t: 'ping', id: 1 }))).toMatchObject({ ok: false, reason: 'schema' });
    expect(decodeClientMessage(new Uint8Array())).toMatchObject({ ok: false, reason: 'not_cbor' });
  });

  it('every push rejection is an envelope reason from src/docs/rejections.ts or a listed relay-only one', () => {
    const relayOnly = new Set<string>(RELAY_ONLY_REJECTIONS);
    for (const r of PUSH_REJECTION_REASONS) expect(isEnvelopeRejection(r) || relayOnly.has(r), r).toBe(true);
  });

  it('challenges decode strictly, and a response verifies only for its device and relay', () => {
    const d = generateSigningKey<DeviceSigningKey>();
    const deviceId = deviceIdOf(d.publicKey);
    const challenge = encodeChallenge({ relayId: 'R', nonce: randomBytes(32), time: 1000 });
    expect(decodeChallenge(challenge)).toMatchObject({ ok: true, value: { relayId: 'R', time: 1000 } });
    expect(decodeChallenge(challenge.subarray(1))).toMatchObject({ ok: false });
    expect(decodeChallenge(new Uint8Array([...challenge, 0]))).toMatchObject({ ok: false });
    const signature = signChallenge(d.secretKey, d.publicKey, challenge);
    const resp = { deviceId, devicePub: d.publicKey, challenge, signature };
    expect(verifyChallengeResponse(resp, challenge, 'R', 2000, () => true)).toMatchObject({ ok: true, value: { deviceId } });
    expect(verifyChallengeResponse(resp, challenge, 'S', 2000, () => true)).toMatchObject({ reason: 'auth_wrong_relay' });
    expect(verifyChallengeResponse(resp, challenge, 'R', 62_000, () => true)).toMatchObject({ reason: 'auth_stale' });
    expect(verifyChallengeResponse(resp, challenge, 'R', 2000, () => false)).toMatchObject({ reason: 'auth_replayed' });
    const other = generateSigningKey<DeviceSigningKey>();
    expect(verifyChallengeResponse({ ...resp, devicePub: other.publicKey, deviceId: deviceIdOf(other.publicKey) }, challenge, 'R', 2000, () => true))
      .toMatchObject({ reason: 'auth_bad_signature' });
  });

  it('leases verify under the relay key only, and decode strictly', () => {
    const relay = generateSigningKey<SigningSecretKey>();
    const lease = { leaseId: 'L', relayId: 'R', workspaceId: 'W', deviceId: 'D', issuedAt: 10, notAfter: 20 };
    const bytes = encodeLease(lease, relay.secretKey);
    expect(verifyLease(bytes, relay.publicKey)).toEqual({ ok: true, value: lease });
    expect(decodeLease(bytes.subarray(0, 10))).toMatchObject({ ok: false, reason: 'lease_malformed' });
    expect(verifyLease(bytes, generateSigningKey().publicKey)).toMatchObject({ ok: false, reason: 'lease_bad_signature' });
  });
});
