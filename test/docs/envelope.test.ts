import * as A from '@automerge/automerge';
import { describe, expect, it } from 'vitest';
import { openEnvelope } from '../../src/docs/envelope/openEnvelope.ts';
import { ENVELOPE_REJECTION_CODES } from '../../src/docs/rejections.ts';
import { FixtureAuthority, MapSeqView, makeDevice, sealAs, someChanges } from './fixtures.ts';

describe('change envelopes', () => {
  const alice = makeDevice('alice');
  const bob = makeDevice('bob');
  const eve = makeDevice('eve');
  const mallory = makeDevice('mallory');
  const rita = makeDevice('rita');
  const auth = new FixtureAuthority().add(alice).add(bob).add(mallory).add(rita, 'reader').revoke(mallory);
  const doc = 'doc-1';

  it('bob opens what alice sealed, and gets back exactly her changes', () => {
    const changes = someChanges(alice.actor, 5);
    const env = sealAs(auth, alice, doc, 1, changes);
    const r = openEnvelope(env.bytes, auth, new MapSeqView());
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.order).toBe('next');
    expect(r.value.changes).toEqual(changes);
    expect(r.value.device.userId).toBe('alice');
    expect(r.value.envelopeHash).toBe(env.envelopeHash);
  });

  it('flipping any single byte of an envelope is rejected, with a stable reason', () => {
    const env = sealAs(auth, alice, doc, 1, someChanges(alice.actor, 3));
    const seen = new Set<string>();
    for (let i = 0; i < env.bytes.length; i++) {
      for (const mask of [0x01, 0x80]) {
        const tampered = env.bytes.slice();
        tampered[i]! ^= mask;
        const r = openEnvelope(tampered, auth, new MapSeqView());
        expect(r.ok, `byte ${i} mask ${mask}`).toBe(false);
        if (!r.ok) {
          expect(ENVELOPE_REJECTION_CODES).toContain(r.reason);
          seen.add(r.reason);
        }
      }
    }
    expect(seen.has('bad_signature')).toBe(true);
  });

  it('eve, who is no member, cannot get an envelope accepted even when it is well formed', () => {
    const env = sealAs(auth, eve, doc, 1, someChanges(eve.actor, 2));
    expect(openEnvelope(env.bytes, auth, new MapSeqView())).toMatchObject({ ok: false, reason: 'unknown_device' });
  });

  it("mallory's revoked device is refused, and so is rita's reader device", () => {
    const m = sealAs(auth, mallory, doc, 1, someChanges(mallory.actor, 2));
    expect(openEnvelope(m.bytes, auth, new MapSeqView())).toMatchObject({ ok: false, reason: 'device_revoked' });
    const r = sealAs(auth, rita, doc, 1, someChanges(rita.actor, 2));
    expect(openEnvelope(r.bytes, auth, new MapSeqView())).toMatchObject({ ok: false, reason: 'no_write_permission' });
  });

  it("an envelope for another workspace is refused before any key is used", () => {
    const env = sealAs(auth, alice, doc, 1, someChanges(alice.actor, 1), { workspaceId: 'ws-other' });
    expect(openEnvelope(env.bytes, auth, new MapSeqView())).toMatchObject({ ok: false, reason: 'wrong_workspace' });
  });

  it("alice cannot pass off changes under bob's actor, even in an envelope she signs", () => {
    // Alice makes changes whose actor is bob's, and signs them with her own key and her nonce.
    const forged = someChanges(bob.actor, 2);
    const env = sealAs(auth, alice, doc, 1, forged);
    expect(openEnvelope(env.bytes, auth, new MapSeqView())).toMatchObject({ ok: false, reason: 'actor_mismatch' });
    // Nor by claiming bob's session nonce: the actor is recomputed from the signer's key.
    const env2 = sealAs(auth, alice, doc, 1, forged, { sessionNonce: bob.sessionNonce });
    expect(openEnvelope(env2.bytes, auth, new MapSeqView())).toMatchObject({ ok: false, reason: 'actor_mismatch' });
  });

  it('an envelope for an epoch the reader holds no key for is refused as unknown_epoch', () => {
    const env = sealAs(auth, alice, doc, 1, someChanges(alice.actor, 1), { epoch: 7 });
    expect(openEnvelope(env.bytes, auth, new MapSeqView())).toMatchObject({ ok: false, reason: 'unknown_epoch' });
  });

  it('a body that is not Automerge changes is refused as changes_malformed', () => {
    const env = sealAs(auth, alice, doc, 1, [new Uint8Array([1, 2, 3])]);
    expect(openEnvelope(env.bytes, auth, new MapSeqView())).toMatchObject({ ok: false, reason: 'changes_malformed' });
  });

  it('sequence: next applies, a gap is held, a re-delivery is a no-op, a different envelope at a used seq is a replay', () => {
    const seqs = new MapSeqView();
    const all = someChanges(alice.actor, 3);
    const e1 = sealAs(auth, alice, doc, 1, all.slice(0, 1));
    const e2 = sealAs(auth, alice, doc, 2, all.slice(1, 2));
    const e3 = sealAs(auth, alice, doc, 3, all.slice(2, 3));
    const o1 = openEnvelope(e1.bytes, auth, seqs);
    expect(o1).toMatchObject({ ok: true, value: { order: 'next' } });
    seqs.record(alice.deviceId, doc, 1, e1.envelopeHash);
    expect(openEnvelope(e3.bytes, auth, seqs)).toMatchObject({ ok: true, value: { order: 'gap' } });
    expect(openEnvelope(e1.bytes, auth, seqs)).toMatchObject({ ok: true, value: { order: 'duplicate' } });
    const other1 = sealAs(auth, alice, doc, 1, all.slice(1, 2));
    expect(openEnvelope(other1.bytes, auth, seqs)).toMatchObject({ ok: false, reason: 'seq_replay' });
    expect(openEnvelope(e2.bytes, auth, seqs)).toMatchObject({ ok: true, value: { order: 'next' } });
  });

  it('one envelope of 100 keystrokes opens to changes that apply cleanly', () => {
    const changes = someChanges(alice.actor, 100);
    const env = sealAs(auth, alice, doc, 1, changes);
    const r = openEnvelope(env.bytes, auth, new MapSeqView());
    if (!r.ok) throw new Error(r.reason);
    const [d] = A.applyChanges(A.init<{ text: string }>(), r.value.changes);
    expect(d.text.length).toBe(100);
  });
});
