// Behind a load balancer every socket comes from the proxy's address, so per-address limits would
// apply to all clients together. With `trustedProxies: N` the relay takes the client's address from
// the X-Forwarded-For entry its outermost trusted proxy appended, and ignores what a client claims.
import type { IncomingMessage } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { clientAddress } from '../../relay/server.ts';
import { startTestRelay, type TestRelay } from './helpers.ts';
import { integrationTimeouts } from '../timeouts.ts';

integrationTimeouts();

const req = (peer: string, xff?: string) => ({ socket: { remoteAddress: peer }, headers: xff === undefined ? {} : { 'x-forwarded-for': xff } }) as unknown as IncomingMessage;

let t: TestRelay | undefined;
afterEach(async () => {
  await t?.stop();
  t = undefined;
});

/** Resolves with the close code, or 0 once the relay's hello arrived (the connection was served). */
const attempt = (url: string, forwardedFor: string) =>
  new Promise<{ ws: WebSocket; outcome: Promise<number> }>((resolve) => {
    const ws = new WebSocket(url, { headers: { 'x-forwarded-for': forwardedFor } });
    const outcome = new Promise<number>((res) => {
      ws.once('message', () => res(0));
      ws.once('close', (code) => res(code));
    });
    ws.on('error', () => undefined);
    resolve({ ws, outcome });
  });

describe('per-address limits behind a trusted proxy', () => {
  it('the address is the entry the outermost trusted proxy appended; claims further left are ignored', () => {
    expect(clientAddress(req('10.9.9.9', '203.0.113.7'), 0)).toBe('10.9.9.9');
    expect(clientAddress(req('10.9.9.9', '203.0.113.7'), 1)).toBe('203.0.113.7');
    expect(clientAddress(req('10.9.9.9', '1.2.3.4, 203.0.113.7'), 1)).toBe('203.0.113.7'); // "1.2.3.4" is the client's claim
    expect(clientAddress(req('10.9.9.9', '1.2.3.4, 203.0.113.7, 10.0.0.5'), 2)).toBe('203.0.113.7');
    expect(clientAddress(req('10.9.9.9'), 1)).toBe('10.9.9.9');
  });

  it('with one trusted proxy, two clients behind it each get their own connection cap', async () => {
    t = await startTestRelay({ limits: { trustedProxies: 1, maxConnectionsPerAddress: 2 } });
    const a = await Promise.all([attempt(t.relay.url, '198.51.100.1'), attempt(t.relay.url, '198.51.100.1')]);
    expect(await Promise.all(a.map((x) => x.outcome))).toEqual([0, 0]);
    const third = await attempt(t.relay.url, '198.51.100.1');
    expect(await third.outcome).toBe(1013); // over the cap for that client
    const other = await attempt(t.relay.url, '198.51.100.2');
    expect(await other.outcome).toBe(0); // another client behind the same proxy is served
    for (const x of [...a, third, other]) x.ws.terminate();
  });
});
