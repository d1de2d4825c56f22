// `cloister history ID`: who changed what in a record — per envelope, the verified member (by display
// name where the workspace has one) and device, the claimed time (claimed by the author, not
// verified), and each value changed, old → new. Changes no verified envelope covers are flagged.
import type { Command } from 'commander';
import { personLabel, type NameOf } from '../../docs/records/personLabel.ts';
import type { HistoryEntry, HistoryValue, ValueChange } from '../../docs/records/recordTypes.ts';
import { printJson } from '../context.ts';
import { isoTime, nameOfSession, resolveId, withRecords } from './record.ts';

const SHOWN = 200;

/** A value for a terminal: quoted and escaped (no control characters reach it), long text cut short. */
function shown(v: HistoryValue | undefined): string {
  if (v === undefined) return '(none)';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (Array.isArray(v)) return `[${v.map(t => JSON.stringify(t)).join(', ')}]`;
  return JSON.stringify(v.length > SHOWN ? `${v.slice(0, SHOWN)}…` : v);
}

const pathName = (path: string) => (path.startsWith('fields.') ? `field ${JSON.stringify(path.slice('fields.'.length))}` : path);

function valueLine(v: ValueChange): string {
  if (v.notesDiff) {
    const d = v.notesDiff;
    const parts = [d.removed && `removed ${shown(d.removed)}`, d.added && `added ${shown(d.added)}`].filter(Boolean);
    return `    notes: ${d.oldLength} → ${d.newLength} characters${parts.length ? ` (${parts.join(', ')})` : ''}`;
  }
  return `    ${pathName(v.path)}: ${shown(v.old)} → ${shown(v.new)}`;
}

/** The history as text: one heading line per change group, then one line per value changed. */
export function historyText(entries: readonly HistoryEntry[], nameOf?: NameOf): string {
  const out: string[] = [];
  for (const e of entries) {
    const when = e.claimedTime !== undefined ? isoTime(e.claimedTime) : '(no envelope)';
    const who =
      e.verified && e.userId
        ? `${personLabel(e.userId, nameOf)} (device ${e.deviceId})`
        : e.viaSnapshot && e.userId
          ? `UNVERIFIED ${personLabel(e.userId, nameOf)} (device ${e.deviceId}), per a snapshot sealed by device ${e.viaSnapshot}`
          : `UNVERIFIED actor ${e.actor} (no verified envelope carried these changes)`;
    out.push(`${when}  ${who}`);
    const values = e.values ?? [];
    if (values.length) out.push(...values.map(valueLine));
    else out.push('    no visible change');
  }
  return out.length ? `${out.join('\n')}\n` : '';
}

export function register(program: Command): void {
  program
    .command('history')
    .description('show who changed a record and how: verified member and device, claimed time, old → new values')
    .argument('<id>', 'record id (or an unambiguous prefix)')
    .option('--workspace <name>', 'the workspace (default: the only one in the profile)')
    .action(async (id: string, o: { workspace?: string }, cmd: Command) => {
      await withRecords(cmd, o.workspace, async (records, s, opts) => {
        const full = await resolveId(records, id);
        const entries = await records.history(full);
        const nameOf = nameOfSession(s);
        if (opts.json) {
          printJson({
            id: full,
            entries: entries.map(e => ({
              ...e,
              ...(e.claimedTime !== undefined ? { claimedAt: isoTime(e.claimedTime) } : {}),
              ...(e.userId !== undefined ? { author: personLabel(e.userId, nameOf) } : {}),
              values: e.values ?? [],
            })),
          });
          return;
        }
        process.stdout.write(historyText(entries, nameOf));
      });
    });
}
