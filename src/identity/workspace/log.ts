// The membership chain's entry points (DESIGN → Membership log). One encoded entry is validated
// against the complete state after the entry before it and appended; a stored or fetched chain is
// replayed link by link and must be valid throughout. The relay sequences and countersigns; a
// client accepts links from the network only with a countersignature by the pinned relay key.
// No Node-only APIs: the relay, the CLI and the browser reduce the same way.
import { fail, ok, type Result } from '../../crypto/result.ts';
import type { PublicKey } from '../../crypto/keys.ts';
import { applyEntry } from './applyEntry.ts';
import { decodeLink, encodeLink, verifyCountersig, type Link } from './chainLink.ts';
import { decodeEntry, type Entry } from './entry.ts';
import type { WorkspaceRejection } from './rejections.ts';
import { emptyState, type WorkspaceState } from './state.ts';
import { validateEntry } from './validateEntry.ts';

function appendDecoded(state: WorkspaceState, e: Entry, link: Uint8Array, now: number | undefined, inPlace = false): Result<WorkspaceState, WorkspaceRejection> {
  if (state.applied.size === 0) {
    if (e.body.kind !== 'create') return fail('log_no_root');
    if (state.workspaceId !== '' && state.workspaceId !== e.body.ws) return fail('entry_wrong_workspace');
    const fresh = emptyState(e.body.ws);
    const v = validateEntry(fresh, e, now);
    return v.ok ? ok(applyEntry(fresh, e, link, inPlace)) : v;
  }
  const v = validateEntry(state, e, now);
  return v.ok ? ok(applyEntry(state, e, link, inPlace)) : v;
}

/**
 * Validate one encoded entry as the next link of `state` and return the new state. `now` (ms) is
 * the appender's clock, used for invitation expiry. `countersig` is the relay's, when it has one.
 */
export function appendEntry(state: WorkspaceState, bytes: Uint8Array, now: number, countersig?: Uint8Array): Result<WorkspaceState, WorkspaceRejection> {
  const d = decodeEntry(bytes);
  if (!d.ok) return d;
  return appendDecoded(state, d.value, encodeLink(d.value.bytes, countersig), now);
}

/** Check a link's countersignature; `relayPub` undefined accepts an uncountersigned link (our own sealed store). */
function countersigned(link: Link, relayPub: PublicKey | undefined): Result<void, WorkspaceRejection> {
  if (relayPub === undefined) return ok(undefined);
  if (!link.countersig) return fail('entry_not_countersigned', `index ${link.entry.body.index}`);
  if (!verifyCountersig(relayPub, link.entry, link.countersig)) return fail('countersig_invalid', `index ${link.entry.body.index}`);
  return ok(undefined);
}

/** Append one link (entry + countersignature) as received from a relay whose key is `relayPub`. */
export function appendLink(state: WorkspaceState, bytes: Uint8Array, now: number | undefined, relayPub: PublicKey | undefined): Result<WorkspaceState, WorkspaceRejection> {
  const l = decodeLink(bytes);
  if (!l.ok) return l;
  const c = countersigned(l.value, relayPub);
  if (!c.ok) return c;
  return appendDecoded(state, l.value.entry, l.value.bytes, now);
}

export interface ReplayOptions {
  /** Verify every link's countersignature under this relay key (anything fetched from a relay). */
  relayPub?: PublicKey;
}

/**
 * Replay a chain from index 0, in order. Any link that fails (decoding, countersignature, position
 * or validity) fails the whole replay with its index: a chain is valid throughout or not at all.
 * Invitation expiry is judged by each join's own (relay-checked) time.
 */
export function replayLog(links: readonly Uint8Array[], opts: ReplayOptions = {}): Result<WorkspaceState, WorkspaceRejection> {
  if (links.length === 0) return fail('log_no_root');
  let state = emptyState('');
  for (let i = 0; i < links.length; i++) {
    const l = decodeLink(links[i]!);
    if (!l.ok) return fail(l.reason, `index ${i}${l.detail ? `: ${l.detail}` : ''}`);
    const c = countersigned(l.value, opts.relayPub);
    if (!c.ok) return c;
    if (l.value.entry.body.index !== i) return fail('entry_bad_position', `index ${i}`);
    const next = appendDecoded(state, l.value.entry, l.value.bytes, undefined, true);
    if (!next.ok) return fail(next.reason, `index ${i}${next.detail ? `: ${next.detail}` : ''}`);
    state = next.value;
  }
  return ok(state);
}

/** The chain's stored form (links by index), for storage or sync. */
export function logEntries(state: WorkspaceState): Uint8Array[] {
  return [...state.links];
}

/** The link at `index`, decoded (our own state: well formed). */
export function linkAt(state: WorkspaceState, index: number): Link | undefined {
  const bytes = state.links[index];
  if (!bytes) return undefined;
  const l = decodeLink(bytes);
  return l.ok ? l.value : undefined;
}
