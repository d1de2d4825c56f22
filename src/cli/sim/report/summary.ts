// What a `cloister sim` trace says beyond the report's counters: bytes on the wire by kind, how long the
// replicas took to catch up after each heal, per-replica lag and queue depth, and refusals by reason
// with a check that the per-replica samples add up to the sync results. Pure: trace lines in, numbers out.
import { addTo, counts, num, obj, removedReplicas, replicaName, str, type TraceLine } from './traceLines.ts';

export interface BytesByKind {
  /** Envelope bytes pushed by replicas (every push, re-pushes included), and how many envelopes. */
  pushed: number;
  pushedEnvelopes: number;
  /** Of those, pushes of an envelope id already pushed before (after a cut pass, a replay). */
  rePushed: number;
  rePushedEnvelopes: number;
  /** Bytes replicas pulled from the relay. */
  pulled: number;
  /**
   * Pushed bytes by the action that made the envelope: the op line that names the envelope id in its
   * `envelopes`, else the pushed entry's own `action`/`kind`, else `fault:NAME` for a fault line's
   * pushes, else `unattributed`.
   */
  pushedByAction: Record<string, number>;
}

export interface HealConvergence {
  /** The heal line's op index and ms. */
  i: number | null;
  ms: number | null;
  /** Whether, in the samples after the heal, every remaining replica reached lag 0. */
  reached: boolean;
  /** The first op after which every remaining replica showed lag 0, and how long after the heal. */
  atI: number | null;
  atMs: number | null;
  ops: number | null;
  msAfter: number | null;
}

export interface ReplicaSeries {
  final: number;
  max: number;
  /** The op index of the first sample that showed `max`. */
  maxAtI: number | null;
  removed: boolean;
}

export interface RefusalsByReason {
  /** Summed over the sync results in the trace: refused by the relay (`rejected`), by replicas (`quarantinedRemote`), both. */
  relay: Record<string, number>;
  replicas: Record<string, number>;
  total: Record<string, number>;
  /** The last cumulative `refused` of each replica's samples, summed over replicas. */
  fromSamples: Record<string, number>;
  /** `total` and `fromSamples` agree reason by reason (true when the trace has no samples with `refused`). */
  addsUp: boolean;
  /** Reasons where they differ. */
  mismatches: { reason: string; syncs: number; samples: number }[];
  /** When a report's `rejected` was given: whether relay and replicas equal it, and where not. */
  matchesReport?: boolean;
  reportMismatches?: { side: 'relay' | 'replicas'; reason: string; trace: number; report: number }[];
}

export interface TraceSummary {
  bytesByKind: BytesByKind;
  convergenceAfterHeal: HealConvergence[];
  lagByReplica: Record<string, ReplicaSeries>;
  outboxByReplica: Record<string, ReplicaSeries>;
  refusalsByReason: RefusalsByReason;
}

/** Envelope ids an op line says it produced: `envelopes: ["id", {id}]` or `envelope: "id"`. */
function namedEnvelopes(l: TraceLine): string[] {
  const ids: string[] = [];
  const one = (v: unknown) => {
    const id = str(v) ?? str(obj(v)?.id);
    if (id) ids.push(id);
  };
  if (Array.isArray(l.envelopes)) l.envelopes.forEach(one);
  one(l.envelope);
  return ids;
}

export function bytesByKind(trace: readonly TraceLine[]): BytesByKind {
  const origin = new Map<string, string>();
  for (const l of trace) {
    const action = str(l.action);
    if (l.t !== 'op' || !action || action === 'sync') continue;
    for (const id of namedEnvelopes(l)) if (!origin.has(id)) origin.set(id, action);
  }
  const out: BytesByKind = { pushed: 0, pushedEnvelopes: 0, rePushed: 0, rePushedEnvelopes: 0, pulled: 0, pushedByAction: {} };
  const seen = new Set<string>();
  for (const l of trace) {
    out.pulled += num(l.pulledBytes) ?? 0;
    if (!Array.isArray(l.pushed)) continue;
    for (const p of l.pushed) {
      const e = obj(p);
      const bytes = num(e?.bytes) ?? 0;
      const id = str(e?.id);
      out.pushed += bytes;
      out.pushedEnvelopes++;
      if (id !== undefined && seen.has(id)) {
        out.rePushed += bytes;
        out.rePushedEnvelopes++;
      }
      if (id !== undefined) seen.add(id);
      const kind =
        (id !== undefined ? origin.get(id) : undefined) ??
        str(e?.action) ??
        str(e?.kind) ??
        (l.t === 'fault' && str(l.fault) ? `fault:${str(l.fault)}` : 'unattributed');
      addTo(out.pushedByAction, kind, bytes);
    }
  }
  return out;
}

/** Per replica: the final and largest value of one numeric sample field (`lag`, `outbox`). */
function seriesByReplica(trace: readonly TraceLine[], field: 'lag' | 'outbox'): Record<string, ReplicaSeries> {
  const removed = removedReplicas(trace);
  const out: Record<string, ReplicaSeries> = {};
  for (const l of trace) {
    if (l.t !== 'sample') continue;
    const r = replicaName(l.replica);
    const v = num(l[field]);
    if (!r || v === undefined) continue;
    const s = (out[r] ??= { final: v, max: v, maxAtI: num(l.i) ?? null, removed: removed.has(r) });
    s.final = v;
    if (v > s.max) {
      s.max = v;
      s.maxAtI = num(l.i) ?? null;
    }
  }
  return out;
}

export const lagByReplica = (trace: readonly TraceLine[]) => seriesByReplica(trace, 'lag');
export const outboxByReplica = (trace: readonly TraceLine[]) => seriesByReplica(trace, 'outbox');

/**
 * For each heal line: the first op after it at whose end every replica not removed so far showed lag 0
 * in its latest sample. A group of samples (one op's, one line per replica) is judged once complete.
 */
export function convergenceAfterHeal(trace: readonly TraceLine[]): HealConvergence[] {
  const out: HealConvergence[] = [];
  const pending: HealConvergence[] = [];
  const lag = new Map<string, number>();
  const removed = new Set<string>();
  for (let k = 0; k < trace.length; k++) {
    const l = trace[k]!;
    if (l.t === 'fault' && l.fault === 'removal') {
      const r = replicaName(l.replica);
      if (r) removed.add(r);
    } else if (l.t === 'heal') {
      const h: HealConvergence = { i: num(l.i) ?? null, ms: num(l.ms) ?? null, reached: false, atI: null, atMs: null, ops: null, msAfter: null };
      out.push(h);
      pending.push(h);
    } else if (l.t === 'sample') {
      const r = replicaName(l.replica);
      const v = num(l.lag);
      if (!r || v === undefined) continue;
      if (l.removed === true) removed.add(r);
      lag.set(r, v);
      const next = trace[k + 1];
      const groupEnds = !next || next.t !== 'sample' || next.i !== l.i;
      if (!groupEnds || pending.length === 0) continue;
      const caughtUp = [...lag].every(([name, n]) => removed.has(name) || n === 0);
      if (!caughtUp) continue;
      const atI = num(l.i) ?? null;
      const atMs = num(l.ms) ?? null;
      for (const h of pending.splice(0)) {
        Object.assign(h, {
          reached: true,
          atI,
          atMs,
          ops: atI !== null && h.i !== null ? atI - h.i : null,
          msAfter: atMs !== null && h.ms !== null ? atMs - h.ms : null,
        });
      }
    }
  }
  return out;
}

const differingKeys = (a: Record<string, number>, b: Record<string, number>) =>
  [...new Set([...Object.keys(a), ...Object.keys(b)])].filter(k => (a[k] ?? 0) !== (b[k] ?? 0));

/**
 * Refusals by reason, summed over the sync op results, and checked against the replicas' own
 * cumulative counters (the last `refused` of each replica's samples) and, when given, the report's
 * `rejected`. The trace covers the op phase; refusals in final rounds without op lines are not in it.
 */
export function refusalsByReason(trace: readonly TraceLine[], reported?: unknown): RefusalsByReason {
  const relay: Record<string, number> = {};
  const replicas: Record<string, number> = {};
  const lastRefused = new Map<string, Record<string, number>>();
  let sampled = false;
  for (const l of trace) {
    if (l.t === 'op' && l.action === 'sync') {
      const res = obj(l.result);
      for (const [k, n] of Object.entries(counts(res?.rejected))) addTo(relay, k, n);
      for (const [k, n] of Object.entries(counts(res?.quarantinedRemote))) addTo(replicas, k, n);
    } else if (l.t === 'sample' && obj(l.refused)) {
      const r = replicaName(l.replica);
      if (!r) continue;
      sampled = true;
      lastRefused.set(r, counts(l.refused));
    }
  }
  const total: Record<string, number> = {};
  for (const m of [relay, replicas]) for (const [k, n] of Object.entries(m)) addTo(total, k, n);
  const fromSamples: Record<string, number> = {};
  for (const m of lastRefused.values()) for (const [k, n] of Object.entries(m)) addTo(fromSamples, k, n);
  const differ = sampled ? differingKeys(total, fromSamples) : [];
  const out: RefusalsByReason = {
    relay,
    replicas,
    total,
    fromSamples,
    addsUp: differ.length === 0,
    mismatches: differ.sort().map(reason => ({ reason, syncs: total[reason] ?? 0, samples: fromSamples[reason] ?? 0 })),
  };
  const rep = obj(reported);
  if (rep) {
    const reportMismatches: NonNullable<RefusalsByReason['reportMismatches']> = [];
    for (const side of ['relay', 'replicas'] as const) {
      const mine = side === 'relay' ? relay : replicas;
      const theirs = counts(rep[side]);
      for (const reason of differingKeys(mine, theirs).sort()) reportMismatches.push({ side, reason, trace: mine[reason] ?? 0, report: theirs[reason] ?? 0 });
    }
    out.matchesReport = reportMismatches.length === 0;
    out.reportMismatches = reportMismatches;
  }
  return out;
}

/** Everything above, from the trace. `reportedRejected` is the report's `rejected`, to cross-check. */
export function summarizeTrace(trace: readonly TraceLine[], reportedRejected?: unknown): TraceSummary {
  return {
    bytesByKind: bytesByKind(trace),
    convergenceAfterHeal: convergenceAfterHeal(trace),
    lagByReplica: lagByReplica(trace),
    outboxByReplica: outboxByReplica(trace),
    refusalsByReason: refusalsByReason(trace, reportedRejected),
  };
}
