// `cloister workspace join CODE --relay ws://HOST:PORT`: join through the relay with exactly what
// `workspace invite` printed (also accepts its --json output), then sync once.
// The sync modules load inside the action, so `cloister --help` stays fast.
import type { Command } from 'commander';
import { fail, note, openVault, optionsOf, printJson } from '../context.ts';

/** The invitation token from CODE, or from `{"code": "..."}` pasted whole. */
function tokenOf(code: string): string {
  const t = code.trim();
  if (t.startsWith('{')) {
    try {
      const v = JSON.parse(t) as { code?: unknown };
      if (typeof v.code === 'string') return v.code;
    } catch {
      /* fall through: reported as an invalid code */
    }
  }
  return t;
}

export function registerJoin(workspace: Command): void {
  workspace
    .command('join <code>')
    .description('join a workspace with an invitation code, through its relay')
    .requiredOption('--relay <url>', 'the relay the workspace syncs through (ws://HOST:PORT; several instances of one relay: comma-separated)')
    .option('--display-name <name>', 'your name as the other members see it (sealed: the relay cannot read it)')
    .action(async (code: string, o: { relay: string; displayName?: string }, cmd: Command) => {
      const opts = optionsOf(cmd);
      const [{ describeOpenSessionFailure, openRecordSession }, { joinViaRelay }, { syncSessionOf }, { SyncEngine, validRelayList }, { checkDisplayName }] = await Promise.all([
        import('../../docs/openSession.ts'),
        import('../../docs/sync/joinViaRelay.ts'),
        import('../../docs/sync/nodeSyncSession.ts'),
        import('../../docs/sync/SyncEngine.ts'),
        import('../workspaceProfile.ts'),
      ]);
      if (!validRelayList(o.relay)) fail(`--relay must look like ws://HOST:PORT, got ${o.relay}`, 2);
      const displayName = checkDisplayName(o.displayName);
      const vault = await openVault(opts);
      const j = await joinViaRelay({ home: opts.home, vault, token: tokenOf(code), relayUrl: o.relay, ...(displayName ? { displayName } : {}) });
      if (!j.ok) fail(j.detail ?? j.reason);
      const s = await openRecordSession({ home: opts.home, vault, workspace: j.value.workspaceId });
      if (!s.ok) fail(describeOpenSessionFailure(s));
      const engine = new SyncEngine(syncSessionOf(s.value, vault, opts.home), { relayUrl: o.relay });
      let synced = true;
      try {
        await engine.syncOnce();
      } catch (e) {
        synced = false;
        note(`joined, but the first sync failed: ${e instanceof Error ? e.message : String(e)} (run \`cloister sync\`)`);
      } finally {
        await engine.stop();
        await s.value.close();
      }
      if (opts.json) printJson({ workspaceId: j.value.workspaceId, name: j.value.name, role: j.value.role, synced });
      else process.stdout.write(`${j.value.workspaceId}\n`);
      if (!opts.json) note(`joined ${j.value.name} as ${j.value.role}${j.value.alreadyMember ? ' (this device was already a member)' : ''}`);
    });
}
