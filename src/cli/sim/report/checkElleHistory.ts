// Is this EDN text a history Elle's rw-register checker can take? Not Elle (that needs a JVM): the
// shape it assumes before it looks for anomalies. One op map per line; indexes 0, 1, 2, …; times never
// go back; every invoke completes (ok, fail or info) on its process before that process invokes again;
// a process never runs again after an info; every micro-op is [:r key v] or [:w key v]; and no value is
// written twice to one key (elle.rw-register refuses to infer from such reads).
import { getKw, isKeyword, readEdn, writeEdn, type Edn } from './edn.ts';

export type ElleCheck =
  | { ok: true; ops: number; transactions: number; processes: number; keys: number }
  | { ok: false; reason: string; line: number; detail: string };

const COMPLETIONS = new Set(['ok', 'fail', 'info']);

/** The micro-ops of an op's :value, or a reason they aren't. */
function mopsOf(v: Edn | undefined): { f: 'r' | 'w'; key: Edn; value: Edn }[] | string {
  if (!Array.isArray(v)) return 'value_not_a_vector';
  const out: { f: 'r' | 'w'; key: Edn; value: Edn }[] = [];
  for (const m of v) {
    if (!Array.isArray(m) || m.length !== 3) return 'mop_not_a_triple';
    const [f, key, value] = m as [Edn, Edn, Edn];
    if (!isKeyword(f) || (f.kw !== 'r' && f.kw !== 'w')) return 'mop_not_r_or_w';
    out.push({ f: f.kw, key, value });
  }
  return out;
}

export function checkElleHistory(edn: string): ElleCheck {
  const lines = edn.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const bad = (reason: string, line: number, detail: string): ElleCheck => ({ ok: false, reason, line, detail });
  let lastIndex = -1;
  let lastTime = -Infinity;
  let transactions = 0;
  const pending = new Map<number, { line: number; mops: { f: string; key: string }[] }>();
  const retired = new Set<number>();
  const processes = new Set<number>();
  const written = new Map<string, number>(); // key \0 value -> line of the write
  for (let n = 0; n < lines.length; n++) {
    const line = n + 1;
    const read = readEdn(lines[n]!);
    if (!read.ok) return bad('not_edn', line, `${read.reason} at column ${read.at + 1}`);
    const op = read.value;
    const type = getKw(op, 'type');
    if (!isKeyword(type) || (type.kw !== 'invoke' && !COMPLETIONS.has(type.kw))) return bad('bad_type', line, ':type is not :invoke, :ok, :fail or :info');
    const f = getKw(op, 'f');
    if (!isKeyword(f) || f.kw !== 'txn') return bad('bad_f', line, ':f is not :txn');
    const index = getKw(op, 'index');
    if (typeof index !== 'number') return bad('no_index', line, ':index is missing or not an integer');
    if (index <= lastIndex) return bad('index_not_increasing', line, `:index ${index} after ${lastIndex}`);
    if (index !== lastIndex + 1) return bad('index_gap', line, `:index ${index} after ${lastIndex}`);
    lastIndex = index;
    const time = getKw(op, 'time');
    if (typeof time !== 'number') return bad('no_time', line, ':time is missing or not an integer');
    if (time < lastTime) return bad('time_goes_back', line, `:time ${time} after ${lastTime}`);
    lastTime = time;
    const p = getKw(op, 'process');
    if (typeof p !== 'number' || p < 0) return bad('bad_process', line, ':process is not a non-negative integer');
    processes.add(p);
    const mops = mopsOf(getKw(op, 'value'));
    if (typeof mops === 'string') return bad(mops, line, 'every micro-op must be [:r key value] or [:w key value]');
    const shape = mops.map(m => ({ f: m.f, key: writeEdn(m.key) }));
    if (type.kw === 'invoke') {
      if (retired.has(p)) return bad('process_reused_after_info', line, `process ${p} invoked again after an :info`);
      const open = pending.get(p);
      if (open) return bad('invoke_while_pending', line, `process ${p} still waits on its invoke at line ${open.line}`);
      if (mops.some(m => m.f === 'r' && m.value !== null)) return bad('invoke_read_has_value', line, 'an invoke reads nil');
      pending.set(p, { line, mops: shape });
      continue;
    }
    const open = pending.get(p);
    if (!open) return bad('completion_without_invoke', line, `process ${p} completes with nothing invoked`);
    if (JSON.stringify(open.mops) !== JSON.stringify(shape)) return bad('completion_differs', line, `the micro-ops differ from the invoke at line ${open.line}`);
    pending.delete(p);
    transactions++;
    if (type.kw === 'info') retired.add(p);
    for (const m of mops) {
      if (m.f !== 'w') continue;
      const k = `${writeEdn(m.key)}\u0000${writeEdn(m.value)}`;
      const first = written.get(k);
      if (first !== undefined) return bad('duplicate_write', line, `${writeEdn(m.key)} = ${writeEdn(m.value)} was written at line ${first} too`);
      written.set(k, line);
    }
  }
  for (const [p, open] of pending) return bad('invoke_without_completion', open.line, `process ${p} never completes`);
  const keys = new Set([...written.keys()].map(k => k.slice(0, k.indexOf('\u0000'))));
  return { ok: true, ops: lastIndex + 1, transactions, processes: processes.size, keys: keys.size };
}
