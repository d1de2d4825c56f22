// `cloister status [--json]`: the workspace, its relay, the offline time left (and whether editing is
// locked), the outbox, documents stored here that do not load (damaged), and the quarantine with each
// entry's reason — including envelopes the relay refused as lease_expired — the membership-log fork
// alarm (first, when there is one: syncing is stopped) and offline membership changes, pending or
// failed with their reason. Offline: reads only the local profile.
// The docs and identity modules load inside the action, so `cloister --help` stays fast.
import type { Command } from 'commander';
import { fail, openVault, optionsOf, printJson } from '../context.ts';
import { fromAgent } from '../agent/fromAgent.ts';
import type { SyncStatus } from '../../docs/sync/syncStatus.ts';

export function register(program: Command): void {
  program
    .command('status')
    .description('show the relay, offline time left, outbox, quarantined envelopes (with reasons), pending membership changes and any membership-log fork alarm')
    .option('--workspace <name>', 'the workspace (default: the only one in the profile)')
    .action(async (o: { workspace?: string }, cmd: Command) => {
      const opts = optionsOf(cmd);
      const viaAgent = await fromAgent<SyncStatus>(opts, 'status', o.workspace);
      if (viaAgent) return print(viaAgent);
      const [{ describeOpenSessionFailure, openRecordSession }, { syncStatus }, { loadWorkspace }] = await Promise.all([
        import('../../docs/openSession.ts'),
        import('../../docs/sync/syncStatus.ts'),
        import('../../identity/workspace/store.ts'),
      ]);
      const vault = await openVault(opts);
      const s = await openRecordSession({ home: opts.home, vault, ...(o.workspace !== undefined ? { workspace: o.workspace } : {}) });
      if (!s.ok) fail(describeOpenSessionFailure(s));
      try {
        const stored = loadWorkspace(opts.home, vault.dataKey, s.value.workspace.id);
        await print(await syncStatus(s.value, { intents: stored.ok ? (stored.value.intents ?? []) : [] }));
      } finally {
        await s.value.close();
      }

      async function print(st: SyncStatus): Promise<void> {
        if (opts.json) return printJson(st);
        const [{ forkAlarmLine }, { formatRemaining }] = await Promise.all([import('../../docs/sync/membershipStatus.ts'), import('../../docs/sync/syncStatus.ts')]);
        const pending = st.intents.filter(i => i.status === 'pending');
        const failed = st.intents.filter(i => i.status === 'failed');
        const out = [
          ...(st.fork ? [forkAlarmLine(st.fork)] : []),
          `workspace  ${st.workspace.name} (${st.workspace.id}), key epoch ${st.workspace.epoch}`,
          `relay      ${st.relay ?? 'none (workspace create --relay or workspace join)'}${st.relayKey ? `, key ${st.relayKey.slice(0, 16)}…` : ''}`,
          `offline    ${st.offlineRemainingMs === null ? formatRemaining(null) : `${formatRemaining(st.offlineRemainingMs)} left`}${st.locked ? ' — editing is locked: reconnect (cloister sync) to continue' : ''}${st.lease ? ` (lease until ${new Date(st.lease.notAfter).toISOString()})` : ''}`,
          `outbox     ${st.outbox} envelope(s) waiting for the relay`,
          `held       ${st.pendingRemote} received envelope(s) waiting for earlier ones`,
          `cursor     ${st.cursor}`,
          `membership ${pending.length} change(s) waiting for the next sync${failed.length ? `, ${failed.length} no longer valid (not applied)` : ''}`,
          ...pending.map(i => `  pending  ${i.description}  since ${i.createdAt}`),
          ...failed.map(i => `  failed   ${i.description}: ${i.reasonText}`),
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
      }
    });
}
