// Tolerant readers for `cloister sim` trace lines (docs/SIM.md, "The trace"). The report modules take
// parsed lines as plain objects: an unknown kind or field is ignored and a missing or mistyped
// optional field reads as absent, so a trace from an older or newer sim never throws here.

export type TraceLine = Readonly<Record<string, unknown>>;

/** A finite number, or undefined. */
export function num(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** A string, or undefined. */
export function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** A plain object (not an array, not null), or undefined. */
export function obj(v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

/** `{reason: n}` with only the finite numeric entries kept (anything else is dropped). */
export function counts(v: unknown): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, n] of Object.entries(obj(v) ?? {})) if (num(n) !== undefined) out[k] = n as number;
  return out;
}

/** Adds `n` to `m[k]`, in place. */
export function addTo(m: Record<string, number>, k: string, n: number): void {
  if (n) m[k] = (m[k] ?? 0) + n;
}

/** Op lines name a replica by index (`1`), samples by name (`"r1"`): both read as the name. */
export function replicaName(v: unknown): string | undefined {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return `r${v}`;
  return typeof v === 'string' && v !== '' ? v : undefined;
}

/** Replicas a `removal` fault (or a sample flagged `removed`) took out of the workspace. */
export function removedReplicas(trace: readonly TraceLine[]): Set<string> {
  const removed = new Set<string>();
  for (const l of trace) {
    if (l.t === 'fault' && l.fault === 'removal') {
      const r = replicaName(l.replica);
      if (r) removed.add(r);
    }
    if (l.t === 'sample' && l.removed === true) {
      const r = replicaName(l.replica);
      if (r) removed.add(r);
    }
  }
  return removed;
}

/** A record-creation index as written in the trace (`record: 3`), or undefined. */
export function recordIndex(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined;
}
