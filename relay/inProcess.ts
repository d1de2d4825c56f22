// An in-process transport to the relay, for `cloister sim --memory`: a pair of socket ends that pass
// frames in order, in a later microtask, with no network in between. The relay side looks to the
// relay like a `ws` WebSocket (what Connection uses of one); the client side looks to RelayClient
// like a browser WebSocket. Everything else (authentication, signed replies, limits) is the same code.
import { EventEmitter } from 'node:events';

const CONNECTING = 0;
const OPEN = 1;
const CLOSING = 2;
const CLOSED = 3;

/** What the relay holds: the subset of `ws`'s WebSocket that Connection and the server use. */
export class RelaySideSocket extends EventEmitter {
  readonly OPEN = OPEN;
  readyState = OPEN;
  bufferedAmount = 0;
  constructor(private readonly peer: InProcessSocket) {
    super();
  }
  send(frame: Uint8Array): void {
    if (this.readyState !== OPEN) return;
    const copy = new Uint8Array(frame); // the relay may reuse its buffer
    queueMicrotask(() => this.peer.deliver(copy));
  }
  close(code = 1000, reason = ''): void {
    if (this.readyState >= CLOSING) return;
    this.readyState = CLOSING;
    queueMicrotask(() => this.peer.closed(code, reason));
  }
  terminate(): void {
    this.close(1006, '');
  }
  /** The client closed its end. */
  closed(code: number): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSED;
    this.emit('close', code);
  }
}

/** What the client holds: the WebSocket subset RelayClient uses. */
export class InProcessSocket {
  binaryType = 'arraybuffer';
  readyState = CONNECTING;
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: { code: number; reason: string }) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  readonly #relay: RelaySideSocket;

  constructor(accept: (relaySide: RelaySideSocket) => void) {
    this.#relay = new RelaySideSocket(this);
    queueMicrotask(() => {
      if (this.readyState !== CONNECTING) return;
      this.readyState = OPEN;
      this.onopen?.({});
      accept(this.#relay); // the relay's hello follows, in a later microtask
    });
  }
  send(data: Uint8Array): void {
    if (this.readyState !== OPEN) return;
    const copy = Buffer.from(data);
    queueMicrotask(() => {
      if (this.#relay.readyState === OPEN) this.#relay.emit('message', copy, true);
    });
  }
  close(code = 1000, reason = ''): void {
    if (this.readyState >= CLOSING) return;
    this.readyState = CLOSING;
    queueMicrotask(() => {
      this.#relay.closed(code);
      this.closed(code, reason);
    });
  }
  /** A frame from the relay. */
  deliver(frame: Uint8Array): void {
    if (this.readyState !== OPEN) return;
    this.onmessage?.({ data: frame.buffer.slice(frame.byteOffset, frame.byteOffset + frame.byteLength) });
  }
  /** Either end closed the connection. */
  closed(code: number, reason: string): void {
    if (this.readyState === CLOSED) return;
    this.readyState = CLOSED;
    this.#relay.closed(code);
    this.onclose?.({ code, reason });
  }
}

/** A WebSocket-like constructor whose sockets connect to `accept` in-process (the URL is ignored). */
export type InProcessSocketCtor = new (url: string) => InProcessSocket;
export function inProcessSocketClass(accept: (relaySide: RelaySideSocket) => void): InProcessSocketCtor {
  return class extends InProcessSocket {
    constructor(_url: string) {
      super(accept);
    }
  };
}
