// Locking in Debian's Chromium (playwright-core): alice's weak new password is refused with the meter
// saying why (creating the vault and changing its password); her recovery key is copied, downloaded and printed, and wraps only between groups on a
// narrow screen; after unlock the keyboard focus is in the main content; and the app locks itself
// after the idle time set in Settings, unless she is active in another tab of the app.
// The build is served by a real relay (startRelay, SQLite store), as `npm start` does.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startRelay, type RunningRelay } from '../../relay/server.ts';
import { SqliteStore } from '../../relay/store/SqliteStore.ts';
import { IDLE_LOCK_KEY } from '../../src/app/useIdleLock.ts';
import { STRONG_PASSWORD } from '../passwords.ts';
import { integrationTimeouts } from '../timeouts.ts';
import { describeInChromium } from './chromium.ts';
import { openServedApp, type ServedApp } from './servedApp.ts';

integrationTimeouts();

const root = join(import.meta.dirname, '..', '..');
const SHOTS = join(import.meta.dirname, 'screenshots'); // git-ignored; for a person to look at
const RECOVERY = /^([0-9A-HJKMNP-TV-Z]{4}-){13}[0-9A-HJKMNP-TV-Z]{4}$/;

describeInChromium('locking the web app in Chromium', () => {
  let dir: string;
  let relay: RunningRelay;
  let served: ServedApp | undefined;
  let context: BrowserContext;
  let page: Page;
  let recoveryKey = '';

  beforeAll(async () => {
    served = await openServedApp('cloister-e2e-vault-');
    ({ dir, relay, context, page } = served);
  });

  afterAll(async () => {
    await served?.close();
  });

  const byId = (id: string) => page.getByTestId(id);
  const focusedTestId = (p: Page = page) => p.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.testid ?? document.activeElement?.tagName);
  const focusIsInMain = (p: Page = page) => p.evaluate(() => document.activeElement !== document.body && document.activeElement?.closest('main') !== null);

  async function unlock(p: Page, password: string) {
    await p.getByTestId('password').fill(password);
    await p.getByTestId('vault-submit').click();
  }

  it('a weak new password is refused, with the meter showing why; a strong one creates the vault', async () => {
    await page.goto(relay.httpUrl);
    await byId('password').waitFor({ timeout: 60_000 });
    expect(await focusedTestId()).toBe('password'); // the form's password input has the focus

    await byId('password').fill('password123');
    await byId('password-confirm').fill('password123');
    const meter = byId('strength-meter');
    await meter.waitFor({ timeout: 60_000 }); // the estimator is a lazily loaded chunk
    expect(await byId('password-strength').getAttribute('data-ok')).toBe('false');
    expect(Number(await meter.getAttribute('value'))).toBeLessThan(4);
    expect(await meter.getAttribute('aria-valuetext')).toMatch(/too easy to guess/);
    expect(await byId('strength-advice').textContent()).toMatch(/common/i);
    await byId('vault-submit').click();
    expect((await byId('vault-error').textContent({ timeout: 60_000 }))!).toMatch(/too easy to guess/);
    expect(await byId('recovery-key').count()).toBe(0);
    mkdirSync(SHOTS, { recursive: true });
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: 800 });
      await page.screenshot({ path: join(SHOTS, `vault-weak-password-${width}.png`), fullPage: true });
    }
    await page.setViewportSize({ width: 1280, height: 800 });

    await byId('password').fill('Xq7#vR2!p');
    await expect.poll(() => byId('strength-verdict').textContent()).toMatch(/at least 10 characters/);

    await byId('password').fill(STRONG_PASSWORD);
    await byId('password-confirm').fill(STRONG_PASSWORD);
    await expect.poll(() => byId('password-strength').getAttribute('data-ok')).toBe('true');
    expect(await meter.getAttribute('aria-valuetext')).toMatch(/strong/);
    await byId('vault-submit').click();
    recoveryKey = (await byId('recovery-key').textContent({ timeout: 60_000 }))!;
    expect(recoveryKey).toMatch(RECOVERY); // the same text as before the grouping: tests paste it back
  });

  it('the recovery key is copied and downloaded whole, prints alone, and wraps only between groups', async () => {
    expect(await focusedTestId()).toBe('recovery-copy'); // after create, the focus is on Copy

    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: relay.httpUrl });
    await byId('recovery-copy').click();
    await expect.poll(() => byId('recovery-status').textContent()).toMatch(/Copied/);
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(recoveryKey);

    const [download] = await Promise.all([page.waitForEvent('download'), byId('recovery-download').click()]);
    expect(download.suggestedFilename()).toBe('cloister-recovery-key.txt');
    expect(readFileSync((await download.path())!, 'utf8')).toContain(recoveryKey);

    // On a narrow phone the key takes several lines, and every group stays on one line.
    await page.setViewportSize({ width: 320, height: 700 });
    const layout = await page.evaluate(() =>
      [...document.querySelectorAll<HTMLElement>('[data-testid="recovery-group"]')].map((g) => ({ text: g.textContent, rects: g.getClientRects().length, top: Math.round(g.getBoundingClientRect().top) })),
    );
    expect(layout).toHaveLength(14);
    expect(layout.filter((g) => g.rects !== 1)).toEqual([]);
    expect(new Set(layout.map((g) => g.top)).size).toBeGreaterThan(1);
    expect(layout.map((g) => g.text).join('')).toBe(recoveryKey);
    await page.setViewportSize({ width: 1280, height: 800 });

    // Print shows the key sheet alone: the app's header and the buttons are hidden.
    await page.emulateMedia({ media: 'print' });
    const printed = await page.evaluate(() => ({
      heading: getComputedStyle(document.querySelector('header h1')!).visibility,
      key: getComputedStyle(document.querySelector('[data-testid="recovery-key"]')!).visibility,
      copy: getComputedStyle(document.querySelector('[data-testid="recovery-copy"]')!).display,
    }));
    await page.emulateMedia({ media: 'screen' });
    expect(printed).toEqual({ heading: 'hidden', key: 'visible', copy: 'none' });
  });

  it('after unlock the keyboard focus is in the main content, not on the page body', async () => {
    await byId('recovery-done').click();
    await byId('empty-list').waitFor({ timeout: 60_000 });
    await expect.poll(() => focusIsInMain(), { timeout: 10_000 }).toBe(true);

    await byId('lock').click();
    await byId('password').waitFor({ timeout: 60_000 });
    await unlock(page, STRONG_PASSWORD);
    await byId('empty-list').waitFor({ timeout: 60_000 });
    await expect.poll(() => focusIsInMain(), { timeout: 10_000 }).toBe(true);
  });

  it('changing the password refuses a weak new one too, with the meter showing why, and changes nothing', async () => {
    await byId('open-change-password').click();
    await byId('current-password').fill(STRONG_PASSWORD);
    await byId('new-password').fill('hunter2hunter2');
    await byId('new-password-confirm').fill('hunter2hunter2');
    await expect.poll(() => byId('password-strength').getAttribute('data-ok'), { timeout: 60_000 }).toBe('false');
    await byId('change-password-submit').click();
    expect((await byId('change-password-error').textContent({ timeout: 60_000 }))!).toMatch(/too easy to guess/);
    await page.getByRole('button', { name: 'Cancel' }).click();
    await byId('lock').click();
    await unlock(page, STRONG_PASSWORD); // the old password still opens it
    await byId('empty-list').waitFor({ timeout: 60_000 });
  });

  it('Settings sets the idle time for every tab; the app locks itself after it, unless she is busy in another tab', async () => {
    await byId('open-settings').click();
    const select = byId('idle-lock-select');
    expect(await select.inputValue()).toBe(String(15 * 60)); // the default: 15 minutes
    expect(await select.locator('option').allTextContents()).toEqual(['After 5 minutes', 'After 15 minutes', 'After 30 minutes', 'After 1 hour', 'Never']);
    await select.selectOption('0');
    expect(await page.evaluate((k) => localStorage.getItem(k), IDLE_LOCK_KEY)).toBe('0');
    await select.selectOption(String(5 * 60));
    await byId('settings-done').click();

    // A test-sized idle time (seconds, set where the setting lives), then a fresh unlock.
    await page.evaluate((k) => localStorage.setItem(k, '3'), IDLE_LOCK_KEY);
    await page.reload();
    const tab2 = await context.newPage();
    await tab2.goto(relay.httpUrl);
    await tab2.getByTestId('password').waitFor({ timeout: 60_000 });
    await unlock(page, STRONG_PASSWORD);
    await byId('empty-list').waitFor({ timeout: 60_000 });

    // Alice keeps moving the mouse in the other tab for twice the idle time: this tab stays open.
    const busyUntil = Date.now() + 6_000;
    for (let i = 0; Date.now() < busyUntil; i++) {
      await tab2.mouse.move(10 + (i % 50), 10 + (i % 30));
      await tab2.waitForTimeout(250);
    }
    expect(await byId('empty-list').isVisible()).toBe(true);
    expect(await byId('password').count()).toBe(0);

    // Then nothing, anywhere: the app locks itself and asks for the password again.
    const stoppedAt = Date.now();
    await byId('password').waitFor({ timeout: 30_000 });
    expect(Date.now() - stoppedAt).toBeGreaterThanOrEqual(2_000);
    expect(await byId('empty-list').count()).toBe(0);
    await tab2.close();

    // Back to the setting's own choices: the custom time showed as itself in Settings meanwhile.
    await page.evaluate((k) => localStorage.removeItem(k), IDLE_LOCK_KEY);
  });
});
