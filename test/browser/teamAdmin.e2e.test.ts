// A clinic team run from the browser: Alice creates a team workspace in Chromium under her name,
// invites two people from the Team view; Bea joins in a second Chromium profile, Carl joins with the
// CLI, and all three add records that reach the others, each shown under their display name. Alice
// then removes Carl in the Team view: his next edit is refused by the relay (not_member) and never
// reaches Alice or Bea. Bea renames herself and Alice makes her an admin, from the Team view.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunningRelay } from '../../relay/server.ts';
import { SqliteStore } from '../../relay/store/SqliteStore.ts';
import { CHILD_MS, integrationTimeouts } from '../timeouts.ts';
import { describeInChromium, launchChromium } from './chromium.ts';
import { buildWebApp, createVaultInPage, serveWebApp } from './servedApp.ts';

integrationTimeouts();

const root = join(import.meta.dirname, '..', '..');
const BIN = join(root, 'bin', 'cloister.js');
const PW = 'correct horse battery staple';
const LONG = { timeout: 60_000 };

describeInChromium('team administration in the browser', () => {
  let dir: string;
  let relay: RunningRelay;
  const contexts: BrowserContext[] = [];

  // Asynchronous on purpose: the relay runs in this process, so a blocking spawn would starve it.
  const carl = async (...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> => {
    const child = promisify(execFile)(process.execPath, [BIN, ...args, '--home', join(dir, 'carl'), '--password-stdin'], {
      encoding: 'utf8', timeout: CHILD_MS, env: { ...process.env, CLOISTER_HOME: undefined, CLOISTER_KDF: 'min' },
    });
    child.child.stdin!.end(`${PW}\n`);
    try {
      const r = await child;
      return { stdout: r.stdout, stderr: r.stderr, code: 0 };
    } catch (e) {
      const x = e as { stdout?: string; stderr?: string; code?: number };
      return { stdout: x.stdout ?? '', stderr: x.stderr ?? String(e), code: typeof x.code === 'number' ? x.code : 1 };
    }
  };
  const carlOk = async (...args: string[]): Promise<string> => {
    const r = await carl(...args);
    if (r.code !== 0) throw new Error(`cloister ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cloister-e2e-team-'));
    const outDir = join(dir, 'web');
    buildWebApp(outDir);
    relay = await serveWebApp(dir, outDir);
  });

  afterAll(async () => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await relay?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function browser(name: string): Promise<Page> {
    const context = await launchChromium(join(dir, `profile-${name}`));
    contexts.push(context);
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (e) => console.error(`[${name} page error]`, e));
    await page.goto(relay.httpUrl);
    await createVaultInPage(page, PW); // to the personal workspace's empty list
    return page;
  }

  const titles = (page: Page) => page.getByTestId('record-item').allTextContents().then((t) => t.map((x) => x.trim()).sort());

  async function addRecord(page: Page, title: string, field: [string, string]) {
    await page.getByTestId('open-records').click();
    await page.getByTestId('new-record').click();
    await page.getByTestId('title').fill(title);
    await page.getByTestId('add-field').click();
    await page.getByTestId('field-key').last().fill(field[0]);
    await page.getByTestId('field-value').last().fill(field[1]);
    await page.getByTestId('save').click();
    await page.getByTestId('delete').waitFor(LONG);
  }

  async function invite(page: Page, role: 'writer' | 'reader' | 'admin'): Promise<string> {
    const output = page.getByTestId('invite-code-output');
    const before = (await output.count()) ? await output.inputValue() : '';
    await page.getByTestId('invite-role').selectOption(role);
    await page.getByTestId('invite-submit').click();
    await expect.poll(() => output.inputValue(), LONG).not.toBe(before);
    const code = await output.inputValue();
    expect(code).toMatch(/\./);
    return code;
  }

  it('alice creates the workspace and invites; bea joins in the browser and carl in the CLI; all three edit; carl, removed, is refused', async () => {
    // Alice: a team workspace created in the browser, under her name.
    const alice = await browser('alice');
    await alice.getByTestId('open-create-workspace').click();
    await alice.getByTestId('workspace-name-input').fill('Ward 7');
    await alice.getByTestId('display-name-input').fill('Alice Admin');
    expect(await alice.getByTestId('create-relay-url').inputValue()).toBe(relay.url.replace(/\/?$/, '/'));
    await alice.getByTestId('create-workspace-submit').click();
    await alice.getByTestId('team-view').waitFor(LONG);
    await expect.poll(() => alice.getByTestId('workspace-select').locator('option:checked').textContent(), LONG).toBe('Ward 7');
    await expect.poll(() => alice.getByTestId('me').textContent(), LONG).toBe('Alice Admin');

    const beaCode = await invite(alice, 'writer');
    const carlCode = await invite(alice, 'writer');
    // Both invitations reach the relay with the workspace (nothing left waiting).
    await expect.poll(() => alice.getByTestId('pending-change').count(), LONG).toBe(0);
    await expect.poll(() => alice.getByTestId('sync-status').textContent(), LONG).not.toMatch(/waiting to be sent/);

    // Bea joins in her own browser, under her name.
    const bea = await browser('bea');
    await bea.getByTestId('open-join').click();
    await bea.getByTestId('invite-code').fill(beaCode);
    await bea.getByTestId('join-display-name').fill('Bea Browser');
    await bea.getByTestId('join-submit').click();
    await expect.poll(() => bea.getByTestId('workspace-select').locator('option:checked').textContent(), LONG).toBe('Ward 7');

    // Carl joins with the CLI.
    await carlOk('init');
    await carlOk('workspace', 'join', carlCode, '--relay', relay.url, '--display-name', 'Carl Cli');

    // All three edit.
    await addRecord(alice, 'Bed 1', ['dose', '5mg']);
    await addRecord(bea, 'Bed 2', ['dose', '10mg']);
    await carlOk('record', 'add', '--title', 'Bed 3', '--field', 'dose=15mg');
    await carlOk('sync');

    for (const page of [alice, bea]) {
      await page.getByTestId('open-records').click();
      await expect.poll(() => titles(page), { timeout: 90_000 }).toEqual(['Bed 1', 'Bed 2', 'Bed 3']);
    }
    await expect
      .poll(async () => {
        await carlOk('sync');
        return (JSON.parse(await carlOk('record', 'list', '--json')) as { title: string }[]).map((r) => r.title).sort();
      }, { timeout: 90_000, interval: 1000 })
      .toEqual(['Bed 1', 'Bed 2', 'Bed 3']);

    // The Team view lists everyone by name, with roles.
    await alice.getByTestId('open-team').click();
    await expect.poll(() => alice.getByTestId('member-name').allTextContents(), LONG).toEqual(['Alice Admin (you)', 'Bea Browser', 'Carl Cli']);
    await bea.getByTestId('open-team').click();
    await expect.poll(() => bea.getByTestId('member-name').allTextContents(), LONG).toEqual(['Alice Admin', 'Bea Browser (you)', 'Carl Cli']);
    expect(await bea.getByTestId('invite-form').count()).toBe(0); // a writer can't invite
    expect(await bea.getByTestId('remove-member').count()).toBe(0);

    // Alice removes Carl: the change reaches the relay and the workspace key rotates.
    const carlRow = alice.getByTestId('member').filter({ hasText: 'Carl Cli' });
    await carlRow.getByTestId('remove-member').click();
    await carlRow.getByTestId('confirm-remove').click();
    await expect.poll(() => alice.getByTestId('member-name').allTextContents(), LONG).toEqual(['Alice Admin (you)', 'Bea Browser']);
    await expect.poll(() => alice.getByTestId('pending-change').count(), LONG).toBe(0);
    await expect.poll(() => bea.getByTestId('member-name').allTextContents(), { timeout: 90_000 }).toEqual(['Alice Admin', 'Bea Browser (you)']);

    // Carl's next edit is refused by the relay and reaches no one.
    await carlOk('record', 'add', '--title', 'After removal', '--field', 'dose=99mg');
    const refused = await carl('sync', '--json');
    expect(refused.stdout, `carl's sync printed no summary (exit ${refused.code}): ${refused.stderr}`).not.toBe('');
    const summary = JSON.parse(refused.stdout) as { access: string; rejected: Record<string, number> };
    expect(summary.access).toBe('not_member');
    expect(Object.keys(summary.rejected)).toEqual(['not_a_member']); // the record and the index entry naming it
    expect(summary.rejected.not_a_member).toBeGreaterThanOrEqual(1);
    await addRecord(alice, 'Bed 4', ['dose', '20mg']);
    await bea.getByTestId('open-records').click();
    await expect.poll(() => titles(bea), { timeout: 90_000 }).toEqual(['Bed 1', 'Bed 2', 'Bed 3', 'Bed 4']);
    expect(await titles(alice)).not.toContain('After removal');

    // Bea renames herself in the Team view, and alice makes her an admin: each sees the other's change.
    await bea.getByTestId('open-team').click();
    await bea.getByTestId('my-name').fill('Bea B. Browser');
    await bea.getByTestId('save-my-name').click();
    await alice.getByTestId('open-team').click();
    await expect.poll(() => alice.getByTestId('member-name').allTextContents(), { timeout: 90_000 }).toEqual(['Alice Admin (you)', 'Bea B. Browser']);
    await alice.getByTestId('member').filter({ hasText: 'Bea B. Browser' }).getByTestId('member-role').selectOption('admin');
    await bea.getByTestId('invite-form').waitFor({ timeout: 90_000 }); // an admin now: she may invite
  });
});
