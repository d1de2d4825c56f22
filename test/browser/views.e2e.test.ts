// Every view of the web app (and a record's history, where it exists), in Debian's Chromium at desktop
// (1280 px), phone (390 px) and small phone (360 px) widths: nothing overflows sideways, phone tap
// targets are at least 40 px high, axe-core finds no serious or critical accessibility violation, and
// a screenshot of each goes to test/browser/screenshots/<view>-<width>.png (git-ignored) for a person
// to look at. Views found in the header (data-testid="open-…") are visited as they are added, so a new
// view is checked without changing this file.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { RunningRelay } from '../../relay/server.ts';
import { SqliteStore } from '../../relay/store/SqliteStore.ts';
import { integrationTimeouts } from '../timeouts.ts';
import { describeInChromium, launchChromium } from './chromium.ts';
import { buildWebApp, serveWebApp } from './servedApp.ts';

integrationTimeouts();

const root = join(import.meta.dirname, '..', '..');
const SHOTS = join(import.meta.dirname, 'screenshots');
const AXE = readFileSync(join(root, 'node_modules/axe-core/axe.min.js'), 'utf8');
const WIDTHS = [1280, 390, 360];
const SCREENSHOT_WIDTHS = new Set([1280, 390]);
const PASSWORD = 'correct horse battery staple';

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; html: string; failureSummary?: string }[];
}

describeInChromium('every view fits phones and desktops and passes axe-core', () => {
  let dir: string;
  let relay: RunningRelay;
  let context: BrowserContext;
  let page: Page;
  const problems: string[] = [];
  const visited: string[] = [];
  const minor = new Set<string>(); // moderate and minor findings: printed, not failed

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cloister-views-'));
    mkdirSync(SHOTS, { recursive: true });
    const outDir = join(dir, 'web');
    buildWebApp(outDir);
    relay = await serveWebApp(dir, outDir);
    context = await launchChromium(join(dir, 'profile'));
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (e) => console.error('[page error]', e));
  });

  afterAll(async () => {
    await context?.close();
    await relay?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const byId = (id: string) => page.getByTestId(id);

  /** Two animation frames: layout and paint have caught up with the last change. */
  const settle = () => page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));

  /** Checks the current view at every width; problems are collected so every view gets its screenshot. */
  async function check(view: string): Promise<void> {
    visited.push(view);
    for (const width of WIDTHS) {
      await page.setViewportSize({ width, height: 900 });
      await settle();
      const overflow = await page.evaluate(() => {
        const inner = window.innerWidth;
        const wide = [...document.querySelectorAll('body *')]
          .filter((e) => e.getBoundingClientRect().right > inner + 0.5 && getComputedStyle(e).position !== 'fixed')
          .slice(0, 5)
          .map((e) => `${e.tagName.toLowerCase()}${e.getAttribute('data-testid') ? `[data-testid=${e.getAttribute('data-testid')}]` : e.className ? `.${String(e.className).split(' ').join('.')}` : ''} (right edge ${Math.round(e.getBoundingClientRect().right)})`);
        return { scrollWidth: document.documentElement.scrollWidth, innerWidth: inner, wide };
      });
      if (width < 700) {
        // Phones: every control is a tap target at least 40 px high.
        const small = await page.evaluate(() =>
          [...document.querySelectorAll('button, select, input:not([type=checkbox]):not([type=radio]):not([type=hidden])')]
            .filter((e) => e.getClientRects().length > 0 && e.getBoundingClientRect().height < 39.5)
            .slice(0, 5)
            .map((e) => `${e.tagName.toLowerCase()}${e.getAttribute('data-testid') ? `[data-testid=${e.getAttribute('data-testid')}]` : ''} "${(e.textContent ?? '').trim().slice(0, 30)}" ${Math.round(e.getBoundingClientRect().height)}px`),
        );
        if (small.length) problems.push(`${view} @ ${width}px: tap targets under 40 px: ${small.join(', ')}`);
      }
      if (overflow.scrollWidth > overflow.innerWidth) {
        problems.push(`${view} @ ${width}px: page is ${overflow.scrollWidth}px wide for a ${overflow.innerWidth}px window; widest: ${overflow.wide.join(', ')}`);
      }
      if (SCREENSHOT_WIDTHS.has(width)) {
        await page.screenshot({ path: join(SHOTS, `${view}-${width}.png`), fullPage: true });
        // CDP evaluation is not subject to the page's CSP (which rightly refuses inline scripts).
        if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE);
        const violations = await page.evaluate(async () => {
          const axe = (window as unknown as { axe: { run: (ctx: Document, o: object) => Promise<{ violations: AxeViolation[] }> } }).axe;
          const r = await axe.run(document, { resultTypes: ['violations'] });
          return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => ({ target: n.target, html: n.html, failureSummary: n.failureSummary })) }));
        });
        for (const v of violations.filter((x) => x.impact !== 'serious' && x.impact !== 'critical')) minor.add(`${v.impact} ${v.id} (${view}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')})`);
        for (const v of violations.filter((x) => x.impact === 'serious' || x.impact === 'critical')) {
          const where = v.nodes.map((n) => `      ${n.target.join(' ')}: ${n.html.slice(0, 160)}\n        ${(n.failureSummary ?? '').split('\n').join(' ').slice(0, 240)}`).join('\n');
          problems.push(`${view} @ ${width}px: axe ${v.impact} ${v.id} (${v.help})\n${where}`);
        }
      }
    }
    await page.setViewportSize({ width: 1280, height: 900 });
  }

  /** How the view prints (the print stylesheet drops the controls): a screenshot only, to look at. */
  async function printShot(view: string): Promise<void> {
    await page.emulateMedia({ media: 'print' });
    await settle();
    await page.screenshot({ path: join(SHOTS, `${view}-print.png`), fullPage: true });
    await page.emulateMedia({ media: 'screen' });
  }

  /** Every header button that opens a view, by its test id (others add them: team, settings, …). */
  const headerViews = () => page.locator('header [data-testid^="open-"]').evaluateAll((els) => els.filter((e) => !(e as HTMLButtonElement).disabled).map((e) => e.getAttribute('data-testid')!));

  it('vault, recovery key, records, editor, trash, every header view and unlock: no sideways overflow at 1280, 390 and 360 px, 40 px tap targets on phones, no serious or critical axe violation', async () => {
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(relay.httpUrl);
    await byId('password-confirm').waitFor({ timeout: 60_000 });
    await check('vault-create');

    await byId('password').fill(PASSWORD);
    await byId('password-confirm').fill(PASSWORD);
    await check('vault-create-filled'); // with whatever the form says about the password (strength, match)
    await byId('vault-submit').click();
    await byId('recovery-key').waitFor({ timeout: 60_000 });
    await check('recovery-key');
    await printShot('recovery-key');
    await byId('recovery-done').click();
    await byId('empty-list').waitFor({ timeout: 60_000 });
    await check('records-empty');

    // Two records, one with a long unbroken value (a key or token) that must wrap, not widen the page.
    await byId('title').fill('Lighthouse wifi');
    await byId('add-field').click();
    await byId('field-key').last().fill('password');
    await byId('field-value').last().fill('gulls-and-fog-4417');
    await byId('notes').fill('Router is behind the foghorn panel.');
    await byId('save').click();
    await byId('delete').waitFor({ timeout: 60_000 });
    await byId('new-record').click();
    await byId('title').fill('Boathouse door code and the spare key kept in the harbour master’s office');
    await byId('add-field').click();
    await byId('field-key').last().fill('api-token');
    await byId('field-value').last().fill('ck_live_5f2b8c1d9e7a4036b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4');
    await byId('notes').fill('Ask Mira before changing it. '.repeat(6));
    await byId('save').click();
    await byId('delete').waitFor({ timeout: 60_000 });
    await expect.poll(() => byId('record-item').count(), { timeout: 60_000 }).toBe(2);
    await byId('record-item').filter({ hasText: 'Lighthouse wifi' }).click();
    await expect.poll(() => byId('title').inputValue()).toBe('Lighthouse wifi');
    await check('records-editor');
    await printShot('records-editor');

    // The record's history (where the app has one), after a second edit so it holds old and new values.
    if (await byId('open-history').count()) {
      await byId('field-value').first().fill('terns-and-mist-9021');
      await byId('save').click();
      await expect.poll(() => byId('field-value').first().inputValue(), { timeout: 60_000 }).toBe('terns-and-mist-9021');
      await byId('open-history').click();
      await expect.poll(() => byId('history-entry').count(), { timeout: 60_000 }).toBeGreaterThanOrEqual(2);
      await check('record-history');
      await byId('open-history').click();
    }

    // Trash: delete one, look at the trash, go back.
    page.once('dialog', (d) => void d.accept());
    await byId('delete').click();
    await expect.poll(() => byId('record-item').count(), { timeout: 60_000 }).toBe(1);
    await byId('open-trash').click();
    await byId('trash-item').first().waitFor({ timeout: 60_000 });
    await check('trash');
    await byId('open-trash').click();

    // Every view the header opens.
    const opened = await headerViews();
    expect(opened).toContain('open-change-password');
    for (const id of opened) {
      if (id === 'open-records' || id === 'open-trash') continue;
      await page.setViewportSize({ width: 1280, height: 900 }); // every header button shows (phones fold some into the menu)
      await byId(id).click();
      await page.locator('main h2, main [role="dialog"], main form').first().waitFor({ timeout: 60_000 }).catch(() => undefined);
      await check(id.slice('open-'.length));
      if (await byId('open-records').count()) await byId('open-records').click();
    }

    // On a phone the less frequent views fold into the header's menu; opened, it fits as well.
    await page.setViewportSize({ width: 390, height: 900 });
    expect(await byId('open-settings').isVisible()).toBe(false);
    await byId('menu-toggle').click();
    await byId('open-settings').waitFor();
    await check('menu-open');
    await page.setViewportSize({ width: 1280, height: 900 });

    // Locked: unlock, and set a new password with the recovery key.
    await byId('lock').click();
    await byId('vault-submit').waitFor({ timeout: 60_000 });
    await check('unlock');
    await byId('toggle-recover').click();
    await byId('recovery-input').waitFor();
    await check('recover');

    console.log(`views checked: ${visited.join(', ')}; screenshots in ${SHOTS}`);
    if (minor.size) console.log(`axe, moderate or minor (not failed):\n  ${[...minor].join('\n  ')}`);
    expect(problems, `\n${problems.join('\n\n')}\n`).toEqual([]);
  });
});
