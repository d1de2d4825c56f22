// The device-link mailbox against a relay that tampers: eve runs the relay, sees the rendezvous id and
// the sealed steps, and tries to put her own device in place of alice's phone.
import { describe, expect, it } from 'vitest';
import { toBase64url } from '../../../src/crypto/bytes.ts';
import { buildDeviceLinkRequest, createDeviceLinkCode, verifyDeviceLinkRequest } from '../../../src/identity/workspace/deviceLink.ts';
import { linkMailboxOf, openLinkMessage, sealLinkMessage } from '../../../src/identity/workspace/deviceLinkMailbox.ts';
import { device } from './fixtures.ts';

const pubs = (d: ReturnType<typeof device>) => ({ deviceId: d.deviceId, signingPub: toBase64url(d.signingPub), boxPub: toBase64url(d.boxPub) });

function phoneEnrols() {
  const code = createDeviceLinkCode();
  const mb = linkMailboxOf(code);
  if (!mb.ok) throw new Error(mb.reason);
  const phone = device('alice');
  const req = buildDeviceLinkRequest(code, 'ws1', 'alice', phone);
  if (!req.ok) throw new Error(req.reason);
  return { code, mb: mb.value, phone, req: req.value, sealed: sealLinkMessage(mb.value, 'enrol', { requests: [req.value] }) };
}

describe('device-link mailbox', () => {
  it('the approver opens what the new device sealed under the code', () => {
    const { code, mb, req, sealed } = phoneEnrols();
    const opened = openLinkMessage(mb, 'enrol', sealed);
    expect(opened.ok && opened.value.requests).toEqual([req]);
    expect(verifyDeviceLinkRequest(code, 'ws1', 'alice', opened.ok ? opened.value.requests[0]! : req).ok).toBe(true);
  });

  it('the relay learns neither the code nor the keys: it sees a hash-derived id and ciphertext', () => {
    const { code, mb, req, sealed } = phoneEnrols();
    expect(mb.boxId).not.toContain(code);
    const asText = Buffer.from(sealed).toString('latin1');
    for (const secretOrKey of [code, req.device.boxPub, req.device.signingPub, req.linkProof]) expect(asText).not.toContain(secretOrKey);
  });

  it('a relay that swaps the new device’s key is refused', () => {
    const { code, mb, phone, req } = phoneEnrols();
    const eve = device('alice');
    // Eve cannot seal under alice's code: her own sealing (any other code) does not open.
    const evesCode = linkMailboxOf(createDeviceLinkCode());
    if (!evesCode.ok) throw new Error('code');
    const forged = sealLinkMessage({ boxId: mb.boxId, key: evesCode.value.key }, 'enrol', { requests: [{ ...req, device: pubs(eve) }] });
    const opened = openLinkMessage(mb, 'enrol', forged);
    expect(opened.ok ? 'opened' : opened.reason).toBe('link_message_unopenable');
    // Even with the seal out of the way, the code-keyed proof covers the keys: a swapped box key or
    // signing key (with eve's own enrolment signature) does not verify.
    const swappedBox = { ...req, device: { ...req.device, boxPub: toBase64url(eve.boxPub) } };
    const swapped = verifyDeviceLinkRequest(code, 'ws1', 'alice', swappedBox);
    expect(swapped.ok ? 'accepted' : swapped.reason).toBe('device_link_invalid');
    const evesOwn = buildDeviceLinkRequest(createDeviceLinkCode(), 'ws1', 'alice', eve);
    if (!evesOwn.ok) throw new Error('eve');
    const whole = verifyDeviceLinkRequest(code, 'ws1', 'alice', evesOwn.value);
    expect(whole.ok ? 'accepted' : whole.reason).toBe('device_link_invalid');
    expect(phone.deviceId).not.toBe(eve.deviceId);
  });

  it('a step moved to another slot or another mailbox does not open', () => {
    const { mb, sealed } = phoneEnrols();
    const moved = openLinkMessage(mb, 'request', sealed);
    expect(moved.ok ? 'opened' : moved.reason).toBe('link_message_unopenable');
    const other = linkMailboxOf(createDeviceLinkCode());
    if (!other.ok) throw new Error('code');
    const elsewhere = openLinkMessage({ boxId: other.value.boxId, key: mb.key }, 'enrol', sealed);
    expect(elsewhere.ok ? 'opened' : elsewhere.reason).toBe('link_message_unopenable');
  });

  it('a flipped byte is refused, and codes are checked before use', () => {
    const { mb, sealed } = phoneEnrols();
    const flipped = sealed.slice();
    flipped[flipped.length - 1]! ^= 1;
    expect(openLinkMessage(mb, 'enrol', flipped).ok).toBe(false);
    expect(linkMailboxOf('not a code').ok).toBe(false);
    // Typed by a person: case, dashes and look-alike letters do not matter.
    const code = createDeviceLinkCode();
    const typed = code.toLowerCase().match(/.{1,5}/g)!.join('-');
    expect(linkMailboxOf(typed)).toEqual(linkMailboxOf(code));
  });
});
