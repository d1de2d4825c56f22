// The web app end to end in Debian's Chromium (playwright-core): alice creates a vault in the browser,
// sees her recovery key once, adds a record, reloads, is told "wrong password" for a wrong one, unlocks,
// edits and deletes the record, later sets a new password with the recovery key (her records stay),
// changes it again, edits from a second tab, and keeps working with the relay stopped (offline copy);
// nothing in IndexedDB holds the record's text in the clear.
// The build is served by a real relay (startRelay, SQLite store), as `npm start` does.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startRelay, type RunningRelay } from '../../relay/server.ts';
import { describeInChromium, launchChromium } from './chromium.ts';
import { buildWebApp, serveWebApp } from './servedApp.ts';
import { SqliteStore } from '../../relay/store/SqliteStore.ts';
import { integrationTimeouts } from '../timeouts.ts';
import { STRONG_PASSWORD, strongPassword } from '../passwords.ts';

integrationTimeouts();

// New passwords must pass the policy (src/identity/vault/passwordPolicy.ts).
const PW2 = strongPassword('alice, later,');
const PW3 = strongPassword('alice, much later,');

const root = join(import.meta.dirname, '..', '..');

describeInChromium('web app in Chromium', () => {
  let dir: string;
  let relay: RunningRelay;
  let context: BrowserContext;
  let page: Page;
  let relayClosed = false;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cloister-e2e-'));
    const outDir = join(dir, 'web');
    buildWebApp(outDir);
    relay = await serveWebApp(dir, outDir);
    context = await launchChromium(join(dir, 'profile'));
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (e) => console.error('[page error]', e));
  });

  afterAll(async () => {
    await context?.close();
    if (!relayClosed) await relay?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const byId = (id: string) => page.getByTestId(id);

  async function unlock(password: string) {
    await byId('password').fill(password);
    await byId('vault-submit').click();
  }

  /** Every key and value in every IndexedDB database of the origin, flattened to bytes (base64). */
  async function rawIndexedDb(): Promise<{ databases: string[]; values: number; blobs: string[] }> {
    return page.evaluate(async () => {
      const enc = new TextEncoder();
      const blobs: Uint8Array[] = [];
      const walk = (v: unknown): void => {
        if (v === null || v === undefined) return;
        if (typeof v === 'string') blobs.push(enc.encode(v));
        else if (v instanceof ArrayBuffer) blobs.push(new Uint8Array(v));
        else if (ArrayBuffer.isView(v)) blobs.push(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
        else if (Array.isArray(v)) v.forEach(walk);
        else if (typeof v === 'object') for (const [k, x] of Object.entries(v)) (blobs.push(enc.encode(k)), walk(x));
        else blobs.push(enc.encode(String(v)));
      };
      const req = <T,>(r: IDBRequest<T>) => new Promise<T>((res, rej) => ((r.onsuccess = () => res(r.result)), (r.onerror = () => rej(r.error))));
      const names = (await indexedDB.databases()).map((d) => d.name!).filter(Boolean);
      let values = 0;
      for (const name of names) {
        const db = await req(indexedDB.open(name));
        for (const store of Array.from(db.objectStoreNames)) {
          const s = db.transaction(store, 'readonly').objectStore(store);
          const [keys, vals] = await Promise.all([req(s.getAllKeys()), req(s.getAll())]);
          walk(keys);
          walk(vals);
          values += vals.length;
        }
        db.close();
      }
      const b64 = (b: Uint8Array) => { let s = ''; for (const x of b) s += String.fromCharCode(x); return btoa(s); };
      return { databases: names, values, blobs: blobs.map(b64) };
    });
  }

  it('alice creates a vault, keeps a record across reloads, edits and deletes it; IndexedDB holds only ciphertext', async () => {
    const password = STRONG_PASSWORD;
    await page.goto(relay.httpUrl);

    // Create: the recovery key is shown once, then the (empty) records open.
    await byId('password').fill(password);
    await byId('password-confirm').fill(password);
    await byId('vault-submit').click();
    const recoveryKey = (await byId('recovery-key').textContent({ timeout: 60_000 }))!.trim();
    expect(recoveryKey.length).toBeGreaterThan(40);
    await byId('recovery-done').click();
    await byId('empty-list').waitFor({ timeout: 60_000 });

    // Add a record with a field and notes.
    await byId('title').fill('Lighthouse wifi');
    await byId('add-field').click();
    await byId('field-key').fill('password');
    await byId('field-value').fill('gulls-and-fog-4417');
    await byId('notes').fill('Router is behind the foghorn panel.');
    await byId('save').click();
    await byId('delete').waitFor({ timeout: 60_000 }); // the editor now shows the stored record
    await expect.poll(() => byId('record-item').allTextContents()).toEqual(['Lighthouse wifi']);

    // Reload: locked again. A wrong password says exactly that; the right one shows the record.
    await page.reload();
    await unlock('not my password');
    expect((await byId('vault-error').textContent({ timeout: 60_000 }))!.trim()).toBe('wrong password');
    await unlock(password);
    await byId('record-item').filter({ hasText: 'Lighthouse wifi' }).click({ timeout: 60_000 });
    await expect.poll(() => byId('title').inputValue()).toBe('Lighthouse wifi');
    expect(await byId('field-key').inputValue()).toBe('password');
    expect(await byId('field-value').inputValue()).toBe('gulls-and-fog-4417');
    expect(await byId('notes').inputValue()).toBe('Router is behind the foghorn panel.');
    expect(await page.content()).not.toContain(recoveryKey); // shown once, never again

    // Edit title, field and notes; the list and the form follow.
    await byId('title').fill('Lighthouse wifi (new router)');
    await byId('field-value').fill('terns-and-mist-9021');
    await byId('notes').fill('New router, same panel.');
    await byId('save').click();
    await expect.poll(() => byId('status').textContent()).toBe('Saved');
    await expect.poll(() => byId('record-item').allTextContents()).toEqual(['Lighthouse wifi (new router)']);

    // Nothing stored in the origin's IndexedDB contains the record's text (old or new) in the clear.
    const raw = await rawIndexedDb();
    expect(raw.databases.length).toBeGreaterThanOrEqual(3); // vault, workspaces, docs (repo + state)
    expect(raw.values).toBeGreaterThan(5);
    const stored = raw.blobs.map((b) => Buffer.from(b, 'base64'));
    expect(stored.reduce((n, b) => n + b.length, 0)).toBeGreaterThan(1000);
    for (const secret of ['Lighthouse', 'gulls-and-fog-4417', 'terns-and-mist-9021', 'foghorn', 'New router, same panel', password]) {
      const needle = Buffer.from(secret, 'utf8');
      expect(stored.filter((b) => b.includes(needle)).length, `plaintext "${secret}" in IndexedDB`).toBe(0);
    }

    // Delete (a tombstone): gone from the list, and still gone after a reload.
    page.once('dialog', (d) => void d.accept());
    await byId('delete').click();
    await byId('empty-list').waitFor({ timeout: 60_000 });
    await expect.poll(() => byId('title').inputValue()).toBe(''); // remove() resolved: a blank new-record form
    await page.reload();
    await unlock(password);
    await byId('empty-list').waitFor({ timeout: 60_000 });

    // Forgot the password: the recovery key shown at creation sets a new one; the records stay.
    await byId('title').fill('Boathouse code');
    await byId('save').click();
    await byId('delete').waitFor({ timeout: 60_000 });
    await page.reload();
    await byId('toggle-recover').click();
    await byId('recovery-input').fill(recoveryKey);
    await byId('password').fill(PW2);
    await byId('password-confirm').fill(PW2);
    await byId('vault-submit').click();
    await expect.poll(() => byId('record-item').allTextContents(), { timeout: 60_000 }).toEqual(['Boathouse code']);
    await page.reload();
    await unlock(password);
    expect((await byId('vault-error').textContent({ timeout: 60_000 }))!.trim()).toBe('wrong password');
    await unlock(PW2);
    await expect.poll(() => byId('record-item').allTextContents(), { timeout: 60_000 }).toEqual(['Boathouse code']);

    // Change the password while unlocked: a wrong current one is refused, then the new one unlocks.
    await byId('open-change-password').click();
    await byId('current-password').fill('not it');
    await byId('new-password').fill(PW3);
    await byId('new-password-confirm').fill(PW3);
    await byId('change-password-submit').click();
    expect((await byId('change-password-error').textContent({ timeout: 60_000 }))!.trim()).toBe('wrong password');
    await byId('current-password').fill(PW2);
    await byId('change-password-submit').click();
    await expect.poll(() => byId('notice').textContent(), { timeout: 60_000 }).toBe('Password changed.');

    // A second tab of the same origin opens the same records beside the first; its edit is there on reload.
    const tab2 = await context.newPage();
    await tab2.goto(relay.httpUrl);
    await tab2.getByTestId('password').fill(PW3);
    await tab2.getByTestId('vault-submit').click();
    await expect.poll(() => tab2.getByTestId('record-item').allTextContents(), { timeout: 60_000 }).toEqual(['Boathouse code']);
    await tab2.getByTestId('new-record').click();
    await tab2.getByTestId('title').fill('From tab two');
    await tab2.getByTestId('save').click();
    await tab2.getByTestId('delete').waitFor({ timeout: 60_000 });
    await tab2.close();
    await page.reload();
    await unlock(PW3);
    await expect.poll(() => byId('record-item').allTextContents(), { timeout: 60_000 }).toEqual(['Boathouse code', 'From tab two']);

    // The relay stops (no server at all): the app still opens from its offline copy and the records are there.
    await expect
      .poll(() => page.evaluate(async () => {
        const names = await caches.keys();
        let n = 0;
        for (const name of names) n += (await (await caches.open(name)).keys()).filter((r) => /\/assets\/.*\.(js|wasm)$/.test(r.url)).length;
        return n;
      }), { timeout: 60_000 })
      .toBeGreaterThanOrEqual(2);
    await relay.close();
    relayClosed = true;
    await page.reload();
    await unlock(PW3);
    await expect.poll(() => byId('record-item').allTextContents(), { timeout: 60_000 }).toEqual(['Boathouse code', 'From tab two']);
    await byId('record-item').filter({ hasText: 'Boathouse code' }).click();
    await byId('notes').fill('Written with the relay down.');
    await byId('save').click();
    await expect.poll(() => byId('status').textContent(), { timeout: 60_000 }).toBe('Saved');
  });
});
