// Shared by the browser end-to-end tests: the web app built with Vite into a folder and served by a
// real relay (SQLite), as `npm start` does, with Chromium opened on it; and a new vault made in a page,
// past its recovery key.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { BrowserContext, Page } from 'playwright-core';
import { startRelay, type RunningRelay } from '../../relay/server.ts';
import { SqliteStore } from '../../relay/store/SqliteStore.ts';
import { launchChromium } from './chromium.ts';

const root = join(import.meta.dirname, '..', '..');

/** `vite build` (production) into `outDir`; throws with Vite's output if it fails. `env` adds variables (e.g. CLOISTER_BUILD_ID). */
export function buildWebApp(outDir: string, env: Record<string, string> = {}): void {
  const built = spawnSync(process.execPath, [join(root, 'node_modules/vite/bin/vite.js'), 'build', '--outDir', outDir, '--emptyOutDir', '--logLevel', 'error'], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, NODE_ENV: 'production', ...env },
  });
  if (built.status !== 0) throw new Error(`vite build failed:\n${built.stdout}\n${built.stderr}`);
}

/** A relay with its SQLite store in `dir`, on a free port, serving the build in `webRoot`. */
export function serveWebApp(dir: string, webRoot: string): Promise<RunningRelay> {
  return startRelay({ store: new SqliteStore(join(dir, 'relay.sqlite')), port: 0, webRoot, logger: pino({ level: 'silent' }) });
}

/** In a page showing the create form: make a vault with `password`, pass the recovery key, and wait for the (empty) records. */
export async function createVaultInPage(page: Page, password: string, timeout = 60_000): Promise<void> {
  await page.getByTestId('password').fill(password);
  await page.getByTestId('password-confirm').fill(password);
  await page.getByTestId('vault-submit').click();
  await page.getByTestId('recovery-done').click({ timeout });
  await page.getByTestId('empty-list').waitFor({ timeout });
}

export interface ServedApp {
  dir: string;
  relay: RunningRelay;
  context: BrowserContext;
  /** The context's first page, with page errors printed. */
  page: Page;
  /** Closes the browser and the relay and removes the folder. */
  close(): Promise<void>;
}

/** A temp folder (`prefix`), the app built and served there by a relay, and Chromium with its own profile. */
export async function openServedApp(prefix: string): Promise<ServedApp> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const outDir = join(dir, 'web');
  buildWebApp(outDir);
  const relay = await serveWebApp(dir, outDir);
  const context = await launchChromium(join(dir, 'profile'));
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('pageerror', (e) => console.error('[page error]', e));
  return {
    dir, relay, context, page,
    async close() {
      await context.close();
      await relay.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
