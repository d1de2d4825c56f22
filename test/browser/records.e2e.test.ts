// Finding, history, trash and care with work in progress in the web app (issue 12), in Debian's
// Chromium (playwright-core): search finds a record by a field value (case and accents ignored);
// unsaved edits survive switching to another record and back, marked as a draft; a deleted record is
// restored from the trash, which says who deleted it; the history shows old and new values, and
// restoring an earlier value writes it as a new edit. Each of these views is checked at 1280 and 390 px
// (no sideways overflow, 40 px tap targets on a phone, no serious or critical axe-core finding) and photographed into
// test/browser/screenshots/records-<view>-<width>.png (git-ignored). The build is served by a real
// relay, as `npm start` does.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunningRelay } from '../../relay/server.ts';
import { SqliteStore } from '../../relay/store/SqliteStore.ts';
import { integrationTimeouts } from '../timeouts.ts';
import { describeInChromium } from './chromium.ts';
import { openServedApp, type ServedApp, createVaultInPage } from './servedApp.ts';

integrationTimeouts();

const root = join(import.meta.dirname, '..', '..');
const PASSWORD = 'correct horse battery staple';
const LONG = { timeout: 60_000 };
const SHOTS = join(import.meta.dirname, 'screenshots');
const AXE = readFileSync(join(root, 'node_modules/axe-core/axe.min.js'), 'utf8');

describeInChromium('records in the web app: find, drafts, trash, history', () => {
  let dir: string;
  let relay: RunningRelay;
  let served: ServedApp | undefined;
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    served = await openServedApp('cloister-records-e2e-');
    ({ dir, relay, context, page } = served);

    await page.goto(relay.httpUrl);
    await createVaultInPage(page, PASSWORD);
  });

  afterAll(async () => {
    await served?.close();
  });

  const byId = (id: string) => page.getByTestId(id);

  /** At 1280 and 390 px: the page is no wider than the window, axe-core finds nothing serious, and a screenshot is kept. */
  async function lookAt(view: string): Promise<void> {
    mkdirSync(SHOTS, { recursive: true });
    const problems: string[] = [];
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: 900 });
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
      const { scrollWidth, innerWidth } = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
      if (scrollWidth > innerWidth) problems.push(`${view} @ ${width}px: ${scrollWidth}px wide`);
      if (width < 700) {
        // Phones: every control of the records views is a tap target at least 40 px high.
        const small = await page.evaluate(() =>
          [...document.querySelectorAll('.records button, .records select, .records input')]
            .filter((e) => e.getClientRects().length > 0 && e.getBoundingClientRect().height < 39.5)
            .map((e) => `${e.getAttribute('data-testid') ?? e.tagName.toLowerCase()} ${Math.round(e.getBoundingClientRect().height)}px`),
        );
        problems.push(...small.map((s) => `${view} @ ${width}px: small tap target ${s}`));
      }
      await page.screenshot({ path: join(SHOTS, `records-${view}-${width}.png`), fullPage: true });
      if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE);
      const serious = await page.evaluate(async () => {
        const axe = (window as unknown as { axe: { run: (ctx: Element, o: object) => Promise<{ violations: { id: string; impact: string | null; nodes: { target: string[] }[] }[] }> } }).axe;
        const r = await axe.run(document.querySelector('.records') ?? document.body, { resultTypes: ['violations'] });
        return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.impact} ${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
      });
      problems.push(...serious.map((v) => `${view} @ ${width}px: axe ${v}`));
    }
    await page.setViewportSize({ width: 1280, height: 900 });
    expect(problems).toEqual([]);
  }

  const item = (title: string) => byId('record-item').filter({ hasText: new RegExp(`^${title.replace(/[()]/g, '\\$&')}$`) });
  const titles = () => byId('record-item').allTextContents();
  const fieldKeys = () => byId('field-key').evaluateAll((els) => els.map((e) => (e as HTMLInputElement).value));
  /** The value input of the field named `key` in the editor. */
  const fieldValue = async (key: string) => byId('field-value').nth((await fieldKeys()).indexOf(key));

  async function add(title: string, fields: Record<string, string>, more: { notes?: string; tags?: string } = {}) {
    await byId('new-record').click();
    await expect.poll(() => byId('title').inputValue()).toBe('');
    await byId('title').fill(title);
    for (const [k, v] of Object.entries(fields)) {
      await byId('add-field').click();
      await byId('field-key').last().fill(k);
      await byId('field-value').last().fill(v);
    }
    if (more.notes) await byId('notes').fill(more.notes);
    if (more.tags) await byId('tags').fill(more.tags);
    await byId('save').click();
    await byId('delete').waitFor(LONG); // the editor now shows the stored record
    await expect.poll(() => titles(), LONG).toContain(title);
  }

  it('search finds a record by a field value, ignoring case and accents, and the tag filter narrows the list', async () => {
    await add('Anna Kovač', { allergy: 'Pénicilline', room: '12' }, { tags: 'ward 3' });
    await add('Boiler', { room: 'cellar' }, { notes: 'Check the valve every spring.' });
    await add('Émile Durand', { 'blood type': 'O+' }, { tags: 'ward 3, urgent' });
    await expect.poll(() => titles()).toEqual(['Anna Kovač', 'Boiler', 'Émile Durand']);

    await byId('search').fill('PENICILLINE');
    await expect.poll(() => titles()).toEqual(['Anna Kovač']);
    expect(await byId('find-count').textContent()).toBe('1 of 3 records');
    await lookAt('search');
    await byId('search').fill('valve spring');
    await expect.poll(() => titles()).toEqual(['Boiler']);
    await byId('search').fill('emile');
    await expect.poll(() => titles()).toEqual(['Émile Durand']);
    await byId('search').fill('nobody here');
    await byId('no-match').waitFor(LONG);
    await byId('search').fill('');
    await expect.poll(() => titles()).toEqual(['Anna Kovač', 'Boiler', 'Émile Durand']);

    await byId('tag-filter').selectOption('ward 3');
    await expect.poll(() => titles()).toEqual(['Anna Kovač', 'Émile Durand']);
    await byId('tag-filter').selectOption('');
    await byId('sort').selectOption('updated');
    await expect.poll(() => titles()).toEqual(['Émile Durand', 'Boiler', 'Anna Kovač']);
    await byId('sort').selectOption('title');
  });

  it('unsaved edits survive switching to another record or view and back, marked as a draft, until saved or discarded; Lock asks first', async () => {
    await item('Boiler').click();
    await expect.poll(() => byId('title').inputValue()).toBe('Boiler');
    await expect.poll(() => byId('draft-mark').count()).toBe(0);
    await byId('title').fill('Boiler (new)');
    await byId('add-field').click();
    // "Add field" puts the keyboard in the new field's name.
    await expect.poll(() => page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('field-key');
    await page.keyboard.type('zeta');
    await byId('field-value').last().fill('last');
    await byId('add-field').click();
    await expect.poll(() => page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.value)).toBe('');
    await expect.poll(() => byId('field-key').count()).toBe(3);
    await page.keyboard.type('alpha');
    await byId('field-value').last().fill('first');
    // Fields keep the order they were typed in (no re-sorting while editing).
    await expect.poll(() => fieldKeys()).toEqual(['room', 'zeta', 'alpha']);
    await byId('notes').fill('Draft notes, not saved yet.');
    await byId('draft-mark').waitFor(LONG);

    // Away to another record: its own values show; the list marks the draft.
    await item('Anna Kovač').click();
    await expect.poll(() => byId('title').inputValue(), LONG).toBe('Anna Kovač');
    await expect.poll(() => byId('draft-mark').count()).toBe(0);
    await expect.poll(() => byId('draft-badge').count()).toBe(1);

    // Another view (Settings) and back: the draft is still kept.
    await byId('open-settings').click();
    await byId('open-records').click();
    await expect.poll(() => byId('draft-badge').count(), LONG).toBe(1);
    // Lock asks before discarding a draft; declining keeps the app unlocked.
    page.once('dialog', (d) => void d.dismiss());
    await byId('lock').click();
    await expect.poll(() => byId('draft-badge').count()).toBe(1);

    // Back: the draft is there as it was left, marked.
    await item('Boiler').click();
    await expect.poll(() => byId('title').inputValue(), LONG).toBe('Boiler (new)');
    await expect.poll(() => byId('notes').inputValue()).toBe('Draft notes, not saved yet.');
    await expect.poll(() => fieldKeys()).toEqual(['room', 'zeta', 'alpha']);
    expect(await byId('draft-mark').textContent()).toContain('Draft — not saved');
    await lookAt('draft');
    await byId('save').click();
    await expect.poll(() => byId('status').textContent(), LONG).toBe('Saved');
    await expect.poll(() => byId('draft-mark').count()).toBe(0);
    await expect.poll(() => byId('draft-badge').count()).toBe(0);
    await expect.poll(() => titles()).toEqual(['Anna Kovač', 'Boiler (new)', 'Émile Durand']);
    // After the save the fields are still in the form's order.
    await expect.poll(() => fieldKeys()).toEqual(['room', 'zeta', 'alpha']);

    // A draft can be discarded: the stored values come back.
    await item('Anna Kovač').click();
    await expect.poll(() => byId('title').inputValue(), LONG).toBe('Anna Kovač');
    await byId('title').fill('Anna K. (typo)');
    await item('Émile Durand').click();
    await expect.poll(() => byId('title').inputValue(), LONG).toBe('Émile Durand');
    await item('Anna Kovač').click();
    await expect.poll(() => byId('title').inputValue(), LONG).toBe('Anna K. (typo)');
    await byId('discard-draft').click();
    await expect.poll(() => byId('title').inputValue()).toBe('Anna Kovač');
    await expect.poll(() => byId('draft-mark').count()).toBe(0);
  });

  it('a deleted record is listed in the trash with who deleted it, and Restore brings it back', async () => {
    await item('Émile Durand').click();
    await expect.poll(() => byId('title').inputValue(), LONG).toBe('Émile Durand');
    page.once('dialog', (d) => void d.accept());
    await byId('delete').click();
    await expect.poll(() => titles(), LONG).toEqual(['Anna Kovač', 'Boiler (new)']);
    await byId('open-trash').click();
    await expect.poll(() => byId('trash-item').allTextContents(), LONG).toEqual(['Émile Durand']);
    await expect.poll(() => byId('trash-meta').textContent(), LONG).toMatch(/^deleted by you \(\S{6}\), /);
    await lookAt('trash');
    await byId('trash-restore').click();
    await byId('empty-trash').waitFor(LONG);
    await byId('open-trash').click();
    await expect.poll(() => titles(), LONG).toEqual(['Anna Kovač', 'Boiler (new)', 'Émile Durand']);
    await item('Émile Durand').click();
    await expect.poll(() => byId('field-value').inputValue(), LONG).toBe('O+');
  });

  it('the history shows old and new values, and restoring an earlier value writes it as a new edit', async () => {
    await item('Boiler (new)').click();
    await expect.poll(() => byId('title').inputValue(), LONG).toBe('Boiler (new)');
    // Opened afresh, the fields are sorted by name (they keep the form's order only while it is open).
    await expect.poll(() => fieldKeys()).toEqual(['alpha', 'room', 'zeta']);
    await (await fieldValue('room')).fill('attic');
    await byId('save').click();
    await expect.poll(() => byId('status').textContent(), LONG).toBe('Saved');

    await byId('open-history').click();
    const room = page.locator('[data-testid="history-value"][data-path="fields.room"]');
    await expect.poll(() => room.count(), LONG).toBe(2);
    expect(await room.nth(0).getByTestId('new-value').textContent()).toBe('cellar');
    expect(await room.nth(1).getByTestId('old-value').textContent()).toBe('cellar');
    expect(await room.nth(1).getByTestId('new-value').textContent()).toBe('attic');
    const title = page.locator('[data-testid="history-value"][data-path="title"]');
    expect(await title.nth(1).textContent()).toMatch(/Boiler\s*→\s*Boiler \(new\)/);
    expect(await byId('history-unverified').count()).toBe(0);
    expect((await byId('history-author').allTextContents()).every((t) => t.length > 0)).toBe(true);
    const entries = await byId('history-entry').count();
    await lookAt('history');

    // Restore "cellar": a new edit, which the form follows and the history lists as its own change.
    await room.nth(1).getByTestId('restore-value').click();
    await expect.poll(async () => (await fieldValue('room')).inputValue(), LONG).toBe('cellar');
    await expect.poll(() => byId('history-entry').count(), LONG).toBe(entries + 1);
    await expect.poll(() => room.count(), LONG).toBe(3);
    expect(await room.nth(2).getByTestId('old-value').textContent()).toBe('attic');
    expect(await room.nth(2).getByTestId('new-value').textContent()).toBe('cellar');
    await expect.poll(() => byId('history-status').textContent()).toBe('Field "room" restored to cellar');
  });
  it('on a phone, opening a record brings its editor into view, and Back to the list returns to it', async () => {
    await page.setViewportSize({ width: 390, height: 700 });
    try {
      const inView = (id: string) => byId(id).first().evaluate((e) => { const r = e.getBoundingClientRect(); return r.top >= -1 && r.bottom <= window.innerHeight + 1; }); // (sub-pixel layout)
      await page.evaluate(() => window.scrollTo(0, 0));
      await item('Émile Durand').click();
      await expect.poll(() => byId('title').inputValue(), LONG).toBe('Émile Durand');
      await expect.poll(() => inView('back-to-list'), LONG).toBe(true);
      await byId('back-to-list').click();
      await expect.poll(() => page.evaluate(() => document.activeElement?.textContent ?? '')).toContain('Émile Durand');
      await expect.poll(() => page.evaluate(() => { const r = document.activeElement!.getBoundingClientRect(); return r.top >= -1 && r.bottom <= window.innerHeight + 1; })).toBe(true);
    } finally {
      await page.setViewportSize({ width: 1280, height: 900 });
    }
  });
});
