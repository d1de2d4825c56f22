// A BroadcastChannel between the tabs of one profile and workspace, named after the workspace's
// storage name (a keyed hash, never the workspace id). Incoming messages are validated (tabMessages.ts)
// and those of this tab or of unknown shape dropped. Where BroadcastChannel is missing it is a no-op.
import { parseTabMessage, type TabMessage } from './tabMessages.ts';

export interface TabChannel {
  post(m: TabMessage): void;
  /** Subscribe to valid messages from other tabs; returns the unsubscribe function. */
  on(cb: (m: TabMessage) => void): () => void;
  close(): void;
}

export function openTabChannel(storageName: string, selfId: string): TabChannel {
  const BC = (globalThis as { BroadcastChannel?: typeof BroadcastChannel }).BroadcastChannel;
  const listeners = new Set<(m: TabMessage) => void>();
  if (!BC) return { post() {}, on: (cb) => (listeners.add(cb), () => listeners.delete(cb)), close() {} };
  const ch = new BC(`${storageName}-tabs`);
  let closed = false;
  ch.onmessage = (ev: MessageEvent) => {
    const m = parseTabMessage(ev.data);
    if (!m || m.from === selfId) return;
    for (const cb of listeners) {
      try {
        cb(m);
      } catch {
        /* one listener's failure is not the channel's */
      }
    }
  };
  return {
    post(m) {
      if (!closed) ch.postMessage(m);
    },
    on(cb) {
      listeners.add(cb);
      return () => listeners.delete(cb);
    },
    close() {
      closed = true;
      listeners.clear();
      ch.close();
    },
  };
}
