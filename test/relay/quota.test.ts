// Per-workspace storage quota (docs/RELAY.md → Quotas): envelopes + held envelopes + log links count;
// a push that would pass it is refused with quota_exceeded and a clear message; usage is in /metrics
// as totals (no per-workspace series): bytes stored and workspaces at or above 80% of the quota.
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteStore } from '../../relay/store/SqliteStore.ts';
import { connect, device, envelope, leaseIdOf, publishWorkspace, startTestRelay, type TestRelay } from './helpers.ts';
import { integrationTimeouts } from '../timeouts.ts';

integrationTimeouts();

const metric = (text: string, name: string): number => {
  const m = new RegExp(`^${name} (\\S+)$`, 'm').exec(text);
  if (!m) throw new Error(`no ${name} in /metrics`);
  return Number(m[1]);
};

async function usageOf(t: TestRelay, workspaceId: string): Promise<number> {
  const s = new SqliteStore(t.dbPath);
  try {
    return await s.workspaceUsage(workspaceId);
  } finally {
    await s.close();
  }
}

describe('storage quota', () => {
  let t: TestRelay | undefined;
  afterEach(async () => {
    await t?.stop();
    t = undefined;
  });

  it('a push beyond the quota is refused with quota_exceeded; a re-send is still acknowledged; usage is in /metrics', async () => {
    const QUOTA = 20_000;
    t = await startTestRelay({ limits: { quotaBytes: QUOTA } });
    const alice = device('alice');
    const w = await publishWorkspace(t.relay, alice, [], { maxOfflineMs: 24 * 3600_000, leasePolicy: 'reject' });
    const logBytes = await usageOf(t, w.workspaceId);
    expect(logBytes).toBeGreaterThan(0); // the membership log counts
    const a = await connect(t.relay, alice, [w.workspaceId]);
    const leaseId = leaseIdOf(a, w.workspaceId);
    const big = (seq: number) => envelope(alice, { workspaceId: w.workspaceId, seq, leaseId, plaintext: new Uint8Array(4000).fill(seq) });

    let seq = 1;
    const sent: Uint8Array[] = [];
    for (;;) {
      const e = big(seq);
      const r = await a.push(e);
      if (r.status !== 'acked') {
        expect(r).toMatchObject({ status: 'rejected', reason: 'quota_exceeded' });
        break;
      }
      sent.push(e);
      seq++;
    }
    const used = await usageOf(t, w.workspaceId);
    expect(used).toBe(logBytes + sent.reduce((n, e) => n + e.length, 0));
    expect(used).toBeLessThanOrEqual(QUOTA);
    expect(used + big(seq).length).toBeGreaterThan(QUOTA);
    // An identical re-send of an acknowledged envelope is still acknowledged (nothing new is stored).
    expect(await a.push(sent[0]!)).toMatchObject({ status: 'acked', duplicate: true, relaySeq: 1 });
    // A small one that still fits is accepted: the quota is bytes, not a switch.
    const small = envelope(alice, { workspaceId: w.workspaceId, seq, leaseId, plaintext: new Uint8Array(1) });
    if (used + small.length <= QUOTA) expect(await a.push(small)).toMatchObject({ status: 'acked' });

    const text = await (await fetch(`${t.relay.httpUrl}/metrics`)).text();
    expect(metric(text, 'cloister_storage_bytes')).toBe(await usageOf(t, w.workspaceId));
    expect(metric(text, 'cloister_storage_quota_bytes')).toBe(QUOTA);
    expect(metric(text, 'cloister_storage_workspaces')).toBe(1);
    expect(metric(text, 'cloister_storage_workspaces_near_quota')).toBe(1);
    expect(text).toMatch(/cloister_envelopes_rejected_total\{reason="quota_exceeded"\} 1/);
    a.close();
  });

  it('the refusal says why, in one line', async () => {
    t = await startTestRelay({ limits: { quotaBytes: 1 } });
    const alice = device('alice');
    const w = await publishWorkspace(t.relay, alice);
    const a = await connect(t.relay, alice, [w.workspaceId]);
    const r = await a.push(envelope(alice, { workspaceId: w.workspaceId, seq: 1, leaseId: leaseIdOf(a, w.workspaceId) }));
    expect(r).toMatchObject({ status: 'rejected', reason: 'quota_exceeded' });
    expect((r as { detail: string }).detail).toMatch(/^the workspace's storage quota is full \(\d+ of 1 bytes used\); ask the relay operator for more$/);
    a.close();
  });

  it('held envelopes count toward the quota and are refused past it (policy hold)', async () => {
    const QUOTA = 12_000;
    t = await startTestRelay({ limits: { quotaBytes: QUOTA } });
    const alice = device('alice');
    const w = await publishWorkspace(t.relay, alice, [], { maxOfflineMs: 24 * 3600_000, leasePolicy: 'hold' });
    const a = await connect(t.relay, alice, [w.workspaceId]);
    const outcomes: string[] = [];
    for (let seq = 1; seq <= 6; seq++) {
      const r = await a.push(envelope(alice, { workspaceId: w.workspaceId, seq, leaseId: 'made-up', plaintext: new Uint8Array(3000) }));
      outcomes.push(r.status === 'rejected' ? r.reason : r.status);
      if (r.status === 'rejected') break;
    }
    expect(outcomes.slice(0, -1).every((o) => o === 'held')).toBe(true);
    expect(outcomes.at(-1)).toBe('quota_exceeded');
    expect(await usageOf(t, w.workspaceId)).toBeLessThanOrEqual(QUOTA);
    a.close();
  });

  it('with no quota (0) nothing is refused for size, and near-quota reads 0', async () => {
    t = await startTestRelay({ limits: { quotaBytes: 0 } });
    const alice = device('alice');
    const w = await publishWorkspace(t.relay, alice);
    const a = await connect(t.relay, alice, [w.workspaceId]);
    for (let seq = 1; seq <= 3; seq++)
      expect(await a.push(envelope(alice, { workspaceId: w.workspaceId, seq, leaseId: leaseIdOf(a, w.workspaceId), plaintext: new Uint8Array(10_000) }))).toMatchObject({ status: 'acked' });
    const text = await (await fetch(`${t.relay.httpUrl}/metrics`)).text();
    expect(metric(text, 'cloister_storage_workspaces_near_quota')).toBe(0);
    expect(metric(text, 'cloister_storage_bytes')).toBeGreaterThan(30_000);
    a.close();
  });
});
