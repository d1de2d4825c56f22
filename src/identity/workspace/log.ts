// The membership log's two entry points: append one encoded entry to a state (what the relay does to
// authorise a push, and a client does on receipt) and replay a whole set of entries. Both give the
// same state for the same accepted entries, in any delivery order. No Node-only APIs.
import { fail, ok, type Result } from '../../crypto/result.ts';
import { applyEntry } from './applyEntry.ts';
import { decodeEntry, type Entry } from './entry.ts';
import { ancestorsOf, mergeEntries } from './mergeLog.ts';
import type { WorkspaceRejection } from './rejections.ts';
import { emptyState, type WorkspaceState } from './state.ts';
import { validateEntry } from './validateEntry.ts';

const sameSet = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Validate one encoded entry against `state` and return the new state. `now` (ms) is the receiver's
 * clock, used for invitation expiry. An entry valid where it was made but by an author removed
 * concurrently is kept (it is part of the log) yet not applied: see `state.dropped`.
 */
export function appendEntry(state: WorkspaceState, bytes: Uint8Array, now: number): Result<WorkspaceState, WorkspaceRejection> {
  const d = decodeEntry(bytes);
  if (!d.ok) return d;
  const e = d.value;
  if (state.known.has(e.id)) return fail('entry_duplicate');
  if (state.applied.size === 0) {
    if (e.body.kind !== 'create') return fail('log_no_root');
    if (state.workspaceId !== '' && state.workspaceId !== e.body.ws) return fail('entry_wrong_workspace');
    const fresh = emptyState(e.body.ws);
    const v = validateEntry(fresh, e, now);
    return v.ok ? ok(applyEntry(fresh, e)) : v;
  }
  if (e.body.ws !== state.workspaceId) return fail('entry_wrong_workspace');
  if (e.body.kind === 'create') return fail('create_not_first');
  for (const p of e.body.parents) if (!state.known.has(p)) return fail('entry_missing_parent', p);

  // Fast path: the entry builds on every current head and nothing known is left unapplied, so it
  // is last in any order and the merge would give exactly this.
  if (state.known.size === state.applied.size && sameSet(e.body.parents, state.heads)) {
    const v = validateEntry(state, e, now);
    return v.ok ? ok(applyEntry(state, e)) : v;
  }
  // Concurrent entry: judge it in its own causal past, then merge everything deterministically.
  const all = new Map(state.known).set(e.id, e);
  const past = mergeEntries(new Map([...ancestorsOf(all, e.id)].map((id) => [id, all.get(id)!])));
  if (!past.ok) return past;
  const v = validateEntry(past.value, e, now);
  if (!v.ok) return v;
  return mergeEntries(all);
}

/** Replay a set of encoded entries in any order. Undecodable or invalid entries are skipped (see `dropped`). */
export function replayLog(entries: Uint8Array[], _now?: number): Result<WorkspaceState, WorkspaceRejection> {
  const decoded = new Map<string, Entry>();
  for (const bytes of entries) {
    const d = decodeEntry(bytes);
    if (d.ok) decoded.set(d.value.id, d.value);
  }
  return mergeEntries(decoded);
}

/** The encoded entries of a state's log (applied and concurrently dropped), for storage or sync. */
export function logEntries(state: WorkspaceState): Uint8Array[] {
  return [...state.known.values()].map((e) => e.bytes);
}
