// Device commands, the offline parts: `device add` prints a one-time device-link code (the new
// device answers it through the relay, which completes the link), `device revoke` revokes a device
// and rotates the workspace key, `device list` shows this user's devices.
import { Command } from 'commander';
import { createDeviceLinkCode } from '../../identity/workspace/deviceLink.ts';
import { revokeDevice } from '../../identity/workspace/devices.ts';
import { formatInvitationToken } from '../../identity/workspace/invitation.ts';
import { deviceInfo, memberOf } from '../../identity/workspace/selectors.ts';
import { saveWorkspace } from '../../identity/workspace/store.ts';
import { fail, note, openVault, optionsOf, printJson } from '../context.ts';
import { appendAndSave, chooseWorkspace, currentKey, parseDuration } from '../workspaceProfile.ts';
import { deviceKeysOfVault } from '../../identity/vault/deviceKeys.ts';

const LINK_TTL = '15m';

export function register(program: Command): void {
  const device = program.command('device').description('link a new device to your account, or revoke one');
  const pick = (c: Command) => c.option('--workspace <name>', 'the workspace (default: the only one in the profile)');

  pick(
    device
      .command('add')
      .description('print a one-time code to enter on the new device')
      .option('--expires <duration>', 'how long the code stays valid', LINK_TTL),
  ).action(async (o: { expires: string; workspace?: string }, cmd: Command) => {
    const opts = optionsOf(cmd);
    const ttl = parseDuration(o.expires);
    if (ttl === undefined) fail(`--expires must be a duration like 15m or 1h, got ${o.expires}`, 2);
    const vault = await openVault(opts);
    const ws = chooseWorkspace(opts, vault, o.workspace);
    currentKey(ws);
    const code = createDeviceLinkCode();
    // The code stays in this profile's encrypted store until the new device answers it.
    const meta = { ...ws.stored.meta, deviceLink: JSON.stringify({ code, expiresAt: Date.now() + ttl }) };
    saveWorkspace(opts.home, vault.dataKey, { ...ws.stored, meta });
    const token = formatInvitationToken(ws.stored.workspaceId, code);
    if (opts.json) printJson({ code: token });
    else {
      process.stdout.write(`${token}\n`);
      note(`enter this code on the new device within ${o.expires}; it works once`);
    }
  });

  pick(device.command('list').description('list your devices in the workspace')).action(async (o: { workspace?: string }, cmd: Command) => {
    const opts = optionsOf(cmd);
    const vault = await openVault(opts);
    const ws = chooseWorkspace(opts, vault, o.workspace);
    const mine = (memberOf(ws.state, vault.userId)?.devices ?? []).map((id) => deviceInfo(ws.state, id)!);
    if (opts.json) printJson(mine.map((d) => ({ deviceId: d.deviceId, revoked: d.revoked, current: d.deviceId === vault.device.deviceId })));
    else for (const d of mine) process.stdout.write(`${d.deviceId}${d.revoked ? '  revoked' : ''}${d.deviceId === vault.device.deviceId ? '  (this device)' : ''}\n`);
  });

  pick(device.command('revoke <device>').description('revoke a device (yours, or anyone’s if you are an admin) and rotate the key')).action(
    async (id: string, o: { workspace?: string }, cmd: Command) => {
      const opts = optionsOf(cmd);
      const vault = await openVault(opts);
      const ws = chooseWorkspace(opts, vault, o.workspace);
      const candidates = [...ws.state.devices.values()].filter((d) => !d.revoked && (d.deviceId === id || d.deviceId.startsWith(id)));
      if (candidates.length === 0) fail(`no active device ${id}`);
      if (candidates.length > 1) fail(`${id} matches ${candidates.length} devices; give more characters`);
      const target = candidates[0]!;
      currentKey(ws);
      const { entry, epochKey } = revokeDevice(ws.state, deviceKeysOfVault(vault), new Map(ws.stored.epochKeys), target.deviceId, Date.now());
      const after = appendAndSave(opts, vault, ws, entry.bytes, { epoch: ws.state.epoch + 1, key: epochKey });
      if (opts.json) printJson({ revoked: target.deviceId, epoch: after.state.epoch });
      else note(`revoked device ${target.deviceId}; the workspace key is now at epoch ${after.state.epoch}`);
    },
  );
}
