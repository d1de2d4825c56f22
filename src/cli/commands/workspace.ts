// Workspace commands (DESIGN → Interfaces): create, invite, members, role, remove. Membership
// changes are intents: taken to the relay at once when it answers, else at the next sync.
// `workspace join` needs the relay and lives with the sync client. The identity and sync modules load
// inside each action, so `cloister --help` stays fast.
import { Command, Option } from 'commander';
import type { Role } from '../../identity/workspace/entry.ts';
import { fail, note, openVault, optionsOf, printJson } from '../context.ts';
import type { OpenWorkspace } from '../workspaceProfile.ts';
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
    .option('--relay <url>', 'the relay the workspace syncs through (ws://HOST:PORT; several instances of one relay: comma-separated)')
    .option('--signup-token <token>', "the relay's signup token, when it admits new workspaces by token (sent with the first sync)")
    .option('--display-name <name>', 'your name as the other members see it (sealed: the relay cannot read it)')
    .action(async (name: string, o: { relay?: string; signupToken?: string; displayName?: string }, cmd: Command) => {
      const opts = optionsOf(cmd);
      const [{ createWorkspace }, { saveWorkspace }, { checkDisplayName }, { deviceKeysOfVault }, { validRelayList }] = await Promise.all([
        import('../../identity/workspace/createWorkspace.ts'),
        import('../../identity/workspace/store.ts'),
        import('../workspaceProfile.ts'),
        import('../../identity/vault/deviceKeys.ts'),
        import('../../docs/sync/SyncEngine.ts'),
      ]);
      if (name.trim() === '' || name.length > 200) fail('the workspace name must be 1 to 200 characters', 2);
      if (o.signupToken !== undefined && !/^[\x21-\x7e]{1,256}$/.test(o.signupToken)) fail('--signup-token must be the token the relay operator gave you', 2);
      if (o.relay !== undefined && !validRelayList(o.relay)) fail(`--relay must look like ws://HOST:PORT, got ${o.relay}`, 2);
      const displayName = checkDisplayName(o.displayName);
      const vault = await openVault(opts);
      const ws = createWorkspace({ ...deviceKeysOfVault(vault), ...(displayName ? { name: displayName } : {}) }, name, { now: Date.now() });
      saveWorkspace(opts.home, vault.dataKey, {
        workspaceId: ws.workspaceId,
        entries: ws.entries,
        epochKeys: new Map([[0, ws.epochKey]]),
        meta: { ...(o.relay ? { relay: o.relay } : {}), ...(o.signupToken ? { signupToken: o.signupToken } : {}) },
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
    const [{ chooseWorkspace, currentKey, noteIntent, parseDuration, recordIntent }, { formatInvitationToken }, { newInvitation }, { inviteIntent }] = await Promise.all([
      import('../workspaceProfile.ts'),
      import('../../identity/workspace/invitation.ts'),
      import('../../identity/workspace/invitations.ts'),
      import('../../identity/workspace/intents.ts'),
    ]);
    const ttl = parseDuration(o.expires);
    if (ttl === undefined) fail(`--expires must be a duration like 30m, 24h or 7d, got ${o.expires}`, 2);
    const uses = Number(o.uses);
    if (!Number.isInteger(uses) || uses < 1 || uses > 1000) fail('--uses must be an integer from 1 to 1000', 2);
    const vault = await openVault(opts);
    const ws = chooseWorkspace(opts, vault, o.workspace);
    const now = Date.now();
    currentKey(ws);
    const inv = newInvitation({ role: o.role, expiresAt: now + ttl, maxUses: uses });
    const out = await recordIntent(opts, vault, ws, inviteIntent(inv.terms));
    const code = formatInvitationToken(ws.stored.workspaceId, inv.code);
    if (out.status === 'failed') fail(`the invitation was refused: ${out.reason}`);
    if (opts.json) printJson({ code, status: out.status });
    else {
      process.stdout.write(`${code}\n`);
      note(`invitation for a ${o.role}, valid until ${new Date(now + ttl).toISOString()}`);
      noteIntent(out, 'publishing the invitation');
    }
  });

  pick(workspace.command('members').description('list the members, their roles and devices')).action(async (o: { workspace?: string }, cmd: Command) => {
    const opts = optionsOf(cmd);
    const [{ chooseWorkspace }, { members, needsRotation }, { describeIntent }] = await Promise.all([
      import('../workspaceProfile.ts'),
      import('../../identity/workspace/selectors.ts'),
      import('../../identity/workspace/intents.ts'),
    ]);
    const vault = await openVault(opts);
    const ws = chooseWorkspace(opts, vault, o.workspace);
    const list = members(ws.state);
    for (const i of ws.stored.intents ?? []) note(`${i.status === 'pending' ? 'pending' : `failed (${i.reason})`}: ${describeIntent(i.action)}`);
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
    if (needsRotation(ws.state)) note('note: the workspace key should be rotated (an active device lacks the current key)');
  });

  pick(workspace.command('set-name <name>').description('set your display name in the workspace (sealed: the relay cannot read it)')).action(
    async (name: string, o: { workspace?: string }, cmd: Command) => {
      const opts = optionsOf(cmd);
      const [{ chooseWorkspace, currentKey, noteIntent, recordIntent }, { cleanDisplayName, MAX_DISPLAY_NAME }] = await Promise.all([
        import('../workspaceProfile.ts'),
        import('../../identity/workspace/names.ts'),
      ]);
      const clean = cleanDisplayName(name);
      if (clean === undefined) fail(`the name must be 1 to ${MAX_DISPLAY_NAME} characters without control characters`, 2);
      const vault = await openVault(opts);
      const ws = chooseWorkspace(opts, vault, o.workspace);
      currentKey(ws);
      const out = await recordIntent(opts, vault, ws, { kind: 'set_name', name: clean });
      if (opts.json) printJson({ name: clean, status: out.status, ...(out.reason ? { reason: out.reason } : {}) });
      noteIntent(out, `setting your display name to "${clean}"`);
      if (out.status === 'failed') process.exitCode = 1;
    },
  );

  pick(workspace.command('role <member> <role>').description('change a member’s role (admin, writer or reader)')).action(
    async (member: string, role: string, o: { workspace?: string }, cmd: Command) => {
      const opts = optionsOf(cmd);
      const { chooseWorkspace, noteIntent, recordIntent } = await import('../workspaceProfile.ts');
      if (role !== 'admin' && role !== 'writer' && role !== 'reader') fail(`the role must be admin, writer or reader, got ${role}`, 2);
      const vault = await openVault(opts);
      const ws = chooseWorkspace(opts, vault, o.workspace);
      const target = await pickMember(ws, member);
      const out = await recordIntent(opts, vault, ws, { kind: 'set_role', member: target.userId, role });
      if (opts.json) printJson({ member: target.userId, role, status: out.status, ...(out.reason ? { reason: out.reason } : {}) });
      noteIntent(out, `making ${target.name ?? target.userId} ${role}`);
      if (out.status === 'failed') process.exitCode = 1;
    },
  );

  pick(workspace.command('remove <member>').description('remove a member (by user id or name) and rotate the workspace key')).action(
    async (member: string, o: { workspace?: string }, cmd: Command) => {
      const opts = optionsOf(cmd);
      const { chooseWorkspace, currentKey, noteIntent, recordIntent } = await import('../workspaceProfile.ts');
      const vault = await openVault(opts);
      const ws = chooseWorkspace(opts, vault, o.workspace);
      const target = await pickMember(ws, member);
      currentKey(ws);
      const out = await recordIntent(opts, vault, ws, { kind: 'remove_member', member: target.userId });
      if (opts.json) printJson({ removed: target.userId, status: out.status, epoch: out.ws.state.epoch, ...(out.reason ? { reason: out.reason } : {}) });
      noteIntent(out, `removing ${target.name ?? target.userId}${out.status === 'appended' ? ` (the workspace key is now at epoch ${out.ws.state.epoch})` : ''}`);
      if (out.status === 'failed') process.exitCode = 1;
    },
  );
}

/** A current member by user id, name or id prefix; exit with one line if none or several. */
async function pickMember(ws: OpenWorkspace, member: string) {
  const { members } = await import('../../identity/workspace/selectors.ts');
  const current = members(ws.state).filter((m) => !m.removed);
  let matches = current.filter((m) => m.userId === member || m.name === member);
  if (matches.length === 0) matches = current.filter((m) => m.userId.startsWith(member));
  if (matches.length === 0) fail(`no current member ${member}`);
  if (matches.length > 1) fail(`${member} matches ${matches.length} members; give the full user id`);
  return matches[0]!;
}
