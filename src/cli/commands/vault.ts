// Vault commands: init, unlock, passwd, recover (offline login; see docs/VAULT.md).
// The vault modules load inside each action, so `cloister --help` stays fast.
import type { Command } from 'commander';
import { fail, note, openVault, optionsOf, printJson, promptLine, readNewPassword, readPassword, readStdinLine, vaultFailureMessage } from '../context.ts';

const RECOVERY_WARNING =
  'This recovery key is shown only once. Write it down and keep it apart from this device: ' +
  'with it anyone can reset your password, and without it a forgotten password loses the vault.';

export function register(program: Command): void {
  program
    .command('init')
    .description('create a vault (offline login) in the profile directory and print its recovery key once')
    .addHelpText('after', '\nWith --password-stdin the password is the first line of standard input.')
    .action(async (_o, cmd: Command) => {
      const opts = optionsOf(cmd);
      const [{ vaultExists }, { createVault, VaultCreateError }] = await Promise.all([import('../../identity/vault/store.ts'), import('../../identity/vault/createVault.ts')]);
      if (vaultExists(opts.home)) fail(`a vault already exists in ${opts.home}`);
      const password = await readNewPassword(opts, 'Choose a password: ');
      let created: Awaited<ReturnType<typeof createVault>>;
      try {
        created = await createVault(opts.home, password, { kdf: opts.kdf });
      } catch (e) {
        if (e instanceof VaultCreateError) fail(e.message);
        throw e;
      }
      const { vault, recoveryKey } = created;
      if (opts.json) {
        printJson({ home: opts.home, userId: vault.userId, deviceId: vault.device.deviceId, kdf: vault.kdf, recoveryKey, warning: RECOVERY_WARNING });
        return;
      }
      process.stdout.write(
        `Created a vault in ${opts.home}\n  user ${vault.userId}\n  device ${vault.device.deviceId}\n\n` +
          `RECOVERY KEY:\n\n    ${recoveryKey}\n\n${RECOVERY_WARNING}\n`,
      );
    });

  program
    .command('unlock')
    .description('check the password by unlocking the vault (upgrades weak key-derivation parameters)')
    .action(async (_o, cmd: Command) => {
      const opts = optionsOf(cmd);
      const vault = await openVault(opts);
      if (opts.json) printJson({ ok: true, userId: vault.userId, deviceId: vault.device.deviceId, kdf: vault.kdf });
      else process.stdout.write(`Unlocked: user ${vault.userId}, device ${vault.device.deviceId}\n`);
    });

  program
    .command('passwd')
    .description('change the vault password (re-wraps the keys; no data is re-encrypted)')
    .addHelpText('after', '\nWith --password-stdin: the current password on the first line, the new one on the second.')
    .action(async (_o, cmd: Command) => {
      const opts = optionsOf(cmd);
      const [{ vaultExists }, { changePassword }] = await Promise.all([import('../../identity/vault/store.ts'), import('../../identity/vault/changePassword.ts')]);
      if (!vaultExists(opts.home)) fail(vaultFailureMessage({ reason: 'vault_missing' }, opts.home));
      const oldPassword = await readPassword(opts, 'Current password: ');
      const newPassword = await readNewPassword(opts, 'New password: ');
      const r = await changePassword(opts.home, oldPassword, newPassword, {
        kdf: opts.kdf,
        onWait: (ms, n) => note(`${n} failed attempts: waiting ${Math.ceil(ms / 1000)} s before trying (advisory back-off)`),
      });
      if (!r.ok) fail(vaultFailureMessage(r, opts.home));
      if (opts.json) printJson({ ok: true });
      else process.stdout.write('Password changed.\n');
    });

  program
    .command('recover')
    .description('set a new password using the recovery key printed by `cloister init`')
    .option('--recovery-key <key>', 'the recovery key (else read from standard input or asked for; note that arguments are visible to other local users)')
    .addHelpText('after', '\nWith --password-stdin and no --recovery-key: the recovery key on the first line, the new password on the next.')
    .action(async (o: { recoveryKey?: string }, cmd: Command) => {
      const opts = optionsOf(cmd);
      const [{ vaultExists }, { recoverVault }] = await Promise.all([import('../../identity/vault/store.ts'), import('../../identity/vault/recoverVault.ts')]);
      if (!vaultExists(opts.home)) fail(vaultFailureMessage({ reason: 'vault_missing' }, opts.home));
      let key = o.recoveryKey;
      if (key === undefined) {
        if (opts.passwordStdin || !process.stdin.isTTY) key = await readStdinLine('the recovery key');
        else key = await promptLine('Recovery key: ');
      }
      const newPassword = await readNewPassword(opts, 'New password: ');
      const r = await recoverVault(opts.home, key, newPassword, {
        kdf: opts.kdf,
        onWait: (ms, n) => note(`${n} failed attempts: waiting ${Math.ceil(ms / 1000)} s before trying (advisory back-off)`),
      });
      if (!r.ok) fail(vaultFailureMessage(r, opts.home));
      if (opts.json) printJson({ ok: true, userId: r.value.userId, deviceId: r.value.device.deviceId });
      else process.stdout.write('Vault recovered; the new password is set. The recovery key stays valid.\n');
    });
}
