// Workspace commands, the offline parts (DESIGN → Interfaces): create, invite, members, remove.
// `workspace join` needs the relay and lives with the sync client.
import { Command, Option } from 'commander';
import { createWorkspace } from '../../identity/workspace/createWorkspace.ts';
import { formatInvitationToken } from '../../identity/workspace/invitation.ts';
import { createInvitation } from '../../identity/workspace/invitations.ts';
import { removeMember } from '../../identity/workspace/members.ts';
import { members, needsRotation } from '../../identity/workspace/selectors.ts';
import { saveWorkspace } from '../../identity/workspace/store.ts';
import type { Role } from '../../identity/workspace/entry.ts';
import { fail, note, openVault, optionsOf, printJson } from '../context.ts';
import { appendAndSave, chooseWorkspace, currentKey, parseDuration } from '../workspaceProfile.ts';
import { deviceKeysOfVault } from '../../identity/vault/deviceKeys.ts';
import { registerJoin } from './workspaceJoin.ts';
import { registerHeld } from './workspaceHeld.ts';

const DEFAULT_EXPIRY = '7d';

export function register(program: Command): void {
  const workspace = program.command('workspace').description('create a workspace, invite people, list and remove members');
  const pick = (c: Command) => c.option('--workspace <name>', 'the workspace (default: the only one in the profile)');
  registerJoin(workspace);
  registerHeld(workspace);

  workspace
    .command('create <name>')
    .description('create a workspace with you as its only admin')
    .option('--relay <url>', 'the relay the workspace syncs through (ws://HOST:PORT)')
    .action(async (name: string, o: { relay?: string }, cmd: Command) => {
      const opts = optionsOf(cmd);
      if (name.trim() === '' || name.length > 200) fail('the workspace name must be 1 to 200 characters', 2);
      if (o.relay !== undefined && !/^wss?:\/\/[^\s/]+/.test(o.relay)) fail(`--relay must look like ws://HOST:PORT, got ${o.relay}`, 2);
      const vault = await openVault(opts);
      const ws = createWorkspace(deviceKeysOfVault(vault), name, { now: Date.now() });
      saveWorkspace(opts.home, vault.dataKey, {
        workspaceId: ws.workspaceId,
        entries: ws.entries,
        epochKeys: new Map([[0, ws.epochKey]]),
        meta: o.relay ? { relay: o.relay } : {},
      });
      if (opts.json) printJson({ workspaceId: ws.workspaceId, name });
      else process.stdout.write(`${ws.workspaceId}\n`);
    });

  pick(
    workspace
      .command('invite')
      .description('print a one-time invitation code (give it to one person, privately)')
      .addOption(new Option('--role <role>', 'the role the invitee gets').choices(['admin', 'writer', 'reader']).makeOptionMandatory())
      .option('--expires <duration>', 'how long the code stays valid: 30m, 24h, 7d, 2w', DEFAULT_EXPIRY)
      .option('--uses <n>', 'how many people may join with it', '1'),
  ).action(async (o: { role: Role; expires: string; uses: string; workspace?: string }, cmd: Command) => {
    const opts = optionsOf(cmd);
    const ttl = parseDuration(o.expires);
    if (ttl === undefined) fail(`--expires must be a duration like 30m, 24h or 7d, got ${o.expires}`, 2);
    const uses = Number(o.uses);
    if (!Number.isInteger(uses) || uses < 1 || uses > 1000) fail('--uses must be an integer from 1 to 1000', 2);
    const vault = await openVault(opts);
    const ws = chooseWorkspace(opts, vault, o.workspace);
    const now = Date.now();
    const inv = createInvitation(ws.state, deviceKeysOfVault(vault), currentKey(ws), { role: o.role, expiresAt: now + ttl, maxUses: uses, now });
    appendAndSave(opts, vault, ws, inv.entry.bytes);
    const code = formatInvitationToken(ws.stored.workspaceId, inv.code);
    if (opts.json) printJson({ code });
    else {
      process.stdout.write(`${code}\n`);
      note(`invitation for a ${o.role}, valid until ${new Date(now + ttl).toISOString()}; it reaches the relay at the next sync`);
    }
  });

  pick(workspace.command('members').description('list the members, their roles and devices')).action(async (o: { workspace?: string }, cmd: Command) => {
    const opts = optionsOf(cmd);
    const vault = await openVault(opts);
    const ws = chooseWorkspace(opts, vault, o.workspace);
    const list = members(ws.state);
    if (opts.json) {
      printJson(list);
      return;
    }
    // A linked device (docs/DEVICES.md) is you under the user that added it, not its vault's own id.
    const me = ws.state.devices.get(vault.device.deviceId)?.userId ?? vault.userId;
    for (const m of list) {
      const who = m.name ? `${m.name} (${m.userId})` : m.userId;
      process.stdout.write(`${who}  ${m.role}${m.removed ? '  removed' : ''}  devices: ${m.devices.join(', ')}${m.userId === me ? '  (you)' : ''}\n`);
    }
    if (needsRotation(ws.state)) note('note: the workspace key should be rotated (a removal or revocation crossed another change)');
  });

  pick(workspace.command('remove <member>').description('remove a member (by user id or name) and rotate the workspace key')).action(
    async (member: string, o: { workspace?: string }, cmd: Command) => {
      const opts = optionsOf(cmd);
      const vault = await openVault(opts);
      const ws = chooseWorkspace(opts, vault, o.workspace);
      const current = members(ws.state).filter((m) => !m.removed);
      let matches = current.filter((m) => m.userId === member || m.name === member);
      if (matches.length === 0) matches = current.filter((m) => m.userId.startsWith(member));
      if (matches.length === 0) fail(`no current member ${member}`);
      if (matches.length > 1) fail(`${member} matches ${matches.length} members; give the full user id`);
      const target = matches[0]!;
      const keys = new Map(ws.stored.epochKeys);
      currentKey(ws);
      const { entry, epochKey } = removeMember(ws.state, deviceKeysOfVault(vault), keys, target.userId, Date.now());
      const after = appendAndSave(opts, vault, ws, entry.bytes, { epoch: ws.state.epoch + 1, key: epochKey });
      if (opts.json) printJson({ removed: target.userId, epoch: after.state.epoch });
      else note(`removed ${target.name ?? target.userId}; the workspace key is now at epoch ${after.state.epoch}`);
    },
  );
}
