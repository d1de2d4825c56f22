// Shared by the browser end-to-end tests: Debian's Chromium driven by playwright-core with the launch
// flags DESIGN lists. Without Chromium the suite skips and says why, except under CI=true, where a
// missing browser fails the run (.ci/run installs it).
import { existsSync } from 'node:fs';
import { chromium, type BrowserContext } from 'playwright-core';
import { describe, it } from 'vitest';

const CHROMIUM = process.env.CLOISTER_CHROMIUM ?? '/usr/bin/chromium'; // override only to test the missing-browser paths
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'];

/** describe() that runs only where Chromium is installed, and fails in CI when it is not. */
export function describeInChromium(name: string, fn: () => void): void {
  if (existsSync(CHROMIUM)) {
    describe(name, fn);
  } else if (process.env.CI === 'true') {
    describe(name, () => {
      it('needs Debian chromium at /usr/bin/chromium in CI', () => {
        throw new Error(`${CHROMIUM} is missing: CI must install the chromium package (.ci/run does)`);
      });
    });
  } else {
    // Outside CI only: a developer machine without Debian's chromium skips the browser suites and says why.
    console.warn(`[${name}] skipped: no Chromium at ${CHROMIUM} (apt-get install chromium)`);
    describe.skip(`${name} (skipped: no Chromium at ${CHROMIUM})`, fn);
  }
}

/** A fresh headless Chromium with its own profile directory. */
export function launchChromium(profileDir: string): Promise<BrowserContext> {
  return chromium.launchPersistentContext(profileDir, { executablePath: CHROMIUM, headless: true, args: ARGS });
}
