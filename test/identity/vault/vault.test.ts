// Stories of offline login: alice creates, unlocks, changes her password and recovers; eve guesses.
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { DEFAULT_KDF, MIN_KDF } from '../../../src/crypto/argon2.ts';
import { equalBytes, utf8 } from '../../../src/crypto/bytes.ts';
import { changePassword } from '../../../src/identity/vault/changePassword.ts';
import { createVault, VaultCreateError } from '../../../src/identity/vault/createVault.ts';
import { recoverVault } from '../../../src/identity/vault/recoverVault.ts';
import { decodeVaultFile } from '../../../src/identity/vault/vaultFile.ts';
import { vaultExists, vaultPath } from '../../../src/identity/vault/store.ts';
import { unlockVault } from '../../../src/identity/vault/unlockVault.ts';
import { allFiles, FAST, removeTempHomes, tempHome } from './helpers.ts';

afterAll(removeTempHomes);

describe('vault', () => {
  it('alice creates a vault and unlocks it with her password, getting the same keys back', async () => {
    const home = tempHome();
    expect(vaultExists(home)).toBe(false);
    const { vault, recoveryKey } = await createVault(home, 'correct horse', FAST);
    expect(vaultExists(home)).toBe(true);
    expect(recoveryKey).toMatch(/^([0-9A-HJKMNP-TV-Z]{4}-){13}[0-9A-HJKMNP-TV-Z]{4}$/);
    const opened = await unlockVault(home, 'correct horse', FAST);
    expect(opened.ok).toBe(true);
    if (!opened.ok) return;
    const v = opened.value;
    expect(v.userId).toBe(vault.userId);
    expect(v.user.userId).toBe(vault.userId);
    expect(equalBytes(v.dataKey, vault.dataKey)).toBe(true);
    expect(v.device.deviceId).toBe(vault.device.deviceId);
    expect(equalBytes(v.device.signingPub, vault.device.signingPub)).toBe(true);
    expect(equalBytes(v.device.boxPub, vault.device.boxPub)).toBe(true);
    expect(equalBytes(v.user.signingPub, vault.user.signingPub)).toBe(true);
    expect(equalBytes(v.user.signingPub, v.device.signingPub)).toBe(false);
    expect(v.dataKey.length).toBe(32);
  });

  it('eve guessing a wrong password learns only "wrong password"', async () => {
    const home = tempHome();
    await createVault(home, 'alice-secret', FAST);
    for (const guess of ['alice-secreT', '', 'alice-secret ', 'x'.repeat(1000)]) {
      const r = await unlockVault(home, guess, FAST);
      expect(r).toEqual({ ok: false, reason: 'wrong_password' });
    }
  });

  it('no file under the home contains the password, in any common encoding', async () => {
    const home = tempHome();
    const password = 'hunter2-unique-password';
    await createVault(home, password, FAST);
    await unlockVault(home, 'wrong guess', FAST);
    await changePassword(home, password, password + '-2', FAST);
    for (const { path, bytes } of allFiles(home)) {
      for (const pw of [password, password + '-2']) {
        expect(bytes.includes(Buffer.from(pw)), path).toBe(false);
        expect(bytes.includes(Buffer.from(pw, 'utf16le')), path).toBe(false);
        expect(bytes.toString('latin1').includes(Buffer.from(pw).toString('base64')), path).toBe(false);
        expect(bytes.toString('latin1').includes(Buffer.from(pw).toString('hex')), path).toBe(false);
      }
    }
  });

  it('passwords are NFKC-normalised: the same password typed two ways unlocks', async () => {
    const home = tempHome();
    await createVault(home, 'caf\u00e9', FAST);
    expect((await unlockVault(home, 'cafe\u0301', FAST)).ok).toBe(true);
  });

  it('refuses to create over an existing vault, or with an empty password, or weak KDF parameters', async () => {
    const home = tempHome();
    await createVault(home, 'pw', FAST);
    await expect(createVault(home, 'pw2', FAST)).rejects.toBeInstanceOf(VaultCreateError);
    await expect(createVault(tempHome(), '', FAST)).rejects.toThrow(/empty/);
    await expect(createVault(tempHome(), 'pw', { kdf: { ...MIN_KDF, m_kib: 1024 } })).rejects.toThrow(/unsafe/);
  });

  it('unlocking a home without a vault says vault_missing', async () => {
    expect(await unlockVault(tempHome(), 'pw', FAST)).toEqual({ ok: false, reason: 'vault_missing' });
  });

  it('after a password change the new password unlocks, the old fails, and the DEK is unchanged', async () => {
    const home = tempHome();
    const { vault } = await createVault(home, 'old-pw', FAST);
    expect(await changePassword(home, 'old-pw', 'new-pw', FAST)).toEqual({ ok: true, value: undefined });
    expect(await unlockVault(home, 'old-pw', FAST)).toEqual({ ok: false, reason: 'wrong_password' });
    const opened = await unlockVault(home, 'new-pw', FAST);
    expect(opened.ok && equalBytes(opened.value.dataKey, vault.dataKey)).toBe(true);
  });

  it('a password change with the wrong old password changes nothing', async () => {
    const home = tempHome();
    await createVault(home, 'old-pw', FAST);
    const before = readFileSync(vaultPath(home));
    expect(await changePassword(home, 'not-it', 'new-pw', FAST)).toEqual({ ok: false, reason: 'wrong_password' });
    expect(readFileSync(vaultPath(home)).equals(before)).toBe(true);
  });

  it('alice forgets her password and recovers with the recovery key, which keeps working afterwards', async () => {
    const home = tempHome();
    const { vault, recoveryKey } = await createVault(home, 'forgotten', FAST);
    await changePassword(home, 'forgotten', 'also-forgotten', FAST);
    const r = await recoverVault(home, recoveryKey, 'fresh', FAST);
    expect(r.ok && equalBytes(r.value.dataKey, vault.dataKey)).toBe(true);
    expect((await unlockVault(home, 'fresh', FAST)).ok).toBe(true);
    expect((await unlockVault(home, 'also-forgotten', FAST)).ok).toBe(false);
    // typed by a person: lower case, spaces instead of dashes
    const typed = recoveryKey.toLowerCase().replace(/-/g, ' ');
    expect((await recoverVault(home, typed, 'fresher', FAST)).ok).toBe(true);
    expect((await unlockVault(home, 'fresher', FAST)).ok).toBe(true);
  });

  it('eve with another vault\'s recovery key gets wrong_recovery_key; a typo gets recovery_key_malformed', async () => {
    const home = tempHome();
    const { recoveryKey } = await createVault(home, 'pw', FAST);
    const other = await createVault(tempHome(), 'pw', FAST);
    expect(await recoverVault(home, other.recoveryKey, 'eve', FAST)).toEqual({ ok: false, reason: 'wrong_recovery_key' });
    const i = 5;
    const typo = recoveryKey.slice(0, i) + (recoveryKey[i] === 'A' ? 'B' : 'A') + recoveryKey.slice(i + 1);
    const r = await recoverVault(home, typo, 'eve', FAST);
    expect(r.ok === false && r.reason).toBe('recovery_key_malformed');
    expect((await unlockVault(home, 'pw', FAST)).ok).toBe(true);
  });

  it('weak stored KDF parameters are upgraded at the next successful unlock, and the password still works', async () => {
    const home = tempHome();
    const { vault } = await createVault(home, 'pw', FAST);
    const target = { ...MIN_KDF, m_kib: MIN_KDF.m_kib + 1024, t: MIN_KDF.t + 1 };
    const before = decodeVaultFile(new Uint8Array(readFileSync(vaultPath(home))));
    const r = await unlockVault(home, 'pw', { kdf: target });
    expect(r.ok && r.value.kdf).toEqual(target);
    const after = decodeVaultFile(new Uint8Array(readFileSync(vaultPath(home))));
    expect(after.ok && after.value.header.kdf).toEqual(target);
    expect(before.ok && after.ok && equalBytes(before.value.header.salt, after.value.header.salt)).toBe(false);
    // the recovery wrap is untouched
    expect(before.ok && after.ok && equalBytes(before.value.recoveryWrap, after.value.recoveryWrap)).toBe(true);
    const again = await unlockVault(home, 'pw', { kdf: target });
    expect(again.ok && equalBytes(again.value.dataKey, vault.dataKey)).toBe(true);
    // a lower target never downgrades
    await unlockVault(home, 'pw', FAST);
    const still = decodeVaultFile(new Uint8Array(readFileSync(vaultPath(home))));
    expect(still.ok && still.value.header.kdf).toEqual(target);
  });

  it('the default parameters meet the floor the design sets (m >= 64 MiB, t >= 3) and OWASP minimum', () => {
    expect(DEFAULT_KDF.m_kib).toBeGreaterThanOrEqual(64 * 1024);
    expect(DEFAULT_KDF.t).toBeGreaterThanOrEqual(3);
    expect(MIN_KDF.m_kib).toBeGreaterThanOrEqual(19 * 1024);
    expect(MIN_KDF.t).toBeGreaterThanOrEqual(2);
  });

  it('the vault file starts with a magic and holds the user id in the clear but nothing secret', async () => {
    const home = tempHome();
    const { vault } = await createVault(home, 'pw', FAST);
    const bytes = new Uint8Array(readFileSync(vaultPath(home)));
    expect(Buffer.from(bytes).subarray(0, 14).toString()).toBe('CLOISTER-VAULT');
    expect(Buffer.from(bytes).includes(Buffer.from(vault.dataKey))).toBe(false);
    expect(Buffer.from(bytes).includes(Buffer.from(vault.device.signingKey))).toBe(false);
    expect(Buffer.from(bytes).includes(Buffer.from(utf8(vault.userId)))).toBe(true);
  });
});
