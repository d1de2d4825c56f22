// Live delivery to subscribed connections. A subscriber whose device is no longer active is dropped.
import { encodeMessage, type RelayMessage } from '../../src/protocol/messages.ts';
import type { RelayContext, Subscriber } from '../context.ts';

export async function fanOut(ctx: RelayContext, workspaceId: string, msg: RelayMessage, except?: Subscriber): Promise<void> {
  const subs = ctx.subscribers.get(workspaceId);
  if (!subs || subs.size === 0) return;
  const state = await ctx.workspaces.state(workspaceId);
  const frame = encodeMessage(msg);
  for (const s of subs) {
    if (state === undefined || !s.deviceId || !ctx.model.isActiveDevice(state, s.deviceId)) {
      subs.delete(s);
      continue;
    }
    if (s !== except) s.send(frame);
  }
}
