// Device commands: `device link` / `device approve CODE` link a new device through the relay
// (deviceLink.ts), `device revoke` revokes a device and rotates the workspace key, `device list`
// shows this user's devices.
// Modules beyond commander and ../context.ts load inside each action (`cloister --help` stays fast).
import { Command } from 'commander';
import { fail, openVault, optionsOf, printJson } from '../context.ts';
import { registerLink } from './deviceLink.ts';

export function register(program: Command): void {
  const device = program.command('device').description('link a new device to your account (link, approve), list or revoke devices');
  const pick = (c: Command) => c.option('--workspace <name>', 'the workspace (default: the only one in the profile)');

  registerLink(device);

  pick(device.command('list').description('list your devices in the workspace')).action(async (o: { workspace?: string }, cmd: Command) => {
    const opts = optionsOf(cmd);
    const [{ deviceInfo, memberOf }, { chooseWorkspace }] = await Promise.all([import('../../identity/workspace/selectors.ts'), import('../workspaceProfile.ts')]);
    const vault = await openVault(opts);
    const ws = chooseWorkspace(opts, vault, o.workspace);
    const me = ws.state.devices.get(vault.device.deviceId)?.userId ?? vault.userId;
    const mine = (memberOf(ws.state, me)?.devices ?? []).map((id) => deviceInfo(ws.state, id)!);
    if (opts.json) printJson(mine.map((d) => ({ deviceId: d.deviceId, revoked: d.revoked, current: d.deviceId === vault.device.deviceId })));
    else for (const d of mine) process.stdout.write(`${d.deviceId}${d.revoked ? '  revoked' : ''}${d.deviceId === vault.device.deviceId ? '  (this device)' : ''}\n`);
  });

  pick(device.command('revoke <device>').description('revoke a device (yours, or anyone’s if you are an admin) and rotate the key')).action(
    async (id: string, o: { workspace?: string }, cmd: Command) => {
      const opts = optionsOf(cmd);
      const { chooseWorkspace, currentKey, noteIntent, recordIntent } = await import('../workspaceProfile.ts');
      const vault = await openVault(opts);
      const ws = chooseWorkspace(opts, vault, o.workspace);
      const candidates = [...ws.state.devices.values()].filter((d) => !d.revoked && (d.deviceId === id || d.deviceId.startsWith(id)));
      if (candidates.length === 0) fail(`no active device ${id}`);
      if (candidates.length > 1) fail(`${id} matches ${candidates.length} devices; give more characters`);
      const target = candidates[0]!;
      currentKey(ws);
      const out = await recordIntent(opts, vault, ws, { kind: 'revoke_device', device: target.deviceId });
      if (opts.json) printJson({ revoked: target.deviceId, status: out.status, epoch: out.ws.state.epoch, ...(out.reason ? { reason: out.reason } : {}) });
      noteIntent(out, `revoking device ${target.deviceId}${out.status === 'appended' ? ` (the workspace key is now at epoch ${out.ws.state.epoch})` : ''}`);
      if (out.status === 'failed') process.exitCode = 1;
    },
  );
}
