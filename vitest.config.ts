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
    // Tests spawn bin/cloister.js, which runs build/: rebuild it first when a source changed.
    globalSetup: ['test/globalSetup.ts'],
  },
});
