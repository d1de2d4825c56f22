// A bare WebSocket to the relay for tests that must send what a well-behaved client never would.
import { WebSocket } from 'ws';
import { decodeRelayMessage, encodeMessage, type ClientMessageInput, type RelayMessage } from '../../src/protocol/messages.ts';

export interface RawSocket {
  ws: WebSocket;
  /** The next decoded message from the relay (rejects if the socket closes first). */
  next(): Promise<RelayMessage>;
  send(msg: ClientMessageInput): void;
  sendRaw(bytes: Uint8Array | string): void;
  closed: Promise<number>;
}

export async function rawSocket(url: string): Promise<RawSocket> {
  const ws = new WebSocket(url);
  const inbox: RelayMessage[] = [];
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
    const w = waiters.shift();
    if (w) w.resolve(m.value);
    else inbox.push(m.value);
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return {
    ws,
    closed,
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
