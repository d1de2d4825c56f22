// The bench runner merges every suite's named figures into one object and refuses clashes.
import { describe, expect, it } from 'vitest';
import { runBench, SUITES } from '../../src/cli/bench/index.ts';
import { median, opsPerSecond } from '../../src/cli/bench/measure.ts';
import { integrationTimeouts } from '../timeouts.ts';

integrationTimeouts();

const quiet = { log: () => {} };

describe('bench runner', () => {
  it('has the crypto suite registered', () => {
    expect(SUITES.map((s) => s.name)).toContain('crypto');
  });

  it('has the relay load suite registered, run only when named (--only relay-load)', () => {
    expect(SUITES.find((s) => s.name === 'relay-load')?.optIn).toBe(true);
  });

  it('merges a suite\'s figures with the machine description and per-suite time', async () => {
    SUITES.push({ name: 'fake', description: 'test only', run: async () => ({ fake_ops_per_s: 42 }) });
    try {
      const out = await runBench(['fake'], quiet);
      expect(out).toMatchObject({ suites: ['fake'], fake_ops_per_s: 42, node: process.version });
      expect(Object.keys(out.suite_ms as object)).toEqual(['fake']);
      expect(() => JSON.stringify(out)).not.toThrow();
    } finally {
      SUITES.pop();
    }
  });

  it('refuses an unknown suite and a figure reported twice', async () => {
    await expect(runBench(['nope'], quiet)).rejects.toThrow(/unknown bench suite nope/);
    SUITES.push({ name: 'clash', description: 'test only', run: async () => ({ node: 'x' }) });
    try {
      await expect(runBench(['clash'], quiet)).rejects.toThrow(/reported twice/);
    } finally {
      SUITES.pop();
    }
  });

  it('median and opsPerSecond measure what they say', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(opsPerSecond(() => 1 + 1, 20)).toBeGreaterThan(1000);
  });
});
