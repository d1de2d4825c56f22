// The relay's device-link mailbox: write-once slots that live 10 minutes from the request, with a
// size limit, a per-device rate and a global cap. The relay stores what it is given and forwards it.
import { afterEach, describe, expect, it } from 'vitest';
import { RelayRequestError } from '../../src/docs/sync/relayClient.ts';
import { clock, connect, device, startTestRelay, type TestRelay } from './helpers.ts';

const BOX = 'AbCdEfGhIjKlMnOpQrStUv';
let t: TestRelay | undefined;
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

const code = (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (e instanceof RelayRequestError ? e.code : String(e)));

describe('relay device-link mailbox', () => {
  it('stores a request, forwards each step once, and forgets the mailbox after 10 minutes', async () => {
    const c = clock();
    t = await startTestRelay({ now: c.now });
    const phone = await connect(t.relay, device('alice'));
    const laptop = await connect(t.relay, device('alice'));
    expect(await laptop.getMailbox(BOX, 'request')).toBeUndefined();
    expect(await code(laptop.putMailbox(BOX, 'offer', Uint8Array.of(1)))).toBe('not_found'); // no request: nothing to answer
    const expiresAt = await phone.putMailbox(BOX, 'request', Uint8Array.of(7, 7));
    expect(expiresAt).toBe(c.now() + 10 * 60_000);
    expect(await laptop.getMailbox(BOX, 'request')).toEqual(Uint8Array.of(7, 7));
    expect(await laptop.putMailbox(BOX, 'offer', Uint8Array.of(2))).toBe(expiresAt); // later steps share the request's expiry
    expect(await code(laptop.putMailbox(BOX, 'offer', Uint8Array.of(3)))).toBe('mailbox_taken');
    expect(await code(phone.putMailbox(BOX, 'request', Uint8Array.of(9)))).toBe('mailbox_taken');
    expect(await phone.getMailbox(BOX, 'offer')).toEqual(Uint8Array.of(2));
    c.advance(10 * 60_000);
    expect(await phone.getMailbox(BOX, 'offer')).toBeUndefined();
    expect(await laptop.getMailbox(BOX, 'request')).toBeUndefined();
    expect(await code(laptop.putMailbox(BOX, 'enrol', Uint8Array.of(4)))).toBe('not_found');
    const metrics = await (await fetch(`${t.relay.httpUrl}/metrics`)).text();
    expect(metrics).toContain('cloister_mailbox_requests_total{op="put",result="mailbox_taken"} 2');
    expect(metrics).toContain('cloister_mailbox_requests_total{op="put",result="not_found"} 2');
    phone.close();
    laptop.close();
  });

  it('refuses items over the size limit, devices that poll too fast, and new mailboxes beyond the cap', async () => {
    t = await startTestRelay({ limits: { mailboxMaxBytes: 64, mailboxBurst: 3, mailboxPerSecond: 0.001, mailboxMaxItems: 1 } });
    const eve = await connect(t.relay, device('eve'));
    expect(await code(eve.putMailbox(BOX, 'request', new Uint8Array(65)))).toBe('too_large');
    expect(await code(eve.putMailbox(BOX, 'request', new Uint8Array(64)))).toBe('ok');
    expect(await code(eve.putMailbox('ZyXwVuTsRqPoNmLkJiHgFe', 'request', new Uint8Array(1)))).toBe('rate_limited'); // global cap of 1
    expect(await code(eve.getMailbox(BOX, 'request'))).toBe('rate_limited'); // burst of 3 used up
    const other = await connect(t.relay, device('alice'));
    expect(await other.getMailbox(BOX, 'request')).toEqual(new Uint8Array(64)); // the bucket is per device
    eve.close();
    other.close();
  });
});
