// `cloister device link` (on the new device) and `cloister device approve CODE` (on an existing
// device of the same person): the exchange goes through the relay's device-link mailbox, sealed under
// the one-time code (docs/DEVICES.md). `link` prints the code and waits until it is approved, then
// stores the workspaces and syncs each once; `approve` adds the device and shares the keys.
// The sync modules load inside each action, so `cloister --help` stays fast.
import type { Command } from 'commander';
import type { UnlockedVault } from '../../identity/vault/types.ts';
import { EXIT, fail, note, openVault, optionsOf, printJson } from '../context.ts';

const RELAY_URL = /^wss?:\/\/[^\s/]+/;

async function syncOnce(home: string, vault: UnlockedVault, workspaceId: string, relay: string): Promise<string | undefined> {
  const [{ describeOpenSessionFailure, openRecordSession }, { syncSessionOf }, { SyncEngine }] = await Promise.all([
    import('../../docs/openSession.ts'),
    import('../../docs/sync/nodeSyncSession.ts'),
    import('../../docs/sync/SyncEngine.ts'),
  ]);
  const s = await openRecordSession({ home, vault, workspace: workspaceId });
  if (!s.ok) return describeOpenSessionFailure(s);
  const engine = new SyncEngine(syncSessionOf(s.value, vault, home), { relayUrl: relay });
  try {
    await engine.syncOnce();
    return undefined;
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  } finally {
    await engine.stop().catch(() => undefined);
    await s.value.close().catch(() => undefined);
  }
}

export function registerLink(device: Command): void {
  device
    .command('link')
    .description('on a new device: print a one-time code, then wait while you approve it on one of your devices (`device approve CODE`)')
    .option('--relay <url>', 'the relay your other device syncs through (ws://HOST:PORT)')
    .option('--wait <duration>', 'how long to wait for the approval (default: until the code expires, 10 minutes)')
    .action(async (o: { relay?: string; wait?: string }, cmd: Command) => {
      const opts = optionsOf(cmd);
      const [{ describeLinkFailure, groupLinkCode: grouped }, { linkThisDevice }, { nodeDeviceLinkStore }, { parseDuration }] = await Promise.all([
        import('../../docs/sync/deviceLinkRelay.ts'),
        import('../../docs/sync/linkThisDevice.ts'),
        import('../../docs/sync/nodeDeviceLinkStore.ts'),
        import('../workspaceProfile.ts'),
      ]);
      if (o.relay === undefined) fail('--relay is required: the relay your other device syncs through (ws://HOST:PORT)', EXIT.usage);
      if (!RELAY_URL.test(o.relay)) fail(`--relay must look like ws://HOST:PORT, got ${o.relay}`, EXIT.usage);
      const waitMs = o.wait === undefined ? undefined : parseDuration(o.wait);
      if (o.wait !== undefined && waitMs === undefined) fail(`--wait must be a duration like 10m, got ${o.wait}`, EXIT.usage);
      const vault = await openVault(opts);
      const r = await linkThisDevice({
        store: nodeDeviceLinkStore(opts.home, vault), vault, relayUrl: o.relay, ...(waitMs !== undefined ? { waitMs } : {}),
        onCode: (code, ttl) => {
          const minutes = Math.max(1, Math.round(ttl / 60_000));
          if (opts.json) printJson({ code: grouped(code), deviceId: vault.device.deviceId, expiresInMs: ttl });
          else process.stdout.write(`${grouped(code)}\n`);
          note(`on a device that already has your workspaces, run: cloister device approve ${grouped(code)}`);
          note(`the code works once, for ${minutes} minutes; waiting for the approval here (Ctrl-C gives up)…`);
        },
        onOffer: (offer) => note(`approved for ${offer.workspaces.map((w) => w.name).join(', ') || 'no workspace'}; enrolling this device…`),
      });
      if (!r.ok) fail(describeLinkFailure(r));
      const synced: Record<string, boolean> = {};
      for (const w of r.value.workspaces) {
        const problem = await syncOnce(opts.home, vault, w.workspaceId, w.relay);
        synced[w.workspaceId] = problem === undefined;
        if (problem) note(`linked ${w.name}, but the first sync failed: ${problem} (run \`cloister sync --workspace ${w.workspaceId}\`)`);
      }
      if (opts.json) printJson({ ...r.value, synced });
      else {
        for (const w of r.value.workspaces) note(`linked: ${w.name} (${w.workspaceId}), ${w.epochs} epoch key${w.epochs === 1 ? '' : 's'}`);
        for (const x of r.value.refused) note(`not linked: ${x.workspaceId}: ${x.reason}`);
      }
      if (r.value.workspaces.length === 0) fail('the link was refused for every workspace (link_refused)');
    });

  device
    .command('approve <code>')
    .description('on one of your devices: add the new device that shows CODE to your workspaces and share their keys with it')
    .option('--relay <url>', "the relay the new device used (default: your workspace's)")
    .action(async (code: string, o: { relay?: string }, cmd: Command) => {
      const opts = optionsOf(cmd);
      const [{ approveDeviceLink }, { describeLinkFailure }, { nodeDeviceLinkStore }] = await Promise.all([
        import('../../docs/sync/approveDeviceLink.ts'),
        import('../../docs/sync/deviceLinkRelay.ts'),
        import('../../docs/sync/nodeDeviceLinkStore.ts'),
      ]);
      if (o.relay !== undefined && !RELAY_URL.test(o.relay)) fail(`--relay must look like ws://HOST:PORT, got ${o.relay}`, EXIT.usage);
      const vault = await openVault(opts);
      const r = await approveDeviceLink({
        store: nodeDeviceLinkStore(opts.home, vault), vault, code, ...(o.relay !== undefined ? { relayUrl: o.relay } : {}),
        onRequest: (deviceId) => {
          if (!opts.json) note(`device ${deviceId} asks to be linked; waiting for it to enrol…`);
        },
      });
      if (!r.ok) fail(describeLinkFailure(r));
      if (opts.json) printJson(r.value);
      else {
        process.stdout.write(`${r.value.deviceId}\n`);
        for (const w of r.value.workspaces)
          note(w.index !== undefined ? `added device ${r.value.deviceId} to ${w.name}` : `did not add it to ${w.name}: ${w.refused}`);
      }
    });
}
