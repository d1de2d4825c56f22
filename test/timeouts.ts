// Time limits for tests that spawn processes, relays or a browser. They must stay correct on a loaded
// 2-core machine (a second `npm test` running alongside took the suite from ~4 to ~14 minutes), so
// they wait on events and conditions and only give up after these generous limits. Unit tests keep
// vitest's default limit from vitest.config.ts.
import { vi } from 'vitest';

/** A whole integration test, or one of its hooks. */
export const SLOW_TEST_MS = 300_000;
/** One child process (a CLI command, a relay start) before it counts as hung. */
export const CHILD_MS = 180_000;

/** Gives every test and hook in the calling file the integration limit. */
export function integrationTimeouts(): void {
  vi.setConfig({ testTimeout: SLOW_TEST_MS, hookTimeout: SLOW_TEST_MS });
}
