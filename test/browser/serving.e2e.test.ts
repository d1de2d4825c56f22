// Safe serving in Debian's Chromium (docs/THREATS.md T28): the app framed by another origin is refused
// by the browser (CSP frame-ancestors 'none'); the service worker serves the installed build cache
// first, so a new build on the server shows an update banner and runs only after the user's click (also
// when every tab closed and the browser started the new worker); a server that ships a worker which
// skips that wait is reported by the page it replaces; the first visit alone installs the whole shell.
// Builds are served from one webRoot by a real relay (startRelay, SQLite), as `npm start` does; each
// build gets its own CLOISTER_BUILD_ID (vite.config.ts), which the page exposes as <html data-build>.
// A new build is shipped whole, as a deploy would: built beside the served one, then swapped in at once
// (webRoot is a symlink), so the browser's own update checks never fetch a half-written build.
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startRelay, type RunningRelay } from '../../relay/server.ts';
import { SqliteStore } from '../../relay/store/SqliteStore.ts';
import { integrationTimeouts } from '../timeouts.ts';
import { describeInChromium, launchChromium } from './chromium.ts';
import { buildWebApp, serveWebApp } from './servedApp.ts';

integrationTimeouts();

const root = join(import.meta.dirname, '..', '..');
const SHOTS = join(import.meta.dirname, 'screenshots');
const AXE = readFileSync(join(root, 'node_modules/axe-core/axe.min.js'), 'utf8');

/**
 * Puts build `buildId` on the server at `webRoot`: built into its own folder (and changed by `edit`,
 * if given) while the previous build is still served, then swapped in by renaming a symlink over
 * webRoot (atomic), and the previous build deleted. A build written in place would let Chromium's
 * own update check, which runs shortly after each navigation, fetch the new sw.js before the build
 * was finished, and a later registration.update() be merged into that check.
 */
function ship(webRoot: string, buildId: string, edit?: (outDir: string) => void): void {
  const outDir = `${webRoot}-${buildId}`;
  buildWebApp(outDir, { CLOISTER_BUILD_ID: buildId });
  edit?.(outDir);
  let previous: string | undefined;
  try {
    previous = readlinkSync(webRoot);
  } catch {
    // the first build: nothing served yet
  }
  symlinkSync(outDir, `${webRoot}.next`);
  renameSync(`${webRoot}.next`, webRoot);
  if (previous !== undefined) rmSync(previous, { recursive: true, force: true });
}

describeInChromium('serving the web app safely', () => {
  let dir: string;
  let webRoot: string;
  let relay: RunningRelay;
  let context: BrowserContext;
  let framer: Server;
  let relayClosed = false;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cloister-serving-'));
    webRoot = join(dir, 'web');
    ship(webRoot, 'build-one');
    relay = await serveWebApp(dir, webRoot);
    context = await launchChromium(join(dir, 'profile'));
  });

  afterAll(async () => {
    await context?.close();
    if (!relayClosed) await relay?.close();
    await new Promise((r) => (framer ? framer.close(r) : r(undefined)));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /**
   * A look at the banner on a phone, beside views.e2e's screenshots (test/browser/screenshots,
   * git-ignored), and axe-core's serious or critical findings in it (none expected).
   */
  async function shoot(page: Page, name: string): Promise<void> {
    mkdirSync(SHOTS, { recursive: true });
    await page.setViewportSize({ width: 390, height: 700 });
    await page.screenshot({ path: join(SHOTS, `${name}-390.png`) });
    await page.evaluate(AXE); // CDP evaluation is not subject to the page's CSP
    const found = await page.evaluate(async (sel) => {
      const axe = (window as unknown as { axe: { run: (ctx: string, o: object) => Promise<{ violations: { id: string; impact: string | null }[] }> } }).axe;
      return (await axe.run(sel, { resultTypes: ['violations'] })).violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.impact} ${v.id}`);
    }, `[data-testid="${name}"]`);
    expect(found, `axe in ${name}`).toEqual([]);
  }

  const buildOf = (page: Page) => page.evaluate(() => document.documentElement.dataset.build).catch(() => 'navigating');

  it('the app framed by another origin is refused by the browser', async () => {
    // eve's page, on another origin (another port), frames the unlock page.
    framer = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(`<!doctype html><title>eve</title><h1>eve's page</h1><iframe id="victim" src="${relay.httpUrl}/" width="800" height="600"></iframe>`);
    });
    await new Promise<void>((r) => framer.listen(0, '127.0.0.1', r));
    const framerUrl = `http://localhost:${(framer.address() as AddressInfo).port}/`;

    const page = await context.newPage();
    const consoleLines: string[] = [];
    page.on('console', (m) => consoleLines.push(m.text()));
    await page.goto(framerUrl);
    await page.locator('#victim').waitFor({ state: 'attached' });
    await expect.poll(() => consoleLines.some((l) => /frame-ancestors 'none'/.test(l) && l.includes(relay.httpUrl)), { timeout: 30_000 }).toBe(true);

    // The frame holds the browser's error page, not the app: no #root, no vault form, not the relay's URL.
    const child = page.frames().find((f) => f !== page.mainFrame());
    expect(child).toBeDefined();
    await expect.poll(() => child!.url()).not.toBe(`${relay.httpUrl}/`);
    expect(await child!.locator('#root').count()).toBe(0);
    expect(await child!.getByTestId('password').count()).toBe(0);
    // The same page opened directly (not framed) is the app.
    const direct = await context.newPage();
    await direct.goto(relay.httpUrl);
    await direct.getByTestId('password').waitFor({ timeout: 60_000 });
    await direct.close();
    await page.close();
  });

  it('the installed build runs cache-first; a new build is offered in a banner and runs only after the user clicks update', async () => {
    const page = await context.newPage();
    page.on('pageerror', (e) => console.error('[page error]', e));
    await page.goto(relay.httpUrl);
    await page.getByTestId('password').waitFor({ timeout: 60_000 });
    expect(await buildOf(page)).toBe('build-one');
    // The first visit installs the shell and the worker takes control of the page.
    const swState = () => page.evaluate(async () => {
      const reg = await navigator.serviceWorker.getRegistration();
      return JSON.stringify({ controlled: navigator.serviceWorker.controller !== null, installing: reg?.installing?.state ?? null, waiting: reg?.waiting?.state ?? null, active: reg?.active?.state ?? null });
    });
    await expect.poll(() => page.evaluate(() => navigator.serviceWorker.controller !== null), { timeout: 120_000 }).toBe(true).catch(async (e: Error) => {
      throw new Error(`${e.message}; service worker: ${await swState()}`); // what the browser had, should this fail again
    });

    // The server now has another build (build one's files are gone from disk).
    ship(webRoot, 'build-two');

    // Reloading still runs build one, from the installed shell; the browser sees the new sw.js, installs
    // build two beside it and it waits: the page offers it instead of running it.
    await page.reload();
    await page.getByTestId('update-available').waitFor({ timeout: 60_000 });
    expect(await buildOf(page)).toBe('build-one');
    expect(await page.getByTestId('update-available').getAttribute('role')).toBe('status');
    await shoot(page, 'update-available');

    // A further load (even a new tab) doesn't apply it either.
    await page.reload();
    await page.getByTestId('update-available').waitFor({ timeout: 60_000 });
    expect(await buildOf(page)).toBe('build-one');
    const tab2 = await context.newPage();
    await tab2.goto(relay.httpUrl);
    await tab2.getByTestId('password').waitFor({ timeout: 60_000 });
    expect(await buildOf(tab2)).toBe('build-one');
    await tab2.getByTestId('update-available').waitFor({ timeout: 60_000 });

    // The user's click applies it: the page reloads into build two, and so does the other open tab.
    await page.getByTestId('apply-update').click();
    await expect.poll(() => buildOf(page), { timeout: 60_000 }).toBe('build-two');
    await expect.poll(() => buildOf(tab2), { timeout: 60_000 }).toBe('build-two');
    await page.getByTestId('password').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('update-available').count()).toBe(0);
    expect(await page.getByTestId('update-unapproved').count()).toBe(0);
    // Only build two's shell is kept.
    await expect.poll(() => page.evaluate(async () => (await caches.keys()).filter((k) => k.startsWith('cloister-shell-')).length), { timeout: 30_000 }).toBe(1);
    await tab2.close();
    await page.close();
  });

  it('a new build still waits for the click when every tab was closed and the browser started its worker', async () => {
    let page = await context.newPage();
    await page.goto(relay.httpUrl);
    await page.getByTestId('password').waitFor({ timeout: 60_000 });
    expect(await buildOf(page)).toBe('build-two');
    ship(webRoot, 'build-three');
    await page.reload();
    await page.getByTestId('update-available').waitFor({ timeout: 60_000 });

    // Every tab of the app closes (another origin's page keeps the browser open): with no page left to
    // serve, the browser activates the waiting worker on its own.
    const elsewhere = await context.newPage();
    for (const p of context.pages()) if (p !== elsewhere) await p.close();
    /** The build of the worker that is active with nothing waiting behind it (evaluated inside the worker). */
    const activeBuild = async () => {
      const inWorker = "self.registration.active && self.registration.active.state === 'activated' && !self.registration.waiting ? SHELL.build : 'not settled'";
      const builds = await Promise.all(context.serviceWorkers().map((w) => w.evaluate<string>(inWorker).catch(() => 'restarting')));
      return builds.find((b) => b.startsWith('build-')) ?? 'no worker settled';
    };
    await expect.poll(activeBuild, { timeout: 60_000 }).toBe('build-three');

    // Opening the app again still runs the approved build two, and offers build three.
    page = await context.newPage();
    await page.goto(relay.httpUrl);
    await page.getByTestId('update-available').waitFor({ timeout: 60_000 });
    expect(await buildOf(page)).toBe('build-two');
    await page.reload();
    await page.getByTestId('update-available').waitFor({ timeout: 60_000 });
    expect(await buildOf(page)).toBe('build-two');
    await page.getByTestId('apply-update').click();
    await expect.poll(() => buildOf(page), { timeout: 60_000 }).toBe('build-three');
    await page.getByTestId('password').waitFor({ timeout: 60_000 });
    expect(await page.getByTestId('update-available').count()).toBe(0);
    expect(await page.getByTestId('update-unapproved').count()).toBe(0);
    await page.close();
    await elsewhere.close();
  });

  it('a server that ships a worker which skips the wait is reported by the open page as an unapproved change', async () => {
    const page = await context.newPage();
    await page.goto(relay.httpUrl);
    await page.getByTestId('password').waitFor({ timeout: 60_000 });
    await expect.poll(() => page.evaluate(() => navigator.serviceWorker.controller !== null), { timeout: 60_000 }).toBe(true);
    expect(await buildOf(page)).toBe('build-three');

    // mallory, who runs the server, ships build four with a worker that takes over at once.
    ship(webRoot, 'build-four', (outDir) => appendFileSync(join(outDir, 'sw.js'), "\nself.addEventListener('install', () => self.skipWaiting());\n"));

    // The limit (THREATS T28): it does take over, but the page that was running says so. The page asks
    // the browser to look for a new worker until it shows that, since an update check the browser had
    // under way already (it runs one after each navigation) absorbs a registration.update() asked meanwhile.
    const lookForUpdate = () => page.evaluate(() => navigator.serviceWorker.getRegistration().then((r) => r?.update())).catch(() => undefined);
    await expect.poll(async () => {
      await lookForUpdate();
      return page.getByTestId('update-unapproved').isVisible();
    }, { timeout: 60_000, interval: 1000 }).toBe(true);
    expect(await page.getByTestId('update-unapproved').getAttribute('role')).toBe('alert');
    await shoot(page, 'update-unapproved');
    await page.close();
  });
  it('the first visit alone installs the whole shell: with the server gone, a reload opens the app', async () => {
    // A browser that has never seen the app (its own profile), one visit to an honest build, then the relay stops.
    ship(webRoot, 'build-five');
    const fresh = await launchChromium(join(dir, 'profile-fresh'));
    try {
      const page = fresh.pages()[0] ?? (await fresh.newPage());
      await page.goto(relay.httpUrl);
      await page.getByTestId('password-confirm').waitFor({ timeout: 60_000 });
      await expect.poll(() => page.evaluate(() => navigator.serviceWorker.controller !== null), { timeout: 60_000 }).toBe(true);
      expect(await buildOf(page)).toBe('build-five');
      await relay.close();
      relayClosed = true;
      await page.reload();
      await page.getByTestId('password-confirm').waitFor({ timeout: 60_000 });
      expect(await buildOf(page)).toBe('build-five');
    } finally {
      await fresh.close();
    }
  });
});
