// Exports a `cloister sim` trace as a history Elle's rw-register checker reads (EDN, one op map per line:
// jepsen-io/elle, elle.rw-register). Each replica is a process; each register a key "RECORD/PATH";
// typed writes and shown reads are micro-ops. Elle assumes every value is written once per key, which
// users typing "5mg" break: docs/SIM-HISTORY.md gives the mapping and how such values are exported.
import { ednMap, kw, writeEdn, type Edn } from './edn.ts';
import { num, obj, recordIndex, replicaName, str, type TraceLine } from './traceLines.ts';

export type MopValue = string | null | [string, number];
export type Mop = ['w' | 'r', string, MopValue];

export interface ElleOp {
  type: 'invoke' | 'ok' | 'fail' | 'info';
  value: Mop[];
  process: number;
  time: number;
  index: number;
  /** Trace context, written as `:cloister/...` keys on completions (Elle ignores them). */
  extra: [string, Edn][];
}

export interface ElleExportStats {
  /** Transactions (invoke/completion pairs) and micro-ops written. */
  transactions: number;
  writes: number;
  reads: number;
  /** Distinct (key, value) pairs typed by more than one write; their writes are exported as [value traceLine]. */
  nonUniqueValues: number;
  taggedWrites: number;
  /** Read micro-ops left out: the value shown was written by several ops, so Elle can't tell which. */
  ambiguousReads: number;
  /** Reads that showed a conflict (several values); exported as the value shown, the rest under :cloister/conflicts. */
  conflictedReads: number;
  /** Reads of a value no write in the trace typed at that key. */
  unwrittenReads: number;
  /** Trace lines not exported, by why. */
  skipped: Record<string, number>;
}

export interface ElleExport {
  edn: string;
  ops: ElleOp[];
  stats: ElleExportStats;
}

const WRITE_ACTIONS = new Set(['create', 'set_field', 'set_title']);

/** The register key for a record (creation index) and a path: "3/fields.dose". */
export const registerKey = (record: number, path: string) => `${record}/${path}`;

/** The (path, value) pairs an op line typed, per docs/SIM.md: create's title and fields, set_field, set_title. */
function typedWrites(l: TraceLine): [string, string][] {
  const action = str(l.action);
  if (action === 'set_field') {
    const field = str(l.field);
    const value = str(l.value);
    return field !== undefined && value !== undefined ? [[`fields.${field}`, value]] : [];
  }
  if (action === 'set_title') {
    const value = str(l.value) ?? str(l.title);
    return value !== undefined ? [['title', value]] : [];
  }
  if (action === 'create') {
    const src = obj(l.value) ?? l;
    const out: [string, string][] = [];
    const title = str(src.title);
    if (title !== undefined) out.push(['title', title]);
    for (const [f, v] of Object.entries(obj(src.fields) ?? {})) if (typeof v === 'string') out.push([`fields.${f}`, v]);
    return out;
  }
  return [];
}

/** How an edit ended: "ok" (or {ok:true}) → :ok; a refusal code → :fail (nothing written); an error or nothing → :info. */
function completion(result: unknown): 'ok' | 'fail' | 'info' {
  if (result === 'ok' || obj(result)?.ok === true) return 'ok';
  if (typeof result === 'string' && result !== '' && result !== 'error' && !result.startsWith('error')) return 'fail';
  return 'info';
}

interface Read {
  key: string;
  shown: string | null;
  conflicts: string[];
  final: boolean;
}

function readOf(l: TraceLine): Read | undefined {
  const record = recordIndex(l.record);
  const path = str(l.path);
  if (record === undefined || path === undefined) return undefined;
  const values = Array.isArray(l.values) ? l.values.filter((v): v is string => typeof v === 'string') : [];
  return { key: registerKey(record, path), shown: values[0] ?? null, conflicts: values.slice(1), final: l.final === true };
}

/** The whole export: the EDN text, the ops it holds, and what was tagged or left out. */
export function exportElleHistory(trace: readonly TraceLine[]): ElleExport {
  const stats: ElleExportStats = { transactions: 0, writes: 0, reads: 0, nonUniqueValues: 0, taggedWrites: 0, ambiguousReads: 0, conflictedReads: 0, unwrittenReads: 0, skipped: {} };
  const skip = (why: string) => (stats.skipped[why] = (stats.skipped[why] ?? 0) + 1);

  // 1. Every write, whatever its outcome: uniqueness is judged over all of them (Elle's G1a indexes failed writes too).
  const writers = new Map<string, number>(); // key \0 value -> how many writes
  const vkey = (key: string, value: string) => `${key}\u0000${value}`;
  const editAt = new Map<string, number>(); // "i/replica" -> trace position of a set_field/set_title line
  trace.forEach((l, k) => {
    if (l.t !== 'op' || !WRITE_ACTIONS.has(str(l.action) ?? '')) return;
    const record = recordIndex(l.record);
    if (record === undefined) return;
    for (const [path, value] of typedWrites(l)) writers.set(vkey(registerKey(record, path), value), (writers.get(vkey(registerKey(record, path), value)) ?? 0) + 1);
    const r = replicaName(l.replica);
    if (l.action !== 'create' && r !== undefined && num(l.i) !== undefined) editAt.set(`${num(l.i)}/${r}`, k);
  });
  for (const n of writers.values()) if (n > 1) stats.nonUniqueValues++;

  // 2. A read the edit made just before writing (same op index and replica, not final) joins its transaction.
  const readsOfEdit = new Map<number, Read[]>();
  const joined = new Set<number>();
  trace.forEach((l, k) => {
    if (l.t !== 'read' || l.final === true) return;
    const r = replicaName(l.replica);
    const at = r !== undefined && num(l.i) !== undefined ? editAt.get(`${num(l.i)}/${r}`) : undefined;
    const read = readOf(l);
    if (at === undefined || !read) return;
    readsOfEdit.set(at, [...(readsOfEdit.get(at) ?? []), read]);
    joined.add(k);
  });

  // 3. Processes: replica rN is process N; other names get the numbers after them. After an :info the
  // process is retired and the replica continues as process + stride, as Jepsen does for crashed clients.
  const names = new Set<string>();
  for (const l of trace) if (l.t === 'op' || l.t === 'read') names.add(replicaName(l.replica) ?? '');
  names.delete('');
  const process = new Map<string, number>();
  let next = 0;
  for (const r of names) {
    const m = /^r(\d+)$/.exec(r);
    if (m && Number(m[1]) <= 1_000_000) process.set(r, Number(m[1]));
  }
  for (const p of process.values()) next = Math.max(next, p + 1);
  for (const r of [...names].sort()) if (!process.has(r)) process.set(r, next++);
  const stride = Math.max(1, next, num(trace.find(l => l.t === 'start')?.replicas) ?? 0);
  const processOf = (r: string) => process.get(r)!;

  const ops: ElleOp[] = [];
  let time = 0;
  const clock = (l: TraceLine) => {
    const ms = num(l.ms);
    if (ms !== undefined) time = Math.max(time, Math.round(ms * 1e6));
    return time;
  };
  /** A read as a micro-op; undefined when its value was typed by several writes (noted in `ambiguous`). */
  const readMop = (read: Read, ambiguous: Edn[]): Mop | undefined => {
    if (read.conflicts.length) stats.conflictedReads++;
    if (read.shown !== null) {
      const n = writers.get(vkey(read.key, read.shown)) ?? 0;
      if (n > 1) {
        stats.ambiguousReads++;
        ambiguous.push([read.key, read.shown]);
        return undefined;
      }
      if (n === 0) stats.unwrittenReads++;
    }
    return ['r', read.key, read.shown];
  };
  const emit = (r: string, type: 'ok' | 'fail' | 'info', mops: Mop[], t: number, extra: [string, Edn][]) => {
    const p = processOf(r);
    const invoke = mops.map(([f, k, v]): Mop => [f, k, f === 'r' ? null : v]);
    ops.push({ type: 'invoke', value: invoke, process: p, time: t, index: ops.length, extra: [] });
    ops.push({ type, value: type === 'ok' ? mops : invoke, process: p, time: t, index: ops.length, extra });
    stats.transactions++;
    for (const [f] of mops) f === 'w' ? stats.writes++ : stats.reads++;
    if (type === 'info') process.set(r, p + stride);
  };
  /** The trace context a completion carries: op index, action, and whatever else applies. */
  const context = (l: TraceLine, o: { reads?: Read[]; ambiguous?: Edn[]; final?: boolean; result?: unknown } = {}): [string, Edn][] => {
    const out: [string, Edn][] = [];
    if (Number.isSafeInteger(l.i)) out.push(['cloister/i', l.i as number]);
    if (str(l.action)) out.push(['cloister/action', str(l.action)!]);
    if (o.final) out.push(['cloister/final', true]);
    if ('result' in o) out.push(['cloister/result', typeof o.result === 'string' ? o.result : null]);
    const conflicts = new Map<string, string[]>();
    for (const x of o.reads ?? []) if (x.conflicts.length) conflicts.set(x.key, x.conflicts);
    if (conflicts.size) out.push(['cloister/conflicts', ednMap([...conflicts])]);
    if (o.ambiguous?.length) out.push(['cloister/ambiguous', o.ambiguous]);
    return out;
  };

  trace.forEach((l, k) => {
    if (l.t === 'read') {
      if (joined.has(k)) return;
      const r = replicaName(l.replica);
      const read = readOf(l);
      if (!r || !read) return void skip('read_without_replica_record_or_path');
      const mop = readMop(read, []);
      if (!mop) return void skip('read_ambiguous');
      emit(r, 'ok', [mop], clock(l), context(l, { reads: [read], final: read.final }));
      return;
    }
    if (l.t !== 'op' || !WRITE_ACTIONS.has(str(l.action) ?? '')) return;
    const r = replicaName(l.replica);
    const record = recordIndex(l.record);
    const typed = typedWrites(l);
    if (!r || record === undefined || typed.length === 0) return void skip('write_without_replica_record_or_value');
    const t = clock(l);
    const type = completion(l.result);
    const reads = readsOfEdit.get(k) ?? [];
    const ambiguous: Edn[] = [];
    const readMops = reads.map(x => readMop(x, ambiguous)).filter((m): m is Mop => m !== undefined);
    const writeMops = typed.map(([path, value]): Mop => {
      const key = registerKey(record, path);
      if ((writers.get(vkey(key, value)) ?? 0) < 2) return ['w', key, value];
      stats.taggedWrites++;
      return ['w', key, [value, k + 1]]; // the trace line (1-based): unique even when one op writes several lines
    });
    if (type === 'ok') {
      emit(r, 'ok', [...readMops, ...writeMops], t, context(l, { reads, ambiguous }));
    } else {
      // the reads happened even though the write did not: they complete on their own
      if (readMops.length) emit(r, 'ok', readMops, t, context(l, { reads, ambiguous }));
      emit(r, type, writeMops, t, context(l, { result: l.result }));
    }
  });
  return { edn: ops.map(writeOp).join(''), ops, stats };
}

/** One op map on one line, keys in the order Jepsen prints them. */
export function writeOp(op: ElleOp): string {
  const value: Edn = op.value.map(([f, k, v]): Edn => [kw(f), k, v]);
  const entries: [Edn, Edn][] = [
    [kw('type'), kw(op.type)],
    [kw('f'), kw('txn')],
    [kw('value'), value],
    [kw('process'), op.process],
    [kw('time'), op.time],
    [kw('index'), op.index],
    ...op.extra.map(([k, v]): [Edn, Edn] => [kw(k), v]),
  ];
  return writeEdn(ednMap(entries)) + '\n';
}

/** The run as an Elle rw-register history: EDN, one op map per line. */
export function toElleHistory(trace: readonly TraceLine[]): string {
  return exportElleHistory(trace).edn;
}
