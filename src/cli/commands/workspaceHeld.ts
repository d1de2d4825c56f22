// `cloister workspace held [--json]` and `cloister workspace approve HELD_ID`: for admins of a workspace
// under lease policy 'hold', the envelopes the relay keeps because they arrived outside their lease.
// The docs modules load inside each action, so `cloister --help` stays fast.
import type { Command } from 'commander';
import type { RecordSession } from '../../docs/openSession.ts';
import type { UnlockedVault } from '../../identity/vault/types.ts';
import { EXIT, fail, openVault, optionsOf, printJson, type CommonOptions } from '../context.ts';

async function withRelaySession(
  cmd: Command,
  o: { workspace?: string; relay?: string },
  fn: (s: RecordSession, vault: UnlockedVault, relay: string, opts: CommonOptions) => Promise<void>,
): Promise<void> {
  const opts = optionsOf(cmd);
  const [{ describeOpenSessionFailure, openRecordSession }, { HeldError }] = await Promise.all([import('../../docs/openSession.ts'), import('../../docs/sync/heldEnvelopes.ts')]);
  const vault = await openVault(opts);
  const s = await openRecordSession({ home: opts.home, vault, ...(o.workspace !== undefined ? { workspace: o.workspace } : {}) });
  if (!s.ok) fail(describeOpenSessionFailure(s));
  const relay = o.relay ?? s.value.workspace.meta.relay;
  let problem: string | undefined;
  try {
    if (!relay) problem = 'this workspace has no relay: pass --relay ws://HOST:PORT';
    else await fn(s.value, vault, relay, opts);
  } catch (e) {
    if (!(e instanceof HeldError)) throw e;
    problem = e.message;
  } finally {
    await s.value.close();
  }
  if (problem) fail(problem); // after closing the session cleanly
}

export function registerHeld(workspace: Command): void {
  const pick = (c: Command) =>
    c.option('--workspace <name>', 'the workspace (default: the only one in the profile)').option('--relay <url>', "the relay (default: the workspace's)");

  pick(workspace.command('held'))
    .description('admins: list envelopes the relay holds because they arrived outside their offline lease (policy hold)')
    .action(async (o: { workspace?: string; relay?: string }, cmd: Command) => {
      const [{ listHeldEnvelopes }, { deviceKeysOfVault }] = await Promise.all([import('../../docs/sync/heldEnvelopes.ts'), import('../../docs/sync/nodeSyncSession.ts')]);
      await withRelaySession(cmd, o, async (s, vault, relay, opts) => {
        const items = await listHeldEnvelopes({ live: s.live, syncState: s.syncState, device: deviceKeysOfVault(vault) }, relay);
        if (opts.json) return printJson(items);
        if (items.length === 0) return void process.stdout.write('no held envelopes\n');
        const lines = items.map(i => `${i.heldId}  ${new Date(i.receivedAt).toISOString()}  doc ${i.docId} seq ${i.seq}  device ${i.deviceId}${i.userId ? ` (user ${i.userId})` : ''}`);
        process.stdout.write(`${lines.join('\n')}\napprove one with: cloister workspace approve HELD_ID\n`);
      });
    });

  pick(workspace.command('approve <heldId>'))
    .description('admins: release a held envelope into the workspace')
    .action(async (heldId: string, o: { workspace?: string; relay?: string }, cmd: Command) => {
      const id = Number(heldId);
      if (!Number.isSafeInteger(id) || id < 0) fail(`HELD_ID must be a number from \`cloister workspace held\`, got ${heldId}`, EXIT.usage);
      const [{ approveHeldEnvelope }, { deviceKeysOfVault }] = await Promise.all([import('../../docs/sync/heldEnvelopes.ts'), import('../../docs/sync/nodeSyncSession.ts')]);
      await withRelaySession(cmd, o, async (s, vault, relay, opts) => {
        const relaySeq = await approveHeldEnvelope({ live: s.live, syncState: s.syncState, device: deviceKeysOfVault(vault) }, relay, id);
        if (opts.json) printJson({ heldId: id, relaySeq });
        else process.stdout.write(`approved held envelope ${id} (relay seq ${relaySeq})\n`);
      });
    });
}
