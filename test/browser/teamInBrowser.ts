// Shared by the status and tabs browser tests: the web app built into a temp dir and served by a real
// relay, a cable the test can unplug between the app and the relay's WebSocket (the page itself is
// served directly, so it reloads while the cable is out), alice on the command line who creates the
// team workspace and invites, and bob who joins in Chromium.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { pino } from 'pino';
import type { BrowserContext, Page } from 'playwright-core';
import { expect } from 'vitest';
import type { RunningRelay } from '../../relay/server.ts';
import { SqliteStore } from '../../relay/store/SqliteStore.ts';
import { CHILD_MS } from '../timeouts.ts';
import { cableToRelay, type Cable } from './cableToRelay.ts';
import { launchChromium } from './chromium.ts';
import { buildWebApp, serveWebApp } from './servedApp.ts';

const root = join(import.meta.dirname, '..', '..');
const BIN = join(root, 'bin', 'cloister.js');
export const PASSWORD = 'correct horse battery staple';

export interface Team {
  dir: string;
  relay: RunningRelay;
  cable: Cable;
  context: BrowserContext;
  /** Run the CLI as alice (asynchronous: the relay runs in this process). */
  alice(...args: string[]): Promise<string>;
  close(): Promise<void>;
}

export async function startTeam(name: string): Promise<Team> {
  const dir = mkdtempSync(join(tmpdir(), `cloister-e2e-${name}-`));
  const home = join(dir, 'alice');
  const outDir = join(dir, 'web');
  buildWebApp(outDir);
  const relay = await serveWebApp(dir, outDir);
  const cable = await cableToRelay(relay.port);
  const context = await launchChromium(join(dir, 'profile'));
  const alice = async (...args: string[]): Promise<string> => {
    const child = promisify(execFile)(process.execPath, [BIN, ...args, '--home', home, '--password-stdin'], {
      encoding: 'utf8', timeout: CHILD_MS, env: { ...process.env, CLOISTER_HOME: undefined, CLOISTER_KDF: 'min' },
    });
    child.child.stdin!.end(`${PASSWORD}\n`);
    try {
      return (await child).stdout;
    } catch (e) {
      throw new Error(`cloister ${args.join(' ')} failed: ${(e as { stderr?: string }).stderr ?? String(e)}`);
    }
  };
  return {
    dir, relay, cable, context, alice,
    async close() {
      await context.close().catch(() => undefined);
      await cable.close().catch(() => undefined);
      await relay.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Alice creates `workspace` (through the cable) with one record and returns a writer invitation code. */
export async function aliceInvites(team: Team, workspace: string, record: string): Promise<string> {
  await team.alice('init');
  await team.alice('workspace', 'create', workspace, '--relay', team.cable.url);
  await team.alice('record', 'add', '--title', record);
  const { code } = JSON.parse(await team.alice('workspace', 'invite', '--role', 'writer', '--json')) as { code: string };
  await team.alice('sync');
  return code;
}

/** Bob creates his vault in `page` and joins with `code`; resolves when `record` has arrived. */
export async function bobJoins(team: Team, page: Page, code: string, workspace: string, record: string): Promise<void> {
  const byId = (id: string) => page.getByTestId(id);
  await page.goto(team.relay.httpUrl);
  await byId('password').fill(PASSWORD);
  await byId('password-confirm').fill(PASSWORD);
  await byId('vault-submit').click();
  await byId('recovery-done').click({ timeout: 60_000 });
  await byId('empty-list').waitFor({ timeout: 60_000 });
  await byId('open-join').click();
  await byId('relay-url').fill(team.cable.url);
  await byId('invite-code').fill(code);
  await byId('join-submit').click();
  await expect.poll(() => byId('workspace-select').locator('option:checked').textContent(), { timeout: 60_000 }).toBe(workspace);
  await expect.poll(() => byId('record-item').allTextContents(), { timeout: 120_000 }).toContain(record);
}

/** Unlock bob's vault in a page that shows the unlock form, and open `workspace`. */
export async function bobUnlocks(page: Page, workspace: string): Promise<void> {
  const byId = (id: string) => page.getByTestId(id);
  await byId('password').fill(PASSWORD);
  await byId('vault-submit').click();
  const select = byId('workspace-select');
  await select.waitFor({ timeout: 60_000 });
  await select.selectOption({ label: workspace });
  await expect.poll(() => select.locator('option:checked').textContent(), { timeout: 60_000 }).toBe(workspace);
}

/** What the sync status says, for assertions (read at once, without waiting for elements). */
export function statusOf(page: Page): Promise<{ state: string | null; role: string | null; queued: number; lease: string | null; text: string }> {
  return page.evaluate(() => {
    const el = (id: string) => document.querySelector(`[data-testid="${id}"]`);
    const status = el('sync-status');
    return {
      state: el('sync-state')?.getAttribute('data-state') ?? null,
      role: status?.getAttribute('data-sync-role') ?? null,
      queued: Number(el('queued-count')?.getAttribute('data-count') ?? 0),
      lease: el('lease-left')?.textContent ?? null,
      text: (status?.textContent ?? '').trim(),
    };
  });
}
