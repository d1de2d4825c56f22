// The sync-scale bench suite is registered (opt-in: --only sync-scale) and its pipeline works end to
// end on a small workspace (the real figures come from `cloister bench --only sync-scale`; this is
// not a timing test).
import { describe, expect, it } from 'vitest';
import { SUITES } from '../../src/cli/bench/index.ts';
import { syncScaleBench } from '../../src/cli/bench/syncScaleBench.ts';
import { integrationTimeouts } from '../timeouts.ts';

integrationTimeouts();

describe('sync-scale bench', () => {
  it('is registered as opt-in "sync-scale" and reports both figures with their automerge-repo anchors after every record was pushed and read', async () => {
    expect(SUITES.find(s => s.name === 'sync-scale')?.optIn).toBe(true);
    const f = await syncScaleBench(() => undefined, { records: 12, largeRecords: 0 });
    expect(f.first_sync_1000_offline_records_ms).toBeGreaterThan(0);
    expect(f.first_sync_1000_envelopes).toBe(24); // a record and its index entry each
    expect(f.automerge_repo_first_sync_1000_records_ms).toBeGreaterThan(0);
    expect(f.cold_join_1000_records_ms).toBeGreaterThan(0);
    expect(f.automerge_repo_cold_join_1000_records_ms).toBeGreaterThan(0);
    expect(f.cold_join_1000_over_automerge_repo_ratio).toBeGreaterThan(0);
  });

  it('times the cold join again at five times the records, through the same join, and reports how it grows', async () => {
    const f = await syncScaleBench(() => undefined, { records: 6, largeRecords: 30 });
    expect(f.cold_join_1000_records_ms).toBeGreaterThan(0);
    expect(f.cold_join_5000_records_ms).toBeGreaterThan(0);
    expect(f.automerge_repo_cold_join_5000_records_ms).toBeGreaterThan(0);
    expect(f.cold_join_5000_over_automerge_repo_ratio).toBeGreaterThan(0);
    expect(f.cold_join_linearity).toBeCloseTo((f.cold_join_5000_records_ms as number) / (f.cold_join_1000_records_ms as number), 1);
  });
});
