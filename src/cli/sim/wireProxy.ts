// The fault link between one simulated replica and the relay, at the level of WebSocket messages.
// Faults can be switched at any time: re-send client→relay frames (duplicate), cut the connection after
// a drawn number of client→relay frames (drop), and swap adjacent relay→client frames (reorder). It
// also captures envelopes the relay acknowledged, for the replay fault. Randomness comes from a seeded
// Rng. Two carriers share the one fault logic (`faultLink`): a proxy on 127.0.0.1 (a real network hop,
// the default) and, for `--memory`, a socket wrapper around the relay's in-process transport.
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import type { InProcessSocket, InProcessSocketCtor } from '../../../relay/inProcess.ts';
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
  /** Frame bytes each way (client→relay includes duplicates). */
  bytesToRelay: number;
  bytesToClient: number;
}

export interface WireProxy {
  /** The URL the replica connects to (the proxy's, or the relay's own in memory mode). */
  url: string;
  /** In memory mode: the socket constructor the replica uses (RelayClient's `WebSocket` option). */
  socket?: InProcessSocketCtor;
  faults: WireFaults;
  stats: WireStats;
  /** Envelope bytes the relay acknowledged as new on this link's connections, oldest first. */
  captured: Uint8Array[];
  /** Envelopes the replica pushed since the simulator last emptied this (the trace's `pushed`). */
  pushed: Uint8Array[];
  /** Cut the connection carrying the n-th client→relay frame from now (the drop fault's schedule). */
  armCut(n: number): void;
  close(): Promise<void>;
}

const bytesOf = (m: RawData | ArrayBuffer | Uint8Array): Uint8Array =>
  Array.isArray(m) ? new Uint8Array(Buffer.concat(m)) : m instanceof ArrayBuffer ? new Uint8Array(m) : new Uint8Array(m);

/** The two ends one connection's frames go to, and how to kill both. */
interface Ends {
  toRelay(m: Uint8Array): void;
  toClient(m: Uint8Array): void;
  /** Cut both sides at once (the drop fault). */
  kill(): void;
}

/** The shared fault state of one replica's link; each connection gets a `faultLink` on it. */
function linkState(url: string, rng: Rng, maxCaptured: number) {
  let armed = Infinity;
  const live = new Set<() => void>();
  // one stream per fault: which frames interleave each way can't shift another fault's draws
  const draws = { cut: rng.fork('cut'), duplicate: rng.fork('duplicate'), reorder: rng.fork('reorder') };
  const proxy: WireProxy = {
    url,
    faults: { ...NO_FAULTS },
    stats: { connections: 0, forwarded: 0, duplicated: 0, cut: 0, reordered: 0, bytesToRelay: 0, bytesToClient: 0 },
    captured: [],
    pushed: [],
    armCut(n: number) {
      armed = n;
    },
    close: async () => {
      for (const kill of [...live]) kill();
    },
  };
  /** One connection through the link: frames in each direction, and the end of the connection. */
  const faultLink = (ends: Ends) => {
    proxy.stats.connections++;
    const pushes = new Map<number, Uint8Array>();
    let budget = proxy.faults.cut > 0 && draws.cut.chance(proxy.faults.cut) ? draws.cut.int(1, Math.max(1, proxy.faults.cutMax)) : Infinity;
    let heldBack: { m: Uint8Array; timer: ReturnType<typeof setTimeout> } | undefined;
    let dead = false;
    const toClient = (m: Uint8Array) => {
      if (dead) return;
      proxy.stats.bytesToClient += m.length;
      ends.toClient(m);
    };
    const kill = () => {
      if (dead) return;
      dead = true;
      live.delete(kill);
      if (heldBack) clearTimeout(heldBack.timer);
      ends.kill();
    };
    live.add(kill);
    return {
      fromClient(m: Uint8Array) {
        if (dead) return;
        if (budget-- <= 0 || --armed <= 0) {
          armed = Infinity;
          proxy.stats.cut++;
          return kill();
        }
        const msg = decodeClientMessage(m);
        if (msg.ok && msg.value.t === 'push') {
          pushes.set(msg.value.id, msg.value.envelope);
          proxy.pushed.push(msg.value.envelope);
        }
        ends.toRelay(m);
        proxy.stats.forwarded++;
        proxy.stats.bytesToRelay += m.length;
        if (proxy.faults.duplicate > 0 && draws.duplicate.chance(proxy.faults.duplicate)) {
          ends.toRelay(m);
          proxy.stats.duplicated++;
          proxy.stats.bytesToRelay += m.length;
        }
      },
      fromRelay(m: Uint8Array) {
        if (dead) return;
        // Answers come in signed reply frames: the link reads the body (it can't forge one).
        const outer = decodeRelayMessage(m);
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
        if (proxy.faults.reorder > 0 && draws.reorder.chance(proxy.faults.reorder)) {
          heldBack = {
            m,
            timer: setTimeout(() => {
              const h = heldBack;
              heldBack = undefined;
              if (h) toClient(h.m);
            }, 5),
          };
          return;
        }
        toClient(m);
      },
      /** The connection ended normally: what was held back still arrives. */
      end() {
        if (dead) return;
        if (heldBack) {
          clearTimeout(heldBack.timer);
          const h = heldBack;
          heldBack = undefined;
          toClient(h.m);
        }
        dead = true;
        live.delete(kill);
      },
    };
  };
  return { proxy, faultLink };
}

/** A proxy on 127.0.0.1 in front of the relay at `upstream`: a real network hop per replica. */
export async function startWireProxy(upstream: string, rng: Rng, maxCaptured = 500): Promise<WireProxy> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, maxPayload: 64 * 1024 * 1024 });
  await new Promise<void>(r => wss.once('listening', () => r()));
  const { proxy, faultLink } = linkState(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`, rng, maxCaptured);
  const closeLinks = proxy.close;
  proxy.close = async () => {
    await closeLinks();
    await new Promise<void>(resolve => wss.close(() => resolve()));
  };

  wss.on('connection', client => {
    const relay = new WebSocket(upstream, { maxPayload: 64 * 1024 * 1024 });
    const early: Uint8Array[] = [];
    const link = faultLink({
      toRelay: m => relay.send(m, { binary: true }),
      toClient: m => {
        if (client.readyState === WebSocket.OPEN) client.send(m, { binary: true });
      },
      kill: () => {
        client.terminate();
        relay.terminate();
      },
    });
    client.on('message', (m: RawData) => {
      if (relay.readyState === WebSocket.OPEN) link.fromClient(bytesOf(m));
      else early.push(bytesOf(m));
    });
    relay.on('open', () => {
      for (const m of early.splice(0)) link.fromClient(m);
    });
    relay.on('message', (m: RawData) => link.fromRelay(bytesOf(m)));
    const end = () => {
      link.end();
      client.close();
      relay.terminate();
    };
    client.on('close', end);
    client.on('error', end);
    relay.on('close', () => {
      link.end();
      client.terminate();
    });
    relay.on('error', () => undefined);
  });
  return proxy;
}

/**
 * Memory mode: the same faults on the relay's in-process transport. The replica's sockets wrap an
 * in-process socket to the relay; frames pass through the fault link on their way each way.
 */
export function inProcessLink(relayUrl: string, relaySocket: InProcessSocketCtor, rng: Rng, maxCaptured = 500): WireProxy {
  const { proxy, faultLink } = linkState(relayUrl, rng, maxCaptured);
  class FaultySocket {
    binaryType = 'arraybuffer';
    onopen: ((ev: unknown) => void) | null = null;
    onmessage: ((ev: { data: unknown }) => void) | null = null;
    onclose: ((ev: { code: number; reason: string }) => void) | null = null;
    onerror: ((ev: unknown) => void) | null = null;
    readonly #inner: InProcessSocket;
    readonly #link: ReturnType<typeof faultLink>;
    constructor(url: string) {
      const inner = new relaySocket(url);
      this.#inner = inner;
      this.#link = faultLink({
        toRelay: m => inner.send(m),
        toClient: m => this.onmessage?.({ data: m.buffer.slice(m.byteOffset, m.byteOffset + m.byteLength) }),
        kill: () => inner.close(1006, 'cut'),
      });
      inner.onopen = ev => this.onopen?.(ev);
      inner.onmessage = ev => this.#link.fromRelay(bytesOf(ev.data as ArrayBuffer));
      inner.onclose = ev => {
        this.#link.end();
        this.onclose?.(ev);
      };
    }
    get readyState(): number {
      return this.#inner.readyState;
    }
    send(data: Uint8Array): void {
      this.#link.fromClient(new Uint8Array(data));
    }
    close(code?: number, reason?: string): void {
      this.#inner.close(code, reason);
    }
  }
  proxy.socket = FaultySocket as unknown as InProcessSocketCtor;
  return proxy;
}
