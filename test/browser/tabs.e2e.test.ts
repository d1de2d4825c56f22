// Two tabs of one profile share one sync engine (issue 12): bob opens the team workspace in two tabs
// of the same Chromium profile. Exactly one tab leads (one WebSocket to the relay across both); an
// edit in either tab shows in the other without a reload, the follower's edit reaches alice through
// the leader, and when the leader tab closes the other one takes over and keeps syncing.
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CHILD_MS, integrationTimeouts } from '../timeouts.ts';
import { describeInChromium } from './chromium.ts';
import { aliceInvites, bobJoins, bobUnlocks, startTeam, statusOf, type Team } from './teamInBrowser.ts';

integrationTimeouts();

/** Counts this page's open WebSockets (window.__openSockets()), installed before the app's code runs. */
const COUNT_SOCKETS = `(() => {
  const Native = window.WebSocket;
  const open = new Set();
  window.__openSockets = () => [...open].filter((s) => s.readyState <= 1).length;
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      open.add(this);
      this.addEventListener('close', () => open.delete(this));
    }
  };
})();`;

describeInChromium('one sync engine across tabs in Chromium', () => {
  let team: Team;
  let tab1: Page;
  let tab2: Page;

  beforeAll(async () => {
    team = await startTeam('tabs');
    await team.context.addInitScript(COUNT_SOCKETS);
    tab1 = team.context.pages()[0] ?? (await team.context.newPage());
    tab1.on('pageerror', (e) => console.error('[tab 1 error]', e));
  });

  afterAll(async () => {
    await team?.close();
  });

  const sockets = (p: Page) => p.evaluate(() => (window as unknown as { __openSockets: () => number }).__openSockets());
  const titles = (p: Page) => p.getByTestId('record-item').allTextContents();

  async function addRecord(p: Page, title: string) {
    // A blank form before typing, and the saved record open in the editor before the next step.
    await p.getByTestId('new-record').click();
    await expect.poll(() => p.getByTestId('title').inputValue(), { timeout: 60_000 }).toBe('');
    await p.getByTestId('title').fill(title);
    await p.getByTestId('save').click();
    await p.getByTestId('delete').waitFor({ timeout: 60_000 });
    await expect.poll(() => p.getByTestId('title').inputValue(), { timeout: 60_000 }).toBe(title);
    await expect.poll(() => titles(p), { timeout: 60_000 }).toContain(title);
  }

  async function aliceHas(title: string) {
    await expect
      .poll(async () => {
        await team.alice('sync');
        return (JSON.parse(await team.alice('record', 'list', '--json')) as { title: string }[]).map((r) => r.title);
      }, { timeout: CHILD_MS, interval: 1000 })
      .toContain(title);
  }

  it('two tabs update each other live with one engine, and the second takes over when the leader closes', async () => {
    const code = await aliceInvites(team, 'Clinic', 'Intake form');
    await bobJoins(team, tab1, code, 'Clinic', 'Intake form');
    await expect.poll(async () => (await statusOf(tab1)).state, { timeout: 60_000 }).toBe('online');

    tab2 = await team.context.newPage();
    tab2.on('pageerror', (e) => console.error('[tab 2 error]', e));
    await tab2.goto(team.relay.httpUrl);
    await bobUnlocks(tab2, 'Clinic');
    await expect.poll(() => titles(tab2), { timeout: 60_000 }).toEqual(['Intake form']);

    // One leader, one follower, one connection to the relay; the follower shows the leader's status.
    await expect.poll(async () => [(await statusOf(tab1)).role, (await statusOf(tab2)).role], { timeout: 60_000 }).toEqual(['leader', 'follower']);
    await expect.poll(async () => (await statusOf(tab2)).state, { timeout: 60_000 }).toBe('online');
    await expect.poll(async () => (await sockets(tab1)) + (await sockets(tab2)), { timeout: 60_000 }).toBe(1);
    expect(await sockets(tab1)).toBe(1);

    // An edit in either tab shows in the other, without a reload.
    await addRecord(tab1, 'Dressing change');
    await expect.poll(() => titles(tab2), { timeout: 60_000 }).toContain('Dressing change');
    await addRecord(tab2, 'Allergy check');
    await expect.poll(() => titles(tab1), { timeout: 60_000 }).toContain('Allergy check');
    // A record open in both: a change saved in one shows in the other's editor.
    await tab2.getByTestId('record-item').filter({ hasText: 'Intake form' }).click();
    await expect.poll(() => tab2.getByTestId('title').inputValue(), { timeout: 60_000 }).toBe('Intake form');
    await tab1.getByTestId('record-item').filter({ hasText: 'Intake form' }).click();
    await expect.poll(() => tab1.getByTestId('title').inputValue(), { timeout: 60_000 }).toBe('Intake form');
    await tab1.getByTestId('title').fill('Intake form (revised)');
    await tab1.getByTestId('save').click();
    await expect.poll(() => tab2.getByTestId('title').inputValue(), { timeout: 60_000 }).toBe('Intake form (revised)');
    await expect.poll(() => titles(tab2), { timeout: 60_000 }).toContain('Intake form (revised)');
    // The follower's edit went into the shared outbox and the leader pushed it.
    await aliceHas('Allergy check');
    // Alice's edit arrives once (through the leader) and shows in both tabs.
    await team.alice('record', 'add', '--title', 'Night shift notes');
    await team.alice('sync');
    await expect.poll(() => titles(tab1), { timeout: 60_000 }).toContain('Night shift notes');
    await expect.poll(() => titles(tab2), { timeout: 60_000 }).toContain('Night shift notes');
    await expect.poll(async () => (await sockets(tab1)) + (await sockets(tab2)), { timeout: 60_000 }).toBe(1);
    expect((await statusOf(tab2)).role).toBe('follower');

    // The leader tab closes: the other one takes over, connects, and keeps syncing both ways.
    await tab1.close();
    await expect.poll(async () => (await statusOf(tab2)).role, { timeout: 60_000 }).toBe('leader');
    await expect.poll(async () => (await statusOf(tab2)).state, { timeout: 90_000 }).toBe('online');
    await expect.poll(() => sockets(tab2), { timeout: 60_000 }).toBe(1);
    await team.alice('record', 'add', '--title', 'Discharge letter');
    await team.alice('sync');
    await expect.poll(() => titles(tab2), { timeout: 60_000 }).toContain('Discharge letter');
    await addRecord(tab2, 'Bed 4 handover');
    await aliceHas('Bed 4 handover');
  });
});
