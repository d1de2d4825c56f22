// The device-link mailbox (docs/DEVICES.md): write-once slots under a rendezvous id that only holders
// of a one-time code can compute. Items are sealed under a key derived from the code, so the relay
// keeps them opaque; it enforces size, a per-device rate, a global cap and expiry (its own clock).
import type { MailboxSlot } from '../../src/protocol/messages.ts';
import type { RelayContext } from '../context.ts';

export type MailboxPutResult =
  | { ok: true; expiresAt: number }
  | { ok: false; code: 'rate_limited' | 'too_large' | 'mailbox_taken' | 'not_found'; message: string };

export async function putMailbox(ctx: RelayContext, deviceId: string, box: string, slot: MailboxSlot, data: Uint8Array): Promise<MailboxPutResult> {
  if (!ctx.mailboxBuckets.take(deviceId)) return { ok: false, code: 'rate_limited', message: 'too many mailbox requests; retry later' };
  if (data.length > ctx.limits.mailboxMaxBytes) return { ok: false, code: 'too_large', message: `mailbox items are at most ${ctx.limits.mailboxMaxBytes} bytes` };
  const now = ctx.now();
  let expiresAt: number;
  if (slot === 'request') {
    // A new mailbox: prune what expired, then check the global cap.
    await ctx.store.deleteExpiredMailboxItems(now);
    if ((await ctx.store.countMailboxItems(now)) >= ctx.limits.mailboxMaxItems) return { ok: false, code: 'rate_limited', message: 'the relay holds too many link requests; retry later' };
    expiresAt = now + ctx.limits.mailboxTtlMs;
  } else {
    // Later steps live exactly as long as the mailbox's request.
    const opened = await ctx.store.getMailboxItem(box, 'request', now);
    if (!opened) return { ok: false, code: 'not_found', message: 'no such link request (wrong code, or it expired)' };
    expiresAt = opened.expiresAt;
  }
  const stored = await ctx.store.putMailboxItem({ boxId: box, slot, data, createdAt: now, expiresAt }, now);
  if (!stored) return { ok: false, code: 'mailbox_taken', message: `this link code's ${slot} step was already taken` };
  return { ok: true, expiresAt };
}

export async function getMailbox(ctx: RelayContext, deviceId: string, box: string, slot: MailboxSlot) {
  if (!ctx.mailboxBuckets.take(deviceId)) return { ok: false as const, code: 'rate_limited' as const, message: 'too many mailbox requests; retry later' };
  const item = await ctx.store.getMailboxItem(box, slot, ctx.now());
  return { ok: true as const, item };
}
