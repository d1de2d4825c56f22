// `cloister history ID`: who changed what in a record — per envelope, the verified device and user,
// the claimed time (claimed by the author, not verified) and the fields touched.
import type { Command } from 'commander';
import { printJson } from '../context.ts';
import { resolveId, withRecords } from './record.ts';

export function register(program: Command): void {
  program
    .command('history')
    .description('show who changed a record: verified device and user, claimed time, fields changed')
    .argument('<id>', 'record id (or an unambiguous prefix)')
    .option('--workspace <name>', 'the workspace (default: the only one in the profile)')
    .action(async (id: string, o: { workspace?: string }, cmd: Command) => {
      await withRecords(cmd, o.workspace, async (records, _s, opts) => {
        const full = await resolveId(records, id);
        const entries = await records.history(full);
        if (opts.json) {
          printJson({ id: full, entries: entries.map(e => ({ ...e, ...(e.claimedTime !== undefined ? { claimedAt: new Date(e.claimedTime).toISOString() } : {}) })) });
          return;
        }
        for (const e of entries) {
          const when = e.claimedTime !== undefined ? new Date(e.claimedTime).toISOString() : '(no envelope)           ';
          const who = e.verified ? `${e.userId} (device ${e.deviceId})` : `unverified actor ${e.actor}`;
          process.stdout.write(`${when}  ${who}  ${e.changes} change${e.changes === 1 ? '' : 's'}: ${e.fields.join(', ') || '-'}\n`);
        }
      });
    });
}
