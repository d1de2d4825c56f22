// The sync status tells the truth in words (issue 12): bob, in Chromium, works in a team workspace;
// when the relay is out of reach the status says Offline, how many edits wait to be sent and how long
// he may keep editing under the lease — also after reloading the page while offline — and never a raw
// transport error; once the relay is back it says Online with nothing waiting, and alice has his edits.
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CHILD_MS, integrationTimeouts } from '../timeouts.ts';
import { describeInChromium } from './chromium.ts';
import { aliceInvites, bobJoins, bobUnlocks, startTeam, statusOf, type Team } from './teamInBrowser.ts';

integrationTimeouts();

const SHOTS = join(import.meta.dirname, 'screenshots');

describeInChromium('honest sync status in Chromium', () => {
  let team: Team;
  let page: Page;

  beforeAll(async () => {
    team = await startTeam('status');
    page = team.context.pages()[0] ?? (await team.context.newPage());
    page.on('pageerror', (e) => console.error('[page error]', e));
  });

  afterAll(async () => {
    await team?.close();
  });

  const byId = (id: string) => page.getByTestId(id);

  /** Screenshots of the page at 1280 and 390 px (test/browser/screenshots, git-ignored); the status line wraps instead of overflowing. */
  async function shoot(name: string) {
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: 900 });
      const status = byId('sync-status');
      await expect.poll(() => status.evaluate((el) => el.scrollWidth <= el.clientWidth)).toBe(true);
      await page.screenshot({ path: join(SHOTS, `${name}-${width}.png`), fullPage: true });
    }
    await page.setViewportSize({ width: 1280, height: 900 });
  }

  /** The queued count once three readings in a row agree. */
  async function settledQueue(): Promise<number> {
    const seen: number[] = [];
    await expect
      .poll(async () => {
        seen.push((await statusOf(page)).queued);
        return seen.length >= 3 && seen.slice(-3).every((n) => n === seen.at(-1));
      }, { timeout: 60_000, interval: 500 })
      .toBe(true);
    return seen.at(-1)!;
  }

  async function addRecord(title: string) {
    // The form is blank (the previous save has moved on to its record) before typing, and the new
    // record is open in the editor (saved) before the next step.
    await byId('new-record').click();
    await expect.poll(() => byId('title').inputValue(), { timeout: 60_000 }).toBe('');
    await byId('title').fill(title);
    await byId('save').click();
    await byId('delete').waitFor({ timeout: 60_000 });
    await expect.poll(() => byId('title').inputValue(), { timeout: 60_000 }).toBe(title);
    await expect.poll(() => byId('record-item').allTextContents(), { timeout: 60_000 }).toContain(title);
  }

  it('offline, the status counts queued edits and the lease time left, survives a reload, and recovers to Online with nothing queued', async () => {
    const code = await aliceInvites(team, 'Clinic', 'Intake form');
    await bobJoins(team, page, code, 'Clinic', 'Intake form');
    await expect.poll(async () => (await statusOf(page)).text, { timeout: 60_000 }).toMatch(/^Online · synced [^·]+$/);

    // The cable is out: Offline, in words, with the lease; no transport error anywhere.
    team.cable.unplug();
    await expect.poll(async () => (await statusOf(page)).state, { timeout: 90_000 }).toBe('offline');
    await addRecord('Dressing change');
    await addRecord('Follow-up call');
    // Each new record seals two envelopes (the record and the index); wait until the count settles.
    const queued = await settledQueue();
    expect(queued).toBeGreaterThanOrEqual(2);
    const offline = await statusOf(page);
    expect(offline.text).toMatch(/^Offline — \d+ edits waiting to be sent · you can keep editing offline for \d+ days?( \d+ hours?)? \(lease\)/);
    expect(offline.text).not.toMatch(/closed|1006|connection|Error/i);
    await shoot('status-offline');

    // Reloaded while offline: the same words, not "Connecting to the relay…" forever.
    await page.reload();
    await bobUnlocks(page, 'Clinic');
    await expect.poll(async () => (await statusOf(page)).state, { timeout: 90_000 }).toBe('offline');
    await expect.poll(async () => (await statusOf(page)).queued, { timeout: 60_000 }).toBe(queued);
    expect((await statusOf(page)).lease).toMatch(/you can keep editing offline for \d+ days?/);
    expect((await statusOf(page)).text).not.toMatch(/closed|1006|Error/i);

    // The cable is back: Online, nothing waiting (the engine retries with backoff), and alice has the edits.
    team.cable.plug();
    await expect.poll(async () => { const s = await statusOf(page); return [s.state, s.queued]; }, { timeout: 120_000, interval: 500 }).toEqual(['online', 0]);
    await expect.poll(async () => (await statusOf(page)).text, { timeout: 60_000 }).toMatch(/^Online · synced [^·]+$/);
    await shoot('status-online');
    await expect
      .poll(async () => {
        await team.alice('sync');
        return (JSON.parse(await team.alice('record', 'list', '--json')) as { title: string }[]).map((r) => r.title).sort();
      }, { timeout: CHILD_MS, interval: 1000 })
      .toEqual(['Dressing change', 'Follow-up call', 'Intake form']);
  });
});
