// What the web app's sync status says, in words, from plain facts (connection, outbox, lease,
// quarantine, damage). Pure, so the wording is unit-tested; the facts come from the tab that runs the
// sync engine (src/app/tabs/TabSync.ts). Raw transport errors never reach people: an engine error is
// reduced to a stable reason code (problemCodeOf) and shown as a sentence, the code kept for a title.

export type Connection = 'connecting' | 'online' | 'reconnecting' | 'offline' | 'stopped';

export interface SyncFacts {
  connection: Connection;
  /** When the last sync pass finished (ms), or null. */
  lastSyncedAt: number | null;
  /** Envelopes in the shared encrypted outbox, not yet acknowledged by the relay. */
  queued: number;
  /** Offline editing time left under the lease (ms); null before the first lease. */
  offlineRemainingMs: number | null;
  quarantined: number;
  damaged: number;
  /** A stable reason code (PROBLEM_WORDS) when something needs saying, else null. */
  problem: string | null;
}

export const INITIAL_FACTS: SyncFacts = { connection: 'connecting', lastSyncedAt: null, queued: 0, offlineRemainingMs: null, quarantined: 0, damaged: 0, problem: null };

/** Reason codes the status can show, and their words. Codes are those of SyncError, RelayRequestError and SyncSummary.access. */
export const PROBLEM_WORDS: Record<string, string> = {
  relay_key_mismatch: "The relay's identity is not the one this workspace first trusted, so syncing is stopped to protect your data. Contact your administrator.",
  log_invalid: 'The relay sent a member list that does not check out, so syncing is stopped. Contact your administrator.',
  log_fork: "The relay showed this workspace's member list differently to different people. Syncing is stopped to protect your data.",
  not_member: 'The workspace no longer accepts this device (it was removed or revoked). Your edits stay on this device.',
  unknown_workspace: 'The relay does not know this workspace yet; syncing will try again.',
  timeout: 'The relay is slow to answer; syncing will try again.',
  protocol: 'The relay answered something unexpected; syncing will try again.',
  sync_failed: 'Syncing ran into a problem; it will try again.',
};

/** Codes after which the engine stops for good (a person must look). */
const STOPPING = new Set(['relay_key_mismatch', 'log_invalid', 'log_fork']);
/** Codes that only mean the relay is out of reach. */
const UNREACHABLE = new Set(['connect_failed', 'closed']);

/** The stable code of an engine error (SyncError and RelayRequestError carry one); never its message. */
export function problemCodeOf(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && (Object.hasOwn(PROBLEM_WORDS, code) || UNREACHABLE.has(code))) return code;
  return 'sync_failed';
}

/** How an engine error changes the facts: out of reach is a connection state, not a problem. */
export function factsAfterError(f: SyncFacts, e: unknown): SyncFacts {
  const code = problemCodeOf(e);
  if (STOPPING.has(code)) return { ...f, connection: 'stopped', problem: code };
  if (UNREACHABLE.has(code)) return { ...f, connection: 'offline', problem: null };
  return { ...f, connection: f.connection === 'online' ? 'reconnecting' : 'offline', problem: code };
}

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

/** "6 days 4 hours", "4 hours 12 minutes", "12 minutes", "less than a minute". */
export function formatLeaseLeft(ms: number): string {
  const min = Math.floor(ms / 60_000);
  const d = Math.floor(min / 1440), h = Math.floor((min % 1440) / 60), m = min % 60;
  if (d > 0) return h > 0 ? `${plural(d, 'day')} ${plural(h, 'hour')}` : plural(d, 'day');
  if (h > 0) return m > 0 ? `${plural(h, 'hour')} ${plural(m, 'minute')}` : plural(h, 'hour');
  if (m > 0) return plural(m, 'minute');
  return 'less than a minute';
}

export interface StatusWords {
  state: Connection;
  /** "Online · synced 10:42", "Offline", "Reconnecting…", … */
  headline: string;
  /** "3 edits waiting to be sent", or null when nothing waits. */
  queued: string | null;
  /** Offline time left under the lease, shown when not online. */
  lease: string | null;
  /** True once the lease ran out: editing is refused until the relay is reached. */
  leaseExpired: boolean;
  problem: { code: string; text: string } | null;
  quarantined: string | null;
  damaged: string | null;
}

export function describeSync(f: SyncFacts, formatTime: (ms: number) => string = (t) => new Date(t).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })): StatusWords {
  const headline =
    f.connection === 'online' ? (f.lastSyncedAt !== null ? `Online · synced ${formatTime(f.lastSyncedAt)}` : 'Online')
    : f.connection === 'offline' ? 'Offline'
    : f.connection === 'reconnecting' ? 'Reconnecting…'
    : f.connection === 'stopped' ? 'Syncing stopped'
    : 'Connecting to the relay…';
  const leaseExpired = f.offlineRemainingMs === 0;
  const away = f.connection !== 'online';
  const lease = !away ? null
    : f.offlineRemainingMs === null ? 'you can keep editing offline (the first sync sets the limit)'
    : leaseExpired ? 'offline editing time is used up: reconnect to keep editing'
    : `you can keep editing offline for ${formatLeaseLeft(f.offlineRemainingMs)} (lease)`;
  return {
    state: f.connection,
    headline,
    queued: f.queued > 0 ? `${plural(f.queued, 'edit')} waiting to be sent` : null,
    lease,
    leaseExpired,
    problem: f.problem ? { code: f.problem, text: PROBLEM_WORDS[f.problem] ?? PROBLEM_WORDS.sync_failed! } : null,
    quarantined: f.quarantined > 0 ? `${plural(f.quarantined, 'change')} set aside (quarantined) because ${f.quarantined === 1 ? 'it' : 'they'} failed a check` : null,
    damaged: f.damaged > 0 ? `${plural(f.damaged, 'record')} stored here cannot be read; ${f.damaged === 1 ? 'it is' : 'they are'} kept as ${f.damaged === 1 ? 'it is' : 'they are'}` : null,
  };
}

/** The whole status as one line (what a screen reader or a test reads). */
export function statusLine(w: StatusWords): string {
  const parts = [w.headline];
  if (w.state === 'offline' || w.state === 'reconnecting') {
    parts[0] = `${w.headline} — ${w.queued ?? 'nothing waiting to be sent'}`;
  } else if (w.queued) parts.push(w.queued);
  if (w.lease) parts.push(w.lease);
  return parts.join(' · ');
}
