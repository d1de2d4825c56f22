// What `cloister status` shows for one workspace: relay and pinned key, the offline lease and the
// time left, the outbox, envelopes held for missing predecessors, the quarantine with reasons (e.g.
// lease_expired pushes), documents stored here that do not load (damaged), the relay cursor, the
// membership-log fork alarm (syncing stopped) and offline membership changes (pending or failed). Read-only.
import type { Intent } from '../../identity/workspace/intents.ts';
import type { RecordSession } from '../openSession.ts';
import { DAMAGED_WORDS } from '../damaged.ts';
import { summarizeQuarantined } from '../quarantine.ts';
import { forkAlarm, intentStatuses, type ForkAlarm, type IntentStatus } from './membershipStatus.ts';
import { blockedDocuments } from './resubmit.ts';

export interface SyncStatus {
  workspace: { id: string; name: string; epoch: number };
  relay: string | null;
  /** The relay key pinned on first use (base64url), or null before the first connection. */
  relayKey: string | null;
  lease: { leaseId: string; issuedAt: number; notAfter: number } | null;
  /** null before the first lease (no limit yet: the first sync brings one). */
  offlineRemainingMs: number | null;
  /** Editing is refused until a fresh lease arrives. */
  locked: boolean;
  /** The latest time seen (local clock or relay), ms. */
  lastSeen: number;
  outbox: number;
  pendingRemote: number;
  quarantine: { id: string; reason: string; description: string; detail?: string; at: string; source: string }[];
  /** Documents whose outbox waits behind an own envelope the relay refused (resolve: cloister quarantine resubmit). */
  blocked: { docId: string; seq: number; quarantineId: string; reason: string; waiting: number }[];
  /** Documents stored on this device that do not load; kept as they are, never replaced by empty ones. */
  damaged: { docId: string; reason: string; description: string; detail?: string; at: string }[];
  cursor: number;
  /** The relay was caught forking the membership log: syncing this workspace is stopped. */
  fork: ForkAlarm | null;
  /** Membership changes made offline: waiting for the next sync (pending) or no longer valid (failed). */
  intents: IntentStatus[];
}

/** `intents`: the stored workspace's intents (the open session does not carry them). */
export async function syncStatus(s: Pick<RecordSession, 'session' | 'live' | 'syncState' | 'lease' | 'workspace'>, o: { intents?: readonly Intent[] } = {}): Promise<SyncStatus> {
  const st = await s.syncState.load();
  const lease = s.lease.lease;
  const remaining = lease ? s.lease.offlineRemainingMs() : null;
  const quarantine = (await s.session.quarantine.list()).map(summarizeQuarantined);
  return {
    workspace: { id: s.live.workspaceId, name: s.live.state.name, epoch: s.live.epoch },
    relay: s.workspace.meta.relay ?? null,
    relayKey: st.relayPub ?? null,
    lease: lease ? { leaseId: lease.leaseId, issuedAt: lease.issuedAt, notAfter: lease.notAfter } : null,
    offlineRemainingMs: remaining,
    locked: remaining === 0,
    lastSeen: s.lease.lastSeen,
    outbox: (await s.session.outbox.pending()).length,
    pendingRemote: (await s.session.pending.list()).length,
    quarantine,
    blocked: await blockedDocuments(s.session),
    damaged: (await s.session.damaged.list()).map(d => ({
      docId: d.docId, reason: d.reason, description: DAMAGED_WORDS[d.reason], ...(d.detail ? { detail: d.detail } : {}), at: new Date(d.at).toISOString(),
    })),
    cursor: st.relayCursor,
    fork: forkAlarm(st.fork),
    intents: intentStatuses(o.intents),
  };
}

/** "29d 23h", "4h 12m", "3m 20s", "0s". */
export function formatRemaining(ms: number | null): string {
  if (ms === null) return 'no lease yet (sync once to get one)';
  if (!Number.isFinite(ms)) return 'unlimited';
  const s = Math.floor(ms / 1000);
  const d = Math.floor(s / 86400), h = Math.floor((s % 86400) / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${sec}s`;
  return `${sec}s`;
}
