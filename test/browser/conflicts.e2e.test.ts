// Two people edit one record offline, in Chromium and on the command line, through a real relay
// (DESIGN → Documents, normative). Alice (CLI) and Bob (web app) both set the dose while apart: after
// reconnecting each sees one value and a conflict marker with the other value, and Bob settles it with
// one click. Then Bob types notes while Alice saves hers: both texts are kept. Then Alice deletes the
// record while Bob has it open: his app says so, and he restores it.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunningRelay } from '../../relay/server.ts';
import { cableToRelay, type Cable } from './cableToRelay.ts';
import { describeInChromium, launchChromium } from './chromium.ts';
import { buildWebApp, serveWebApp } from './servedApp.ts';
import { SqliteStore } from '../../relay/store/SqliteStore.ts';
import { CHILD_MS, integrationTimeouts } from '../timeouts.ts';
import { strongPassword } from '../passwords.ts';

integrationTimeouts();

const root = join(import.meta.dirname, '..', '..');
const BIN = join(root, 'bin', 'cloister.js');

interface Shown {
  title: string;
  fields: Record<string, string>;
  notes: string;
  deleted: boolean;
  conflicts: Record<string, string[]>;
  createdBy?: { userId: string };
}

describeInChromium('conflicts, merged notes and deletes between the web app and the CLI', () => {
  let dir: string;
  let home: string;
  let relay: RunningRelay;
  let cable: Cable;
  let context: BrowserContext;
  let page: Page;
  const PW = strongPassword('alice');

  // Asynchronous on purpose: the relay runs in this process, so a blocking spawn would starve it.
  const alice = async (...args: string[]): Promise<string> => {
    const child = promisify(execFile)(process.execPath, [BIN, ...args, '--home', home, '--password-stdin'], {
      encoding: 'utf8', timeout: CHILD_MS, env: { ...process.env, CLOISTER_HOME: undefined, CLOISTER_KDF: 'min' },
    });
    child.child.stdin!.end(`${PW}\n`);
    try {
      return (await child).stdout;
    } catch (e) {
      throw new Error(`cloister ${args.join(' ')} failed: ${(e as { stderr?: string }).stderr ?? String(e)}`);
    }
  };
  const show = async (id: string): Promise<Shown> => JSON.parse(await alice('record', 'show', id, '--json')) as Shown;
  /** Alice syncs until `f` of what she sees equals `want`. */
  const aliceSees = async <T,>(id: string, f: (r: Shown) => T, want: T) =>
    expect
      .poll(async () => {
        await alice('sync');
        return f(await show(id));
      }, { timeout: CHILD_MS, interval: 1000 })
      .toEqual(want);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cloister-e2e-conflicts-'));
    home = join(dir, 'alice');
    const outDir = join(dir, 'web');
    buildWebApp(outDir);
    relay = await serveWebApp(dir, outDir);
    cable = await cableToRelay(relay.port); // both reach the relay through it, so the test can cut them off
    context = await launchChromium(join(dir, 'profile'));
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (e) => console.error('[page error]', e));
  });

  afterAll(async () => {
    await context?.close();
    await cable?.close();
    await relay?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const byId = (id: string) => page.getByTestId(id);
  const synced = () => expect.poll(() => byId('sync-status').textContent(), { timeout: 60_000 }).toMatch(/^Online · synced [^·]+$/);

  it('both set the dose offline: one value and a visible conflict everywhere, settled with one click; both notes kept; a delete elsewhere is announced and undone', async () => {
    await alice('init');
    await alice('workspace', 'create', 'Ward 3', '--relay', cable.url);
    await alice('record', 'add', '--title', 'Patient 7', '--field', 'dose=2mg');
    const { code } = JSON.parse(await alice('workspace', 'invite', '--role', 'writer', '--json')) as { code: string };
    await alice('sync');
    const id = (JSON.parse(await alice('record', 'list', '--json')) as { id: string }[])[0]!.id;
    const aliceUser = (await show(id)).createdBy?.userId;
    expect(aliceUser).toBeTruthy();

    // Bob joins in the browser and opens the record.
    await page.goto(cable.httpUrl);
    await byId('password').fill(strongPassword('bob'));
    await byId('password-confirm').fill(strongPassword('bob'));
    await byId('vault-submit').click();
    await byId('recovery-done').click({ timeout: 60_000 });
    await byId('empty-list').waitFor({ timeout: 60_000 });
    await byId('open-join').click();
    await byId('invite-code').fill(code);
    await byId('join-submit').click();
    await expect.poll(() => byId('record-item').allTextContents(), { timeout: 120_000 }).toEqual(['Patient 7']);
    await byId('record-item').click();
    await expect.poll(() => byId('field-value').inputValue()).toBe('2mg');
    await expect.poll(() => byId('attribution').textContent()).toBe(`Created by ${aliceUser} · last changed by ${aliceUser}`);

    // Apart (the relay is out of reach for both): Bob sets 10mg, Alice sets 5mg.
    cable.unplug();
    await expect.poll(() => byId('sync-status').textContent(), { timeout: 60_000 }).toMatch(/Offline/);
    await byId('field-value').fill('10mg');
    await byId('save').click();
    await expect.poll(() => byId('status').textContent(), { timeout: 60_000 }).toBe('Saved');
    await alice('record', 'edit', id, '--field', 'dose=5mg');
    await expect(alice('sync')).rejects.toThrow();

    // Together again: one value shows on both sides, the other is a conflict (never "105mg").
    cable.plug();
    await alice('sync');
    await byId('conflict-fields.dose').waitFor({ timeout: 120_000 });
    await synced();
    const shownToBob = await byId('field-value').inputValue();
    expect(['5mg', '10mg']).toContain(shownToBob);
    const other = shownToBob === '5mg' ? '10mg' : '5mg';
    expect(await byId('conflict-fields.dose').getByTestId('conflict-choice').allTextContents()).toEqual([shownToBob, other]);
    expect(await byId('field-value').getAttribute('aria-invalid')).toBe('true');
    await expect.poll(() => byId('conflict-badge').count()).toBe(1);
    await aliceSees(id, (r) => [r.fields.dose, r.conflicts], [shownToBob, { 'fields.dose': [other] }]);

    // Bob keeps 5mg with one click; the conflict is gone for both.
    await byId('conflict-fields.dose').getByTestId('conflict-choice').filter({ hasText: /^5mg$/ }).click();
    await expect.poll(() => byId('conflict-fields.dose').count(), { timeout: 60_000 }).toBe(0);
    await expect.poll(() => byId('field-value').inputValue()).toBe('5mg');
    await expect.poll(() => byId('conflict-badge').count()).toBe(0);
    await synced();
    await aliceSees(id, (r) => [r.fields.dose, r.conflicts], ['5mg', {}]);
    // Bob's own change is his ("you", as he has no display name here), with his id's first characters.
    await expect.poll(() => byId('attribution').textContent()).toMatch(new RegExp(`^Created by ${aliceUser} · last changed by you \\((?!${aliceUser!.slice(0, 6)})\\S{6}\\)$`));

    // Notes: both start from empty notes. Bob types without saving; Alice saves hers; Bob saves: both kept.
    expect(await byId('notes').inputValue()).toBe('');
    await byId('notes').fill('Call back at 5.');
    await alice('record', 'edit', id, '--notes', 'Pharmacy confirmed.');
    await alice('sync');
    await byId('changed-elsewhere').waitFor({ timeout: 60_000 });
    expect(await byId('notes').inputValue()).toBe('Call back at 5.');
    await byId('save').click();
    await expect.poll(() => byId('status').textContent(), { timeout: 60_000 }).toBe('Saved');
    const merged = await byId('notes').inputValue();
    expect(merged).toContain('Call back at 5.');
    expect(merged).toContain('Pharmacy confirmed.');
    expect(merged.length).toBe('Call back at 5.Pharmacy confirmed.'.length);
    await synced();
    await aliceSees(id, (r) => r.notes, merged);

    // Alice deletes the record while Bob is typing in it: his app says so, he brings it back and saves.
    await byId('notes').fill(`${merged}\nBring the chart.`);
    await alice('record', 'rm', id);
    await alice('sync');
    await byId('deleted-elsewhere').waitFor({ timeout: 60_000 });
    await expect.poll(() => byId('deleted-notice').textContent(), { timeout: 60_000 }).toMatch(new RegExp(`^${aliceUser} deleted "Patient 7"\\. Edits made to it meanwhile are kept inside it\\.`));
    await expect.poll(() => byId('deleted-elsewhere').textContent()).toMatch(new RegExp(`^${aliceUser} deleted this record while it was open here\\.`));
    await expect.poll(() => byId('empty-list').count()).toBe(1);
    await byId('open-trash').click();
    expect(await byId('trash-item').allTextContents()).toEqual(['Patient 7']);
    expect(await byId('deleted-elsewhere').textContent()).toContain('Your unsaved changes are still in the form');
    expect(await byId('save').isDisabled()).toBe(true);
    await byId('restore').click();
    await expect.poll(() => byId('deleted-elsewhere').count(), { timeout: 60_000 }).toBe(0);
    expect(await byId('notes').inputValue()).toBe(`${merged}\nBring the chart.`);
    await byId('save').click();
    await expect.poll(() => byId('status').textContent(), { timeout: 60_000 }).toBe('Saved');
    await expect.poll(() => byId('deleted-notice').count()).toBe(0);
    await expect.poll(() => byId('empty-trash').count()).toBe(1);
    await byId('open-trash').click();
    await expect.poll(() => byId('record-item').allTextContents()).toEqual(['Patient 7']);
    await synced();
    await aliceSees(id, (r) => [r.deleted, r.fields.dose, r.notes], [false, '5mg', `${merged}\nBring the chart.`]);
  });
});
