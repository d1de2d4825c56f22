// The web app syncing with the command line through a real relay: alice (CLI) creates a team
// workspace, adds a record and invites bob; bob, in Chromium, joins with the invitation code, sees
// alice's record arrive, adds his own, and alice's next `cloister sync` brings it to her terminal;
// when both edit one record at once (even the same notes), each keeps the other's change.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunningRelay } from '../../relay/server.ts';
import { describeInChromium } from './chromium.ts';
import { openServedApp, type ServedApp } from './servedApp.ts';
import { SqliteStore } from '../../relay/store/SqliteStore.ts';
import { CHILD_MS, integrationTimeouts } from '../timeouts.ts';
import { strongPassword } from '../passwords.ts';

integrationTimeouts();

const root = join(import.meta.dirname, '..', '..');
const BIN = join(root, 'bin', 'cloister.js');

describeInChromium('web app sync in Chromium', () => {
  let dir: string;
  let home: string;
  let relay: RunningRelay;
  let served: ServedApp | undefined;
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

  beforeAll(async () => {
    served = await openServedApp('cloister-e2e-sync-');
    ({ dir, relay, context, page } = served);
    home = join(dir, 'alice');
  });

  afterAll(async () => {
    await served?.close();
  });

  const byId = (id: string) => page.getByTestId(id);

  it('bob joins alice\'s workspace from the browser; records flow both ways through the relay', async () => {
    await alice('init');
    await alice('workspace', 'create', 'Lighthouse crew', '--relay', relay.url);
    await alice('record', 'add', '--title', 'Keeper rota', '--field', 'monday=alice', '--notes', 'Swap with bob on storms.');
    const { code } = JSON.parse(await alice('workspace', 'invite', '--role', 'writer', '--json')) as { code: string };
    await alice('sync');

    await page.goto(relay.httpUrl);
    await byId('password').fill(strongPassword('bob'));
    await byId('password-confirm').fill(strongPassword('bob'));
    await byId('vault-submit').click();
    await byId('recovery-done').click({ timeout: 60_000 });
    await byId('empty-list').waitFor({ timeout: 60_000 }); // his personal workspace

    await byId('open-join').click();
    expect(await byId('relay-url').inputValue()).toBe(relay.url.replace(/\/?$/, '/'));
    await byId('invite-code').fill(code);
    await byId('join-submit').click();
    await expect.poll(() => byId('workspace-select').locator('option:checked').textContent(), { timeout: 60_000 }).toBe('Lighthouse crew');
    await expect.poll(() => byId('record-item').allTextContents(), { timeout: 60_000 }).toEqual(['Keeper rota']);
    await byId('record-item').click();
    await expect.poll(() => byId('field-value').inputValue()).toBe('alice');
    expect(await byId('notes').inputValue()).toBe('Swap with bob on storms.');

    await byId('new-record').click();
    await byId('title').fill('Foghorn test');
    await byId('notes').fill('Thursdays at noon.');
    await byId('save').click();
    await byId('delete').waitFor({ timeout: 60_000 });
    await expect.poll(() => byId('sync-status').textContent(), { timeout: 60_000 }).toMatch(/^Online · synced [^·]+$/);

    await expect
      .poll(async () => {
        await alice('sync');
        return (JSON.parse(await alice('record', 'list', '--json')) as { title: string }[]).map((r) => r.title).sort();
      }, { timeout: CHILD_MS, interval: 1000 })
      .toEqual(['Foghorn test', 'Keeper rota']);

    // Both edit the same record at once: bob's form keeps his pending changes and says the record changed
    // elsewhere; saving applies only his edits on top (field, and his part of the notes), so alice's
    // new title and her addition to the notes stay.
    const list = JSON.parse(await alice('record', 'list', '--json')) as { id: string; title: string }[];
    const rota = list.find((r) => r.title === 'Keeper rota')!.id;
    await byId('record-item').filter({ hasText: 'Keeper rota' }).click();
    await expect.poll(() => byId('field-value').inputValue()).toBe('alice');
    await byId('field-value').fill('bob');
    await byId('notes').fill('Note: Swap with bob on storms.');
    await alice('record', 'edit', rota, '--title', 'Keeper rota (winter)', '--notes', 'Swap with bob on storms. Carol covers Fridays.');
    await alice('sync');
    await byId('changed-elsewhere').waitFor({ timeout: 60_000 });
    expect(await byId('field-value').inputValue()).toBe('bob');
    await byId('save').click();
    await expect.poll(() => byId('title').inputValue(), { timeout: 60_000 }).toBe('Keeper rota (winter)');
    await expect
      .poll(async () => {
        await alice('sync');
        const r = JSON.parse(await alice('record', 'show', rota, '--json')) as { title: string; fields: Record<string, string>; notes: string };
        return [r.title, r.fields.monday, r.notes];
      }, { timeout: CHILD_MS, interval: 1000 })
      .toEqual(['Keeper rota (winter)', 'bob', 'Note: Swap with bob on storms. Carol covers Fridays.']);
    expect(await byId('notes').inputValue()).toBe('Note: Swap with bob on storms. Carol covers Fridays.');
  });
});
