import { configDefaults, defineConfig } from 'vitest/config';

// `*.solo.test.ts` files measure latency under attack (relay abuse: /healthz under 100 ms), so they
// run on their own after the main suite (`npm test` runs both), never beside other test files.
const solo = process.env.CLOISTER_SOLO === '1';

export default defineConfig({
  test: {
    include: solo ? ['test/**/*.solo.test.ts'] : ['test/**/*.test.ts'],
    exclude: solo ? [...configDefaults.exclude] : [...configDefaults.exclude, 'test/**/*.solo.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // Three test files at a time, whatever the cores. Vitest's default is one fewer than the cores: a
    // single worker on CI's 2-core machine, so every file ran alone while it mostly waited on child CLI
    // processes, relays, PostgreSQL and Chromium. On 2 cores, 2 workers took the suite from 15.6 to 9.6
    // minutes and 3 to 8.5. The solo files always run one at a time.
    maxWorkers: solo ? 1 : 3,
    // Tests spawn bin/cloister.js, which runs build/: rebuild it first when a source changed.
    globalSetup: ['test/globalSetup.ts'],
  },
});
