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
    // And beside the anchor that starts where Cloister does: B holding the record from before the typing.
    expect(f.automerge_repo_nodefs_b_holds_sync_10k_ms).toBeGreaterThan(0);
    expect(f.sync_10k_over_automerge_repo_nodefs_b_holds_ratio).toBeGreaterThan(0);
  });

  it('the anchor whose B holds the earlier version converges B on that same document', async () => {
    const { automergeRepoSyncRun } = await import('../../src/cli/bench/automergeRepoSyncAnchor.ts');
    const run = await automergeRepoSyncRun(200, { bHoldsBase: true, liveEdits: 1 });
    // untilHeads returned: B's own handle (imported before the sync) reached A's heads, and a live edit followed.
    expect(run.syncMs).toBeGreaterThan(0);
    expect(run.liveEditMs).toHaveLength(1);
  });
});
