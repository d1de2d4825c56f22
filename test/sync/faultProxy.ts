// A WebSocket-message-level proxy on 127.0.0.1 between sync clients and a relay, for fault tests.
// Each client connection gets its own upstream connection; binary messages are forwarded both ways.
// Faults (changeable at any time through `faults`): cut a connection after a random number of
// client→relay messages, re-send client→relay messages (duplicates), delay messages, withhold
// relay→client messages (e.g. acks, while the relay is killed). `upstream` can be re-pointed (a
// restarted relay on a new port). Randomness comes from the seeded `random` passed in.
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer, type RawData } from 'ws';

export interface Faults {
  /** Per connection, cut both sides after this many client→relay messages (drawn per connection). */
  cutAfter?: () => number;
  /** Probability that a client→relay message is sent twice. */
  duplicate: number;
  /** Extra delay (ms) before forwarding a message, either way. */
  delayMs?: () => number;
  /** Relay→client messages for which this returns true are swallowed (counted in `withheld`). */
  withhold?: (m: Uint8Array) => boolean;
}

export interface FaultProxy {
  url: string;
  upstream: string;
  faults: Faults;
  stats: { connections: number; forwarded: number; duplicated: number; cut: number; withheld: number };
  /** Drop every open connection now (both sides). */
  cutAll(): void;
  close(): Promise<void>;
}

export async function startFaultProxy(upstream: string, random: () => number): Promise<FaultProxy> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 64 * 1024 * 1024 });
  await new Promise<void>(r => wss.once('listening', () => r()));
  const live = new Set<{ cut(): void }>();
  const proxy: FaultProxy = {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`,
    upstream,
    faults: { duplicate: 0 },
    stats: { connections: 0, forwarded: 0, duplicated: 0, cut: 0, withheld: 0 },
    cutAll() {
      for (const c of [...live]) c.cut();
    },
    close: () =>
      new Promise<void>(resolve => {
        proxy.cutAll();
        wss.close(() => resolve());
      }),
  };

  wss.on('connection', client => {
    proxy.stats.connections++;
    const relay = new WebSocket(proxy.upstream, { maxPayload: 64 * 1024 * 1024 });
    const queue: RawData[] = []; // client messages before the upstream is open
    let budget = proxy.faults.cutAfter?.() ?? Infinity;
    let dead = false;
    const conn = {
      cut() {
        if (dead) return;
        dead = true;
        live.delete(conn);
        proxy.stats.cut++;
        client.terminate();
        relay.terminate();
      },
    };
    live.add(conn);
    // Delays keep each direction in order (TCP never reorders): every message waits for the one before.
    const tails = { up: Promise.resolve(), down: Promise.resolve() };
    const later = (dir: 'up' | 'down', fn: () => void) => {
      const d = proxy.faults.delayMs?.() ?? 0;
      if (d <= 0 && dir === 'up' && tails.up === upIdle) return fn();
      if (d <= 0 && dir === 'down' && tails.down === downIdle) return fn();
      tails[dir] = tails[dir].then(() => new Promise<void>(r => setTimeout(() => (fn(), r()), d)));
    };
    const upIdle = tails.up;
    const downIdle = tails.down;
    const toRelay = (m: RawData) => {
      if (dead) return;
      if (budget-- <= 0) return conn.cut();
      later('up', () => {
        if (dead || relay.readyState !== WebSocket.OPEN) return;
        relay.send(m, { binary: true });
        proxy.stats.forwarded++;
        if (proxy.faults.duplicate > 0 && random() < proxy.faults.duplicate) {
          relay.send(m, { binary: true });
          proxy.stats.duplicated++;
        }
      });
    };
    client.on('message', (m: RawData) => {
      if (relay.readyState === WebSocket.OPEN) toRelay(m);
      else queue.push(m);
    });
    relay.on('open', () => {
      for (const m of queue.splice(0)) toRelay(m);
    });
    relay.on('message', (m: RawData) => {
      if (dead) return;
      if (proxy.faults.withhold?.(m as Buffer)) {
        proxy.stats.withheld++;
        return;
      }
      later('down', () => {
        if (!dead && client.readyState === WebSocket.OPEN) client.send(m, { binary: true });
      });
    });
    const end = () => {
      if (dead) return;
      dead = true;
      live.delete(conn);
      client.close();
      relay.terminate();
    };
    client.on('close', end);
    relay.on('close', () => {
      if (dead) return;
      dead = true;
      live.delete(conn);
      client.terminate(); // the relay went away: the client sees the connection drop
    });
    client.on('error', end);
    relay.on('error', () => undefined); // 'close' follows
  });
  return proxy;
}
