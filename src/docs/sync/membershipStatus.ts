// What a person must see about a workspace's membership log, for `cloister status` and the web app:
// the fork alarm (the relay showed different logs to different members; syncing is stopped, the
// evidence kept) and the membership changes made offline that still wait for the relay (pending) or
// that the chain no longer allows (failed, with the reason). Read-only, and safe for the browser.
import { describeIntent, type Intent } from '../../identity/workspace/intents.ts';
import { WORKSPACE_REJECTIONS } from '../../identity/workspace/rejections.ts';
import { describeAppendFailure, type AppendFailure, type ForkEvidence } from './chainSync.ts';
import type { SyncSession } from './syncTypes.ts';

export interface ForkAlarm {
  /** The log index where the relay showed two different countersigned entries. */
  index: number;
  detail: string;
  /** ISO time the fork was detected on this device. */
  detectedAt: string;
  /** The two countersigned links at `index` (base64url): ours, and the relay's ('' if it no longer has one). */
  ours: string;
  theirs: string;
  /** Always true: a workspace with fork evidence does not sync. */
  syncStopped: true;
}

export interface IntentStatus {
  id: string;
  status: 'pending' | 'failed';
  /** The intent's kind (invite, remove_member, set_role, …). */
  action: Intent['action']['kind'];
  description: string;
  createdAt: string;
  /** Failed only: the reason code, its words, and any detail. */
  reason?: string;
  reasonText?: string;
  detail?: string;
}

export function forkAlarm(f: ForkEvidence | undefined): ForkAlarm | null {
  if (!f) return null;
  return { index: f.index, detail: f.detail, detectedAt: new Date(f.detectedAt).toISOString(), ours: f.ours, theirs: f.theirs, syncStopped: true };
}

/** One line for the terminal. */
export const forkAlarmLine = (f: ForkAlarm): string =>
  `FORK ALARM: the relay showed this workspace's member log differently to different members (index ${f.index}, detected ${f.detectedAt}). Syncing this workspace is stopped; the evidence is kept (status --json).`;

/** The sentence the web app shows: no jargon. */
export const FORK_ALARM_TEXT =
  "The relay showed this workspace's member list differently to different people. Syncing is stopped to protect your data. Contact your administrator.";

const knownFailure = (r: string): r is AppendFailure => r === 'relay_refused' || Object.hasOwn(WORKSPACE_REJECTIONS, r);

export function intentStatuses(intents: readonly Intent[] | undefined): IntentStatus[] {
  return (intents ?? []).map((i) => ({
    id: i.id,
    status: i.status,
    action: i.action.kind,
    description: describeIntent(i.action),
    createdAt: new Date(i.createdAt).toISOString(),
    ...(i.status === 'failed'
      ? {
          reason: i.reason ?? 'unknown',
          reasonText: i.reason && knownFailure(i.reason) ? describeAppendFailure({ reason: i.reason, ...(i.detail ? { detail: i.detail } : {}) }) : (i.detail ?? i.reason ?? 'no reason recorded'),
          ...(i.detail ? { detail: i.detail } : {}),
        }
      : {}),
  }));
}

/** Counts for a short summary (the web app). */
export function intentCounts(intents: readonly Intent[] | undefined): { pending: number; failed: number } {
  let pending = 0, failed = 0;
  for (const i of intents ?? []) if (i.status === 'pending') pending++;
  else failed++;
  return { pending, failed };
}

/** The fork alarm and intent counts of one workspace, from its sync state and stored workspace. */
export async function membershipSummary(s: Pick<SyncSession, 'syncState' | 'workspaceStore'>): Promise<{ fork: ForkAlarm | null; pending: number; failed: number }> {
  const [st, ws] = await Promise.all([s.syncState.load(), s.workspaceStore.load()]);
  return { fork: forkAlarm(st.fork), ...intentCounts(ws?.intents) };
}
