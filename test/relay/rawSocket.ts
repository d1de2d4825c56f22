// A bare WebSocket to the relay for tests that must send what a well-behaved client never would.
// Replies are opened like a client opens them (signed for this connection's challenge and their id);
// one that does not open fails the test, so every raw-socket test also checks the relay signs its answers.
import { WebSocket } from 'ws';
import type { PublicKey } from '../../src/crypto/keys.ts';
import { decodeRelayMessage, encodeMessage, type ClientMessageInput, type RelayMessage } from '../../src/protocol/messages.ts';
import { openReply } from '../../src/protocol/signedReply.ts';

export interface RawSocket {
  ws: WebSocket;
  /** The next decoded message from the relay, a reply opened to its signed body (rejects if the socket closes first). */
  next(): Promise<RelayMessage>;
  /** Every frame as it arrived, replies still wrapped. */
  frames: RelayMessage[];
  send(msg: ClientMessageInput): void;
  sendRaw(bytes: Uint8Array | string): void;
  closed: Promise<number>;
}

export async function rawSocket(url: string): Promise<RawSocket> {
  const ws = new WebSocket(url);
  const inbox: RelayMessage[] = [];
  const frames: RelayMessage[] = [];
  let hello: Extract<RelayMessage, { t: 'hello' }> | undefined;
  const waiters: { resolve: (m: RelayMessage) => void; reject: (e: Error) => void }[] = [];
  let closeCode: number | undefined;
  const closed = new Promise<number>((resolve) =>
    ws.on('close', (code) => {
      closeCode = code;
      for (const w of waiters.splice(0)) w.reject(new Error(`closed ${code}`));
      resolve(code);
    }),
  );
  ws.on('error', () => undefined);
  ws.on('message', (data: Buffer) => {
    const m = decodeRelayMessage(new Uint8Array(data));
    if (!m.ok) throw new Error(`relay sent an invalid frame: ${m.reason}`);
    frames.push(m.value);
    let msg: RelayMessage = m.value;
    if (msg.t === 'hello') hello ??= msg;
    if (msg.t === 'reply') {
      if (!hello) throw new Error('relay sent a reply before its hello');
      const r = openReply(hello.relayPub as PublicKey, hello.challenge, msg);
      if (!r.ok) throw new Error(`relay sent a reply that does not open: ${r.reason}`);
      msg = r.value;
    } else if ('id' in msg && msg.id !== undefined) throw new Error(`relay answered request ${msg.id} unsigned (${msg.t})`);
    const w = waiters.shift();
    if (w) w.resolve(msg);
    else inbox.push(msg);
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    ws,
    closed,
    frames,
    next: () => {
      const m = inbox.shift();
      if (m) return Promise.resolve(m);
      if (closeCode !== undefined) return Promise.reject(new Error(`closed ${closeCode}`));
      return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
    },
    send: (msg) => ws.send(encodeMessage(msg)),
    sendRaw: (bytes) => ws.send(bytes),
  };
}
