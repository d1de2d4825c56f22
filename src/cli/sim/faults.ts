// The fault names `cloister sim --faults` accepts, in the order they were implemented, and parsing of
// the comma list (unknown or not-yet-supported names are one-line errors).

export const FAULTS = ['partition', 'duplicate', 'drop', 'replay', 'malicious', 'removal', 'reorder', 'expired-lease', 'clock-skew'] as const;
export type Fault = (typeof FAULTS)[number];

/** Named but not simulated yet: asking for them is an error rather than a silent no-op (none left). */
export const PLANNED_FAULTS = [] as const;

export class SimUsageError extends RangeError {}

export function parseFaults(list: string | undefined): Fault[] {
  if (!list || !list.trim()) return [];
  const out: Fault[] = [];
  for (const raw of list.split(',')) {
    const name = raw.trim();
    if (!name) continue;
    if ((PLANNED_FAULTS as readonly string[]).includes(name)) throw new SimUsageError(`fault ${name} not supported yet`);
    if (!(FAULTS as readonly string[]).includes(name))
      throw new SimUsageError(`unknown fault ${name} (known: ${[...FAULTS, ...PLANNED_FAULTS].join(', ')})`);
    if (!out.includes(name as Fault)) out.push(name as Fault);
  }
  return out;
}
