// Deterministic merge of a membership DAG: the same set of entries gives the same state on every
// replica, whatever order they arrived in. Order: topological, ties broken by entry id. Concurrency
// rules: a removal (or device revocation) that was valid in its own causal past drops every entry
// by the removed member (or device) that it did not see, and everything built on those; removals are
// settled most-senior author first, so in a mutual removal the earlier-admitted admin wins.
import { fail, ok, type Result } from '../../crypto/result.ts';
import { applyEntry } from './applyEntry.ts';
import type { Entry } from './entry.ts';
import type { WorkspaceRejection } from './rejections.ts';
import { emptyState, type WorkspaceState } from './state.ts';
import { validateEntry } from './validateEntry.ts';

/** Causal validity of a removal depends only on its id (ids fix all ancestors), so it is memoised. */
const causalMemo = new Map<string, boolean>();

/** Topological order over entries whose ancestors are all present; ties by smallest id. */
export function topoOrder(entries: Map<string, Entry>, rootId: string): string[] {
  const children = new Map<string, string[]>();
  const missing = new Map<string, number>();
  for (const e of entries.values()) {
    missing.set(e.id, e.body.parents.length);
    for (const p of e.body.parents) {
      const c = children.get(p);
      if (c) c.push(e.id);
      else children.set(p, [e.id]);
    }
  }
  const ready: string[] = [rootId];
  const order: string[] = [];
  while (ready.length > 0) {
    const id = ready.shift()!;
    order.push(id);
    for (const c of children.get(id) ?? []) {
      const left = missing.get(c)! - 1;
      missing.set(c, left);
      if (left === 0) {
        // insert keeping `ready` sorted
        let lo = 0;
        let hi = ready.length;
        while (lo < hi) {
          const mid = (lo + hi) >> 1;
          if (ready[mid]! < c) lo = mid + 1;
          else hi = mid;
        }
        ready.splice(lo, 0, c);
      }
    }
  }
  return order;
}

export function ancestorsOf(entries: Map<string, Entry>, id: string): Set<string> {
  const seen = new Set<string>();
  const stack = [...(entries.get(id)?.body.parents ?? [])];
  while (stack.length > 0) {
    const p = stack.pop()!;
    if (seen.has(p)) continue;
    seen.add(p);
    for (const q of entries.get(p)?.body.parents ?? []) stack.push(q);
  }
  return seen;
}

function subset(entries: Map<string, Entry>, ids: Set<string>): Map<string, Entry> {
  const out = new Map<string, Entry>();
  for (const id of ids) out.set(id, entries.get(id)!);
  return out;
}

/** Reduce a set of decoded entries. Fails only when there is no single root. */
export function mergeEntries(input: Map<string, Entry>): Result<WorkspaceState, WorkspaceRejection> {
  const roots = [...input.values()].filter((e) => e.body.kind === 'create');
  if (roots.length === 0) return fail('log_no_root');
  if (roots.length > 1) return fail('log_multiple_roots');
  const root = roots[0]!;
  const ws = root.body.ws;
  const entries = new Map([...input].filter(([, e]) => e.body.ws === ws));
  const order = topoOrder(entries, root.id);
  const pos = new Map(order.map((id, i) => [id, i]));
  const reached = subset(entries, new Set(order));

  // Who owns each device, and when each user was admitted (by position in the order).
  const deviceUser = new Map<string, string>();
  const admitted = new Map<string, number>();
  for (const id of order) {
    const b = reached.get(id)!.body;
    if (b.kind === 'create') {
      deviceUser.set(b.device.deviceId, b.founder.userId);
      admitted.set(b.founder.userId, pos.get(id)!);
    } else if (b.kind === 'join') {
      if (!deviceUser.has(b.device.deviceId)) deviceUser.set(b.device.deviceId, b.user.userId);
      if (!admitted.has(b.user.userId)) admitted.set(b.user.userId, pos.get(id)!);
    } else if (b.kind === 'add_device') {
      const u = deviceUser.get(b.author);
      if (u !== undefined && !deviceUser.has(b.device.deviceId)) deviceUser.set(b.device.deviceId, u);
    }
  }

  const children = new Map<string, string[]>();
  for (const id of order) for (const p of reached.get(id)!.body.parents) children.set(p, [...(children.get(p) ?? []), id]);
  const addWithDescendants = (set: Set<string>, id: string) => {
    const stack = [id];
    while (stack.length > 0) {
      const x = stack.pop()!;
      if (set.has(x)) continue;
      set.add(x);
      stack.push(...(children.get(x) ?? []));
    }
  };

  // Removals that were valid where they were made. A chain (no concurrency at all) has none to settle.
  const chain = order.every((id, i) => i === 0 || (reached.get(id)!.body.parents.length === 1 && reached.get(id)!.body.parents[0] === order[i - 1]));
  if (!chain) primeChainPrefix(reached, order);
  const candidates = (chain ? [] : order)
    .map((id) => reached.get(id)!)
    .filter((e) => (e.body.kind === 'remove_member' || e.body.kind === 'revoke_device') && causallyValid(reached, e))
    .sort((a, b) => {
      const sa = admitted.get(deviceUser.get(a.body.author) ?? '') ?? Infinity;
      const sb = admitted.get(deviceUser.get(b.body.author) ?? '') ?? Infinity;
      return sa - sb || pos.get(a.id)! - pos.get(b.id)!;
    });

  let dropped = new Set<string>();
  if (candidates.length > 0) {
    const ancestors = new Map(candidates.map((r) => [r.id, ancestorsOf(reached, r.id)]));
    for (let round = 0; round <= candidates.length + 1; round++) {
      const next = new Set<string>();
      for (const r of candidates) {
        if (dropped.has(r.id) || next.has(r.id)) continue;
        const b = r.body;
        const hit = b.kind === 'remove_member' ? (d: string) => deviceUser.get(d) === b.member : (d: string) => d === (b as { device: string }).device;
        const seen = ancestors.get(r.id)!;
        for (const id of order) if (id !== r.id && !seen.has(id) && hit(reached.get(id)!.body.author)) addWithDescendants(next, id);
      }
      const same = next.size === dropped.size && [...next].every((x) => dropped.has(x));
      dropped = next;
      if (same) break;
    }
  }

  let state = emptyState(ws);
  const rejected = new Map<string, WorkspaceRejection>();
  const known = new Map<string, Entry>();
  for (const id of order) {
    const e = reached.get(id)!;
    if (e.body.parents.some((p) => !known.has(p))) {
      rejected.set(id, 'entry_depends_on_dropped');
      continue;
    }
    if (dropped.has(id)) {
      rejected.set(id, 'entry_concurrently_removed');
      if (causallyValid(reached, e)) known.set(id, e);
      continue;
    }
    // An entry that lost its place to a concurrent one (e.g. a role change for someone removed
    // meanwhile) is skipped but stays in the log; entries built on it are still judged on their own.
    const v = validateEntry(state, e, undefined, { causallyValid: () => causallyValid(reached, e), parentsPresent: true });
    if (!v.ok) {
      if (id === root.id) return fail(v.reason, 'root');
      rejected.set(id, v.reason);
      if (causallyValid(reached, e)) known.set(id, e);
      continue;
    }
    known.set(id, e);
    state = applyEntry({ ...state, known }, e);
  }
  for (const id of entries.keys()) if (!pos.has(id)) rejected.set(id, 'entry_missing_parent');
  return ok({ ...state, known, dropped: rejected });
}

/**
 * In the part of the order that is a plain chain, each entry's causal past is exactly the entries
 * before it, so one linear pass decides the causal validity of every removal there (saving a merge
 * per removal when only the tip of a long log is concurrent).
 */
function primeChainPrefix(entries: Map<string, Entry>, order: string[]): void {
  let state = emptyState(entries.get(order[0]!)!.body.ws);
  const known = new Set<string>();
  for (let i = 0; i < order.length; i++) {
    const e = entries.get(order[i]!)!;
    if (i > 0 && !(e.body.parents.length === 1 && e.body.parents[0] === order[i - 1])) return;
    if (e.body.parents.some((p) => !known.has(p))) return;
    const v = validateEntry(state, e, undefined, { parentsPresent: true });
    if (e.body.kind === 'remove_member' || e.body.kind === 'revoke_device') causalMemo.set(e.id, v.ok);
    if (!v.ok) return;
    known.add(e.id);
    state = applyEntry(state, e);
  }
}

function causallyValid(entries: Map<string, Entry>, e: Entry): boolean {
  const memo = causalMemo.get(e.id);
  if (memo !== undefined) return memo;
  const past = mergeEntries(subset(entries, ancestorsOf(entries, e.id)));
  const valid = past.ok && validateEntry(past.value, e).ok;
  if (causalMemo.size > 10_000) causalMemo.clear();
  causalMemo.set(e.id, valid);
  return valid;
}
