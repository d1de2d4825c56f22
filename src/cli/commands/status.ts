// `cloister status [--json]`: the workspace, its relay, the offline time left (and whether editing is
// locked), the outbox, documents stored here that do not load (damaged), and the quarantine with each
// entry's reason — including envelopes the relay refused as lease_expired. Offline: reads only the local profile.
import type { Command } from 'commander';
import { describeOpenSessionFailure, openRecordSession } from '../../docs/openSession.ts';
import { formatRemaining, syncStatus } from '../../docs/sync/syncStatus.ts';
import { fail, openVault, optionsOf, printJson } from '../context.ts';

export function register(program: Command): void {
  program
    .command('status')
    .description('show the relay, offline time left, outbox and quarantined envelopes (with reasons)')
    .option('--workspace <name>', 'the workspace (default: the only one in the profile)')
    .action(async (o: { workspace?: string }, cmd: Command) => {
      const opts = optionsOf(cmd);
      const vault = await openVault(opts);
      const s = await openRecordSession({ home: opts.home, vault, ...(o.workspace !== undefined ? { workspace: o.workspace } : {}) });
      if (!s.ok) fail(describeOpenSessionFailure(s));
      try {
        const st = await syncStatus(s.value);
        if (opts.json) return printJson(st);
        const out = [
          `workspace  ${st.workspace.name} (${st.workspace.id}), key epoch ${st.workspace.epoch}`,
          `relay      ${st.relay ?? 'none (workspace create --relay or workspace join)'}${st.relayKey ? `, key ${st.relayKey.slice(0, 16)}…` : ''}`,
          `offline    ${st.offlineRemainingMs === null ? formatRemaining(null) : `${formatRemaining(st.offlineRemainingMs)} left`}${st.locked ? ' — editing is locked: reconnect (cloister sync) to continue' : ''}${st.lease ? ` (lease until ${new Date(st.lease.notAfter).toISOString()})` : ''}`,
          `outbox     ${st.outbox} envelope(s) waiting for the relay`,
          `held       ${st.pendingRemote} received envelope(s) waiting for earlier ones`,
          `cursor     ${st.cursor}`,
          `damaged    ${st.damaged.length} document(s)${st.damaged.length ? ' stored here do not load (kept as they are, not replaced)' : ''}`,
          ...st.damaged.map(d => `  doc ${d.docId}  ${d.reason}  ${d.description}${d.detail ? ` (${d.detail})` : ''}  since ${d.at}`),
          `quarantine ${st.quarantine.length} envelope(s)`,
          ...st.quarantine.map(q => `  ${q.at}  ${q.reason}  ${q.description}${q.detail ? ` (${q.detail})` : ''}  [${q.source}]`),
          ...(st.blocked.length
            ? [
                `blocked    ${st.blocked.length} document(s) wait behind a refused envelope — resolve with: cloister quarantine resubmit --all (then cloister sync)`,
                ...st.blocked.map(b => `  doc ${b.docId} at seq ${b.seq} (${b.reason}), ${b.waiting} later envelope(s) waiting  [${b.quarantineId}]`),
              ]
            : []),
        ];
        process.stdout.write(`${out.join('\n')}\n`);
      } finally {
        await s.value.close();
      }
    });
}
