// Mallory on the wire: a WebSocket proxy between clients and a relay that sees every frame, and can
// rewrite or swallow the relay's frames and inject her own towards the client. She does not hold the
// relay key, so whatever she writes is unsigned or signed by her own key.
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { generateSigningKey } from '../../src/crypto/ed25519.ts';
import type { SigningSecretKey } from '../../src/crypto/keys.ts';
import {
  decodeClientMessage, decodeRelayMessage, encodeMessage, type ClientMessage, type RelayMessage, type ReplyMessage,
} from '../../src/protocol/messages.ts';
import { sealReply } from '../../src/protocol/signedReply.ts';

export interface MitmConn {
  /** 0 for the first client connection, 1 for the next… */
  index: number;
  /** The relay's hello on this connection (its challenge is public: it crossed the wire). */
  hello?: Extract<RelayMessage, { t: 'hello' }>;
  /** Every relay → client frame of this connection, as the relay sent it. */
  fromRelay: Uint8Array[];
  /** Send a frame of Mallory's making to the client. */
  toClient(frame: Uint8Array): void;
}

export interface MitmHooks {
  /** A client → relay frame (decoded when it is a valid request), before it is forwarded; false swallows it. */
  up?: (msg: ClientMessage | undefined, c: MitmConn) => boolean | void;
  /** A relay → client frame: return it, another frame, or undefined to swallow it. */
  down?: (frame: Uint8Array, c: MitmConn) => Uint8Array | undefined;
}

export interface Mitm {
  url: string;
  conns: MitmConn[];
  close(): Promise<void>;
}

export async function startMitm(target: string, hooks: MitmHooks): Promise<Mitm> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  await new Promise<void>((r) => wss.once('listening', () => r()));
  const conns: MitmConn[] = [];
  const sockets = new Set<WebSocket>();
  wss.on('connection', (client) => {
    const upstream = new WebSocket(target);
    sockets.add(client).add(upstream);
    const pending: Buffer[] = [];
    const c: MitmConn = {
      index: conns.length,
      fromRelay: [],
      toClient: (frame) => {
        if (client.readyState === WebSocket.OPEN) client.send(frame, { binary: true });
      },
    };
    conns.push(c);
    upstream.on('open', () => pending.splice(0).forEach((b) => upstream.send(b, { binary: true })));
    client.on('message', (b: Buffer) => {
      const m = decodeClientMessage(new Uint8Array(b));
      if (hooks.up?.(m.ok ? m.value : undefined, c) === false) return;
      if (upstream.readyState === WebSocket.OPEN) upstream.send(b, { binary: true });
      else pending.push(b);
    });
    upstream.on('message', (b: Buffer) => {
      const frame = new Uint8Array(b);
      c.fromRelay.push(frame);
      const m = decodeRelayMessage(frame);
      if (m.ok && m.value.t === 'hello') c.hello ??= m.value;
      const out = hooks.down ? hooks.down(frame, c) : frame;
      if (out) c.toClient(out);
    });
    client.on('close', () => upstream.close());
    upstream.on('close', () => client.close());
    client.on('error', () => undefined);
    upstream.on('error', () => undefined);
  });
  return {
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/`,
    conns,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.terminate();
        wss.close(() => r());
      }),
  };
}

/** What a relay frame says, reading a reply's body without checking its signature (Mallory can read). */
export function peek(frame: Uint8Array): RelayMessage | undefined {
  const m = decodeRelayMessage(frame);
  if (!m.ok) return undefined;
  if (m.value.t !== 'reply') return m.value;
  const inner = decodeRelayMessage(m.value.body);
  return inner.ok ? inner.value : undefined;
}

/** Mallory's own signing key: a reply she seals is well formed, but not signed by the relay. */
export const malloryKey = (): SigningSecretKey => generateSigningKey<SigningSecretKey>().secretKey;

/** A forged answer: sealed like the relay would, but under Mallory's key (and the challenge she saw). */
export function forgeReply(msg: ReplyMessage, challenge: Uint8Array, key: SigningSecretKey = malloryKey()): Uint8Array {
  return sealReply(key, challenge, msg);
}

/** A forged answer in the old, unsigned form: the bare message. */
export const bareReply = (msg: ReplyMessage): Uint8Array => encodeMessage(msg);

/** The relay's own reply frame (same id, same signature) around another body. */
export function rebody(frame: Uint8Array, msg: ReplyMessage): Uint8Array {
  const m = decodeRelayMessage(frame);
  if (!m.ok || m.value.t !== 'reply') throw new Error('not a reply frame');
  return encodeMessage({ ...m.value, body: encodeMessage(msg) });
}
