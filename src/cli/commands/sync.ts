// `cloister sync [--watch] [--json]`: one pass through the workspace's relay (log both ways, push the
// outbox, pull and apply), printing a summary; with --watch it keeps syncing live, reconnecting with
// backoff, until SIGINT/SIGTERM.
// The sync modules load inside the action, so `cloister --help` stays fast.
import type { Command } from 'commander';
import type { ApplyReport } from '../../docs/DocSession.ts';
import type { SyncEngine, SyncSummary } from '../../docs/sync/SyncEngine.ts';
import type { formatRemaining as FormatRemaining } from '../../docs/sync/syncStatus.ts';
import { fail, note, oneLine, openVault, optionsOf, printJson } from '../context.ts';

const counts = (m: Record<string, number>): string =>
  Object.entries(m).map(([k, v]) => `${v} ${k}`).join(', ');

/** Snapshots taken, refused or sealed this pass (docs/SNAPSHOTS.md), when any. */
function snapshotPart(s: SyncSummary): string | undefined {
  const refused = Object.values(s.snapshots.refused).reduce((a, b) => a + b, 0);
  if (!s.snapshots.loaded && !refused && !s.snapshots.sealed) return undefined;
  return `snapshots (started from ${s.snapshots.loaded}${refused ? `, refused ${counts(s.snapshots.refused)}` : ''}, sealed ${s.snapshots.sealed})`;
}

export function summaryLine(s: SyncSummary, formatRemaining: typeof FormatRemaining): string {
  const rejected = Object.values(s.rejected).reduce((a, b) => a + b, 0);
  const quarantined = Object.values(s.quarantinedRemote).reduce((a, b) => a + b, 0);
  const parts = [
    `pushed ${s.pushed} (acked ${s.acked + s.duplicates}${s.held ? `, held for approval ${s.held}` : ''}${rejected ? `, rejected ${counts(s.rejected)}` : ''}${s.retry ? `, retry later ${s.retry}` : ''})`,
    `pulled ${s.pulled} (applied ${s.applied}${s.alreadyHad ? `, already had ${s.alreadyHad}` : ''}${s.heldRemote ? `, waiting ${s.heldRemote}` : ''}${quarantined ? `, quarantined ${counts(s.quarantinedRemote)}` : ''})`,
    `log +${s.logReceived}/-${s.logSent}${s.keysShared ? ` (re-keyed ${s.keysShared})` : ''}`,
    ...(snapshotPart(s) ? [snapshotPart(s)!] : []),
    `outbox ${s.outbox}`,
    `offline time left ${formatRemaining(Number.isFinite(s.offlineRemainingMs) ? s.offlineRemainingMs : null)}`,
  ];
  const access = s.access === 'member' ? '' : ` — the relay refuses to serve this device (${s.access}): it is no longer a member`;
  return `synced via ${s.relay}: ${parts.join('; ')}${access}`;
}

export function register(program: Command): void {
  program
    .command('sync')
    .description("sync the workspace through its relay: membership log, push the outbox, pull and apply")
    .option('--watch', 'keep syncing live until interrupted (SIGINT/SIGTERM)')
    .option('--relay <url>', "the relay to use (default: the workspace's); several instances of one relay: comma-separated, tried in order")
    .option('--workspace <name>', 'the workspace (default: the only one in the profile)')
    .action(async (o: { watch?: boolean; relay?: string; workspace?: string }, cmd: Command) => {
      const opts = optionsOf(cmd);
      const [{ describeOpenSessionFailure, openRecordSession }, { SyncEngine, SyncError }, { syncSessionOf }, { RelayRequestError }, { formatRemaining }] = await Promise.all([
        import('../../docs/openSession.ts'),
        import('../../docs/sync/SyncEngine.ts'),
        import('../../docs/sync/nodeSyncSession.ts'),
        import('../../docs/sync/relayClient.ts'),
        import('../../docs/sync/syncStatus.ts'),
      ]);
      const message = (e: unknown): string =>
        e instanceof SyncError || e instanceof RelayRequestError ? e.message : `sync failed: ${e instanceof Error ? e.message : String(e)}`;
      const vault = await openVault(opts);
      const s = await openRecordSession({ home: opts.home, vault, ...(o.workspace !== undefined ? { workspace: o.workspace } : {}) });
      if (!s.ok) fail(describeOpenSessionFailure(s));
      const session = s.value;
      let engine: SyncEngine;
      try {
        engine = new SyncEngine(syncSessionOf(session, vault, opts.home), {
          relayUrl: o.relay ?? session.workspace.meta.relay,
          log: (level, msg, detail) => {
            if (level !== 'info') note(`${level}: ${msg}${detail?.err ? ` (${String(detail.err)})` : ''}`);
          },
        });
      } catch (e) {
        await session.close();
        fail(message(e));
      }
      // Tell people when someone else deleted a record they have (their edits stay inside it).
      const applied: ApplyReport['applied'] = [];
      session.session.onApplied(r => applied.push(...r.applied));
      const deletedByOthers = async () => {
        const gone = await session.records.deletedIn(applied.splice(0));
        for (const g of gone) note(`${g.by.userId} deleted "${g.title}" (${g.id}); your edits are kept inside it: cloister record restore ${g.id} brings it back`);
        return gone;
      };
      if (!o.watch) {
        try {
          const summary = await engine.syncOnce();
          const deleted = await deletedByOthers();
          if (opts.json) printJson({ ...summary, deletedByOthers: deleted });
          else process.stdout.write(`${summaryLine(summary, formatRemaining)}\n`);
        } catch (e) {
          await engine.stop().catch(() => undefined);
          await session.close().catch(() => undefined);
          fail(message(e));
        }
        await engine.stop();
        await session.close();
        return;
      }
      engine.on('synced', sum => {
        void deletedByOthers();
        if (sum.pushed + sum.pulled + sum.logReceived + sum.logSent === 0) return;
        if (opts.json) printJson(sum);
        else process.stdout.write(`${summaryLine(sum, formatRemaining)}\n`);
      });
      engine.on('error', e => note(`sync: ${oneLine(message(e))} (retrying)`));
      engine.on('disconnected', () => note('sync: connection lost; reconnecting'));
      engine.start();
      note(`syncing ${session.workspace.name} via ${engine.relayUrl}; Ctrl-C to stop`);
      await new Promise<void>(resolve => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
      await engine.stop();
      await session.close();
      process.exit(0);
    });
}
