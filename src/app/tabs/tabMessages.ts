// The messages tabs of one profile and workspace exchange over BroadcastChannel (tabChannel.ts). They
// come from same-origin tabs, but a message is still checked against these schemas before use, and
// one that does not fit is ignored: a bad message can't throw its way into the app.
import { z } from 'zod';

const tabId = z.string().min(1).max(64);
const docId = z.string().min(1).max(128);

export const syncFactsSchema = z.object({
  connection: z.enum(['connecting', 'online', 'reconnecting', 'offline', 'stopped']),
  lastSyncedAt: z.number().finite().nullable(),
  queued: z.number().int().nonnegative(),
  offlineRemainingMs: z.number().nonnegative().nullable(),
  quarantined: z.number().int().nonnegative(),
  damaged: z.number().int().nonnegative(),
  problem: z.string().max(64).nullable(),
});

export const tabMessageSchema = z.discriminatedUnion('t', [
  /** The leader's sync status, and the lease id it holds (followers reload a newer lease). */
  z.object({ t: z.literal('status'), from: tabId, facts: syncFactsSchema, leaseId: z.string().max(128) }),
  /** These documents changed in storage (applied from the relay, or edited in the sending tab). */
  z.object({
    t: z.literal('docs'),
    from: tabId,
    docIds: z.array(docId).max(10_000),
    /** When applied from the relay: which envelopes (as ApplyReport.applied), e.g. to tell who deleted a record. */
    applied: z.array(z.object({ docId, deviceId: z.string().min(1).max(128), seq: z.number().int().nonnegative(), changes: z.number().int().nonnegative() })).max(10_000).optional(),
  }),
  /** A follower sealed edits into the shared outbox or recorded a membership change: sync now, and recount. */
  z.object({ t: z.literal('kick'), from: tabId }),
  /** The membership log changed (the leader synced it): reload the workspace. */
  z.object({ t: z.literal('membership'), from: tabId }),
  /** A new tab asks the leader for its status. */
  z.object({ t: z.literal('hello'), from: tabId }),
]);

export type TabMessage = z.infer<typeof tabMessageSchema>;

/** Is this a message we understand? The parsed message, or undefined. */
export function parseTabMessage(data: unknown): TabMessage | undefined {
  const r = tabMessageSchema.safeParse(data);
  return r.success ? r.data : undefined;
}
