// Live delivery to subscribed connections. A subscriber whose device is no longer active is dropped.
// An envelope is not sent to its author's connections (docs/SYNC.md → Own envelopes).
import { encodeMessage, type RelayMessage } from '../../src/protocol/messages.ts';
import type { RelayContext, Subscriber } from '../context.ts';
import { wallClockMs } from '../metrics.ts';

/** Where a fanned-out item comes from, for the fan-out latency metric: when it was stored (wallClockMs()). */
export interface FanOutOrigin {
  storedAt: number;
  source: 'local' | 'cluster';
}

export async function fanOut(ctx: RelayContext, workspaceId: string, msg: RelayMessage, except?: Subscriber, origin?: FanOutOrigin, author?: string): Promise<void> {
  const subs = ctx.subscribers.get(workspaceId);
  if (!subs || subs.size === 0) return;
  const state = await ctx.workspaces.state(workspaceId);
  const frame = encodeMessage(msg);
  let sent = 0;
  for (const s of subs) {
    if (state === undefined || !s.deviceId || !ctx.model.isActiveDevice(state, s.deviceId)) {
      subs.delete(s);
      continue;
    }
    if (s !== except && (author === undefined || s.deviceId !== author)) {
      s.send(frame);
      sent++;
    }
  }
  if (origin && sent > 0) ctx.metrics.fanoutLatency.observe({ source: origin.source }, Math.max(0, wallClockMs() - origin.storedAt) / 1000);
}
