// The browser vault (IndexedDB via fake-indexeddb): alice creates, unlocks, changes her password and
// recovers, exactly as on disk; eve's wrong guesses say only "wrong password"; and the stored bytes
// are the Node vault format byte for byte (the Node unlock opens them).
import { IDBFactory } from 'fake-indexeddb';
import { writeFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { MIN_KDF } from '../../../src/crypto/argon2.ts';
import { equalBytes } from '../../../src/crypto/bytes.ts';
import {
  BROWSER_VAULT_KEY, browserVaultExists, changeBrowserPassword, createBrowserVault, recoverBrowserVault, unlockBrowserVault,
} from '../../../src/identity/vault/browserVault.ts';
import { idbBytesStore } from '../../../src/identity/vault/idbBytes.ts';
import { unlockVault } from '../../../src/identity/vault/unlockVault.ts';
import { decodeVaultFile } from '../../../src/identity/vault/vaultFile.ts';
import { vaultPath } from '../../../src/identity/vault/store.ts';
import { FAST, removeTempHomes, tempHome } from './helpers.ts';

afterAll(removeTempHomes);

const freshStore = () => idbBytesStore('cloister-vault', new IDBFactory());

describe('browser vault', () => {
  it('alice creates a vault in IndexedDB, unlocks it after a "reload", and eve\'s guess is only "wrong password"', async () => {
    const idb = new IDBFactory();
    const store = idbBytesStore('cloister-vault', idb);
    expect(await browserVaultExists(store)).toBe(false);
    const created = await createBrowserVault(store, 'correct horse', FAST);
    if (!created.ok) throw new Error(created.reason);
    expect(created.value.recoveryKey).toMatch(/^([0-9A-HJKMNP-TV-Z]{4}-){13}[0-9A-HJKMNP-TV-Z]{4}$/);
    expect(await createBrowserVault(store, 'again', FAST)).toMatchObject({ ok: false, reason: 'vault_exists' });

    const reopened = idbBytesStore('cloister-vault', idb); // a new page: a new connection to the same database
    const opened = await unlockBrowserVault(reopened, 'correct horse', FAST);
    if (!opened.ok) throw new Error(opened.reason);
    expect(equalBytes(opened.value.dataKey, created.value.vault.dataKey)).toBe(true);
    expect(opened.value.device.deviceId).toBe(created.value.vault.device.deviceId);
    expect(await unlockBrowserVault(reopened, 'correct hors', FAST)).toEqual({ ok: false, reason: 'wrong_password' });
    expect(await unlockBrowserVault(reopened, '', FAST)).toEqual({ ok: false, reason: 'wrong_password' });
    expect(await unlockBrowserVault(freshStore(), 'correct horse', FAST)).toMatchObject({ ok: false, reason: 'vault_missing' });
  });

  it('the stored bytes are the vault file format: the Node unlock opens a copy with the same keys', async () => {
    const store = freshStore();
    const created = await createBrowserVault(store, 'pw', FAST);
    if (!created.ok) throw new Error(created.reason);
    const bytes = (await store.get(BROWSER_VAULT_KEY))!;
    expect(decodeVaultFile(bytes).ok).toBe(true);
    const home = tempHome();
    writeFileSync(vaultPath(home), bytes);
    const node = await unlockVault(home, 'pw', FAST);
    if (!node.ok) throw new Error(node.reason);
    expect(equalBytes(node.value.dataKey, created.value.vault.dataKey)).toBe(true);
  });

  it('alice changes her password, forgets it, and recovers with the recovery key; a wrong key is refused', async () => {
    const store = freshStore();
    const created = await createBrowserVault(store, 'first', FAST);
    if (!created.ok) throw new Error(created.reason);
    expect(await changeBrowserPassword(store, 'nope', 'second', FAST)).toEqual({ ok: false, reason: 'wrong_password' });
    expect((await changeBrowserPassword(store, 'first', 'second', FAST)).ok).toBe(true);
    expect(await unlockBrowserVault(store, 'first', FAST)).toEqual({ ok: false, reason: 'wrong_password' });
    expect((await unlockBrowserVault(store, 'second', FAST)).ok).toBe(true);

    const other = await createBrowserVault(freshStore(), 'x', FAST);
    if (!other.ok) throw new Error(other.reason);
    expect(await recoverBrowserVault(store, other.value.recoveryKey, 'third', FAST)).toEqual({ ok: false, reason: 'wrong_recovery_key' });
    expect(await recoverBrowserVault(store, 'not-a-key', 'third', FAST)).toMatchObject({ ok: false, reason: 'recovery_key_malformed' });
    const recovered = await recoverBrowserVault(store, created.value.recoveryKey.toLowerCase(), 'third', FAST);
    if (!recovered.ok) throw new Error(recovered.reason);
    expect(equalBytes(recovered.value.dataKey, created.value.vault.dataKey)).toBe(true);
    expect(await unlockBrowserVault(store, 'second', FAST)).toEqual({ ok: false, reason: 'wrong_password' });
    expect((await unlockBrowserVault(store, 'third', FAST)).ok).toBe(true);
    expect((await recoverBrowserVault(store, created.value.recoveryKey, 'fourth', FAST)).ok).toBe(true); // the key stays valid
  });

  it('a vault wrapped under weaker Argon2id parameters is re-wrapped under the target at unlock', async () => {
    const store = freshStore();
    await createBrowserVault(store, 'pw', { kdf: MIN_KDF });
    const target = { ...MIN_KDF, m_kib: MIN_KDF.m_kib + 1024, t: MIN_KDF.t + 1 };
    const opened = await unlockBrowserVault(store, 'pw', { kdf: target });
    if (!opened.ok) throw new Error(opened.reason);
    expect(opened.value.kdf).toMatchObject({ m_kib: target.m_kib, t: target.t });
    const stored = decodeVaultFile((await store.get(BROWSER_VAULT_KEY))!);
    expect(stored.ok && stored.value.header.kdf).toMatchObject({ m_kib: target.m_kib, t: target.t });
    expect((await unlockBrowserVault(store, 'pw', { kdf: target })).ok).toBe(true);
  });
});
