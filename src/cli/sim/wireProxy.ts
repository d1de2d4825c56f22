// A WebSocket-message-level proxy on 127.0.0.1 between one simulated replica and the relay. Faults can
// be switched at any time: re-send client→relay frames (duplicate), cut the connection after a drawn
// number of client→relay frames (drop), and swap adjacent relay→client frames (reorder). It also
// captures envelopes the relay acknowledged, for the replay fault. Randomness comes from a seeded Rng.
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { decodeClientMessage, decodeRelayMessage } from '../../protocol/messages.ts';
import type { Rng } from './rng.ts';

export interface WireFaults {
  /** Probability that a client→relay frame is sent twice. */
  duplicate: number;
  /** Probability that a new connection is cut after a random number (1..cutMax) of client→relay frames. */
  cut: number;
  cutMax: number;
  /** Probability that a relay→client frame is held back and delivered after the next one. */
  reorder: number;
}

export const NO_FAULTS: WireFaults = { duplicate: 0, cut: 0, cutMax: 0, reorder: 0 };

export interface WireStats {
  connections: number;
  forwarded: number;
  duplicated: number;
  cut: number;
  reordered: number;
}

export interface WireProxy {
  url: string;
  faults: WireFaults;
  stats: WireStats;
  /** Envelope bytes the relay acknowledged as new on this proxy's connections, oldest first. */
  captured: Uint8Array[];
  /** Cut the connection carrying the n-th client→relay frame from now (the drop fault's schedule). */
  armCut(n: number): void;
  close(): Promise<void>;
}

const bytesOf = (m: RawData): Uint8Array =>
  Array.isArray(m) ? new Uint8Array(Buffer.concat(m)) : m instanceof ArrayBuffer ? new Uint8Array(m) : new Uint8Array(m);

export async function startWireProxy(upstream: string, rng: Rng, maxCaptured = 500): Promise<WireProxy> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 64 * 1024 * 1024 });
  await new Promise<void>(r => wss.once('listening', () => r()));
  const live = new Set<() => void>();
  let armed = Infinity;
  const proxy: WireProxy = {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`,
    faults: { ...NO_FAULTS },
    stats: { connections: 0, forwarded: 0, duplicated: 0, cut: 0, reordered: 0 },
    captured: [],
    armCut(n: number) {
      armed = n;
    },
    close: () =>
      new Promise<void>(resolve => {
        for (const kill of [...live]) kill();
        wss.close(() => resolve());
      }),
  };

  wss.on('connection', client => {
    proxy.stats.connections++;
    const relay = new WebSocket(upstream, { maxPayload: 64 * 1024 * 1024 });
    const early: RawData[] = [];
    const pushes = new Map<number, Uint8Array>();
    let budget = proxy.faults.cut > 0 && rng.chance(proxy.faults.cut) ? rng.int(1, Math.max(1, proxy.faults.cutMax)) : Infinity;
    let heldBack: { m: RawData; timer: ReturnType<typeof setTimeout> } | undefined;
    let dead = false;
    const kill = () => {
      if (dead) return;
      dead = true;
      live.delete(kill);
      if (heldBack) clearTimeout(heldBack.timer);
      client.terminate();
      relay.terminate();
    };
    live.add(kill);

    const toRelay = (m: RawData) => {
      if (dead) return;
      if (budget-- <= 0 || --armed <= 0) {
        armed = Infinity;
        proxy.stats.cut++;
        return kill();
      }
      const msg = decodeClientMessage(bytesOf(m));
      if (msg.ok && msg.value.t === 'push') pushes.set(msg.value.id, msg.value.envelope);
      relay.send(m, { binary: true });
      proxy.stats.forwarded++;
      if (proxy.faults.duplicate > 0 && rng.chance(proxy.faults.duplicate)) {
        relay.send(m, { binary: true });
        proxy.stats.duplicated++;
      }
    };
    const toClient = (m: RawData) => {
      if (!dead && client.readyState === WebSocket.OPEN) client.send(m, { binary: true });
    };
    client.on('message', (m: RawData) => {
      if (relay.readyState === WebSocket.OPEN) toRelay(m);
      else early.push(m);
    });
    relay.on('open', () => {
      for (const m of early.splice(0)) toRelay(m);
    });
    relay.on('message', (m: RawData) => {
      if (dead) return;
      // Answers come in signed reply frames: the proxy reads the body (it can't forge one).
      const outer = decodeRelayMessage(bytesOf(m));
      const msg = outer.ok && outer.value.t === 'reply' ? decodeRelayMessage(outer.value.body) : outer;
      if (msg.ok && msg.value.t === 'push_ack') {
        const env = pushes.get(msg.value.id);
        if (env && !msg.value.duplicate && proxy.captured.length < maxCaptured) proxy.captured.push(env);
      }
      if (heldBack) {
        // deliver this one first, then the one held back: the two arrive swapped
        const h = heldBack;
        heldBack = undefined;
        clearTimeout(h.timer);
        toClient(m);
        toClient(h.m);
        proxy.stats.reordered++;
        return;
      }
      if (proxy.faults.reorder > 0 && rng.chance(proxy.faults.reorder)) {
        heldBack = { m, timer: setTimeout(() => {
          const h = heldBack;
          heldBack = undefined;
          if (h) toClient(h.m);
        }, 5) };
        return;
      }
      toClient(m);
    });
    const end = () => {
      if (dead) return;
      dead = true;
      live.delete(kill);
      if (heldBack) {
        clearTimeout(heldBack.timer);
        toClient(heldBack.m);
        heldBack = undefined;
      }
      client.close();
      relay.terminate();
    };
    client.on('close', end);
    client.on('error', end);
    relay.on('close', () => {
      if (dead) return;
      dead = true;
      live.delete(kill);
      client.terminate();
    });
    relay.on('error', () => undefined);
  });
  return proxy;
}
