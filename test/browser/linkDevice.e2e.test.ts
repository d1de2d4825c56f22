// Linking a device from the web app, end to end in Chromium through a real relay (docs/DEVICES.md):
// alice (CLI) has a workspace on the relay; a fresh browser shows a one-time code in the "Link a
// device" panel, alice approves it with `cloister device approve CODE`, and the browser then shows the
// workspace's records and its new record reaches her terminal, written as alice. Then the other way
// round: the linked browser approves a new CLI profile of alice's, which reads both records.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
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
import { buildWebApp, serveWebApp } from './servedApp.ts';

integrationTimeouts();

const root = join(import.meta.dirname, '..', '..');
const BIN = join(root, 'bin', 'cloister.js');
/** Strong enough for the shared new-password policy (zxcvbn score 4), in the browser and the CLI alike. */
const PW = 'correct horse battery staple';
const CLI_ENV = { ...process.env, CLOISTER_HOME: undefined, CLOISTER_KDF: 'min' };
const SHOTS = join(import.meta.dirname, 'screenshots'); // git-ignored, beside views.e2e's
const AXE = readFileSync(join(root, 'node_modules/axe-core/axe.min.js'), 'utf8');

describeInChromium('linking a device in the web app (Chromium)', () => {
  let dir: string;
  let relay: RunningRelay;
  let context: BrowserContext;
  let page: Page;
  let laptop: string;
  let workspaceId: string;

  // Asynchronous on purpose: the relay runs in this process, so a blocking spawn would starve it.
  const cli = async (home: string, ...args: string[]): Promise<string> => {
    const child = promisify(execFile)(process.execPath, [BIN, ...args, '--home', home, '--password-stdin'], { encoding: 'utf8', timeout: CHILD_MS, env: CLI_ENV });
    child.child.stdin!.end(`${PW}\n`);
    try {
      return (await child).stdout;
    } catch (e) {
      throw new Error(`cloister ${args.join(' ')} failed: ${(e as { stderr?: string }).stderr ?? String(e)}`);
    }
  };
  const alice = (...args: string[]) => cli(laptop, ...args);
  const titles = async (home: string) => (JSON.parse(await cli(home, 'record', 'list', '--json')) as { title: string }[]).map((r) => r.title).sort();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cloister-e2e-link-'));
    laptop = join(dir, 'alice-laptop');
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

  /**
   * The link panel in its current state, as a phone and a desktop show it: nothing wider than the
   * window, no serious or critical axe-core finding inside the panel, and a screenshot to look at.
   */
  async function checkPanel(view: string): Promise<void> {
    mkdirSync(SHOTS, { recursive: true });
    for (const width of [1280, 390, 360]) {
      await page.setViewportSize({ width, height: 900 });
      await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
      const { scrollWidth, innerWidth } = await page.evaluate(() => ({ scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth }));
      expect(scrollWidth, `${view} at ${width}px`).toBeLessThanOrEqual(innerWidth);
      if (width === 360) continue;
      await page.screenshot({ path: join(SHOTS, `${view}-${width}.png`), fullPage: true });
      // CDP evaluation is not subject to the page's CSP (which rightly refuses inline scripts).
      if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(AXE);
      const bad = await page.evaluate(async () => {
        const axe = (window as unknown as { axe: { run: (ctx: Element, o: object) => Promise<{ violations: { id: string; impact: string | null; nodes: { target: string[] }[] }[] }> } }).axe;
        const r = await axe.run(document.querySelector('[data-testid="link-device"]')!, { resultTypes: ['violations'] });
        return r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical').map((v) => `${v.impact} ${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
      });
      expect(bad, `${view} at ${width}px`).toEqual([]);
    }
    await page.setViewportSize({ width: 1280, height: 900 });
  }

  it('a new browser shows a code, alice approves it in the CLI, and the browser reads and writes her workspace as her', async () => {
    await alice('init');
    await alice('workspace', 'create', 'Lighthouse crew', '--relay', relay.url);
    await alice('record', 'add', '--title', 'Keeper rota', '--field', 'monday=alice');
    await alice('sync');
    const aliceId = (JSON.parse(await alice('unlock', '--json')) as { userId: string }).userId;

    await page.goto(relay.httpUrl);
    await byId('password').fill(PW);
    await byId('password-confirm').fill(PW);
    await byId('vault-submit').click();
    await byId('recovery-done').click({ timeout: 60_000 });
    await byId('empty-list').waitFor({ timeout: 60_000 }); // the browser's own personal workspace

    await byId('open-link-device').click();
    await byId('link-device').waitFor();
    // Cancel ends the wait at once; the first code is simply never approved.
    await byId('link-start').click();
    await byId('link-code').waitFor({ timeout: 60_000 });
    await byId('link-cancel').click();
    await byId('link-start').waitFor({ timeout: 10_000 });
    expect(await byId('link-code').count()).toBe(0);
    expect(await byId('link-status').textContent()).toBe('');
    await byId('link-start').click();
    await expect.poll(() => byId('link-code').textContent(), { timeout: 60_000 }).toMatch(/^[0-9A-Z]{5}(-[0-9A-Z]{1,5}){5}$/);
    const code = (await byId('link-code').textContent())!;
    expect(await byId('link-status').textContent()).toMatch(/Waiting for the approval/);
    // The button pressed gave way to Cancel; the keyboard is on the code's Copy button, not the page body.
    expect(await page.evaluate(() => document.activeElement?.getAttribute('data-testid'))).toBe('link-copy');
    await checkPanel('link-device-code');

    const approved = JSON.parse(await alice('device', 'approve', code, '--json')) as { deviceId: string; userId: string; workspaces: { workspaceId: string; name: string; index?: number }[] };
    expect(approved.userId).toBe(aliceId);
    expect(approved.workspaces.map((w) => [w.name, typeof w.index])).toEqual([['Lighthouse crew', 'number']]);
    workspaceId = approved.workspaces[0]!.workspaceId;

    // The app closes the panel and opens the linked workspace (onLinked → loadWorkspaces(vault, firstLinked)).
    await expect.poll(() => byId('workspace-select').locator('option:checked').textContent(), { timeout: 60_000 }).toBe('Lighthouse crew');
    if (await byId('open-records').isVisible()) await byId('open-records').click();
    await expect.poll(() => byId('record-item').allTextContents(), { timeout: 60_000 }).toEqual(['Keeper rota']);

    await byId('new-record').click();
    await byId('title').fill('Written on the linked browser');
    await byId('save').click();
    await byId('delete').waitFor({ timeout: 60_000 });
    // Its own edit is alice's here too, not the user id this browser's vault was made with.
    await expect.poll(() => byId('attribution').textContent(), { timeout: 60_000 }).toContain(`Created by you (${aliceId.slice(0, 6)})`);

    // The browser's live sync sends it; alice's syncs bring it to her terminal.
    await expect
      .poll(async () => {
        await alice('sync');
        return titles(laptop);
      }, { timeout: CHILD_MS, interval: 1000 })
      .toEqual(['Keeper rota', 'Written on the linked browser']);
    // The browser's device is listed under alice's user, not the user id its own vault was made with.
    const members = JSON.parse(await alice('workspace', 'members', '--json')) as { userId: string; devices: string[] }[];
    expect(members.map((m) => m.userId)).toEqual([aliceId]);
    expect(members[0]!.devices).toContain(approved.deviceId);
  });

  it('the linked browser approves a new CLI profile of alice’s, which then reads every record', async () => {
    expect(workspaceId, 'the first story must link the browser').toBeDefined();
    const phone = join(dir, 'alice-phone');
    await cli(phone, 'init');
    const link = background(['device', 'link', '--relay', relay.url, '--json', '--home', phone, '--password-stdin']);
    const shown = JSON.parse(await link.firstLine()) as { code: string; deviceId: string };

    if (!(await byId('link-device').isVisible())) await byId('open-link-device').click();
    // A mistyped code is one line with its reason code, and nothing is sent.
    await byId('approve-code').fill('not-a-code');
    await byId('approve-submit').click();
    await expect.poll(() => byId('approve-result').textContent(), { timeout: 60_000 }).toMatch(/^that is not a device-link code .*\(link_code_invalid\)$/);
    expect(await byId('approve-result').getAttribute('role')).toBe('alert');
    await byId('approve-code').fill(shown.code.toLowerCase().replaceAll('-', ''));
    await byId('approve-submit').click();
    await expect.poll(() => byId('approve-result').textContent(), { timeout: CHILD_MS }).toContain('added to Lighthouse crew');
    expect(await byId('approve-result').textContent()).toContain(shown.deviceId);
    await checkPanel('link-device-approved');

    const done = await link.exited;
    expect(done.code, done.stderr).toBe(0);
    const result = JSON.parse(done.stdout.trim().split('\n')[1]!) as { workspaces: { workspaceId: string }[]; synced: Record<string, boolean> };
    expect(result.workspaces.map((w) => w.workspaceId)).toEqual([workspaceId]);
    expect(result.synced[workspaceId]).toBe(true);
    expect(await titles(phone)).toEqual(['Keeper rota', 'Written on the linked browser']);
  });
});

/** A CLI process that keeps running (the waiting `device link`): its first line, and its end. */
function background(args: string[]) {
  const proc: ChildProcess = spawn(process.execPath, [BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env: CLI_ENV });
  proc.stdin!.end(`${PW}\n`);
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  proc.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => proc.once('exit', (code) => resolve({ code, stdout, stderr })));
  const firstLine = () =>
    new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no output: ${stderr}`)), CHILD_MS);
      const check = () => {
        const nl = stdout.indexOf('\n');
        if (nl < 0) return;
        clearTimeout(timer);
        resolve(stdout.slice(0, nl));
      };
      proc.stdout!.on('data', check);
      proc.once('exit', () => reject(new Error(`exited before printing: ${stderr}`)));
      check();
    });
  return { exited, firstLine };
}
