// The sync bench suite is registered and its pipeline works end to end on a small run (the real
// figures come from `cloister bench --only sync`; this is not a timing test).
import { describe, expect, it } from 'vitest';
import { SUITES } from '../../src/cli/bench/index.ts';
import { syncBench } from '../../src/cli/bench/syncBench.ts';
import { integrationTimeouts } from '../timeouts.ts';

integrationTimeouts();

describe('sync bench', () => {
  it('is registered as "sync" and reports its figures after device B converged', async () => {
    expect(SUITES.map(s => s.name)).toContain('sync');
    const f = await syncBench(() => undefined, { keystrokes: 300, runs: 1 });
    expect(f.sync_10k_ms).toBeGreaterThan(0);
    expect(f.automerge_repo_sync_10k_ms).toBeGreaterThan(0);
    expect(f.sync_over_automerge_repo_ratio).toBeGreaterThan(0);
    expect(f.sync_10k_envelopes).toBeGreaterThanOrEqual(1);
    // With B online (live subscription), side by side with automerge-repo storing on NodeFS.
    expect(f.sync_10k_live_ms).toBeGreaterThan(0);
    expect(f.automerge_repo_nodefs_sync_10k_ms).toBeGreaterThan(0);
    expect(f.sync_10k_live_over_automerge_repo_nodefs_ratio).toBeGreaterThan(0);
  });
});
