// The membership part of the status (CLI and web app): the fork alarm from the sync state, and the
// offline membership changes from the stored workspace, pending or failed with words for the reason.
import { describe, expect, it } from 'vitest';
import { FORK_ALARM_TEXT, forkAlarm, intentStatuses, membershipSummary } from '../../src/docs/sync/membershipStatus.ts';
import { emptySyncState, type SyncState } from '../../src/docs/sync/syncState.ts';
import type { Intent } from '../../src/identity/workspace/intents.ts';

const pending: Intent = { id: 'p1', createdAt: 0, action: { kind: 'set_role', member: 'u1', role: 'reader' }, status: 'pending' };
const failed: Intent = { id: 'f1', createdAt: 0, action: { kind: 'remove_member', member: 'u2' }, status: 'failed', reason: 'member_already_removed' };
const refused: Intent = { id: 'f2', createdAt: 0, action: { kind: 'rotate_key' }, status: 'failed', reason: 'relay_refused', detail: 'quota' };
const fork = { index: 4, ours: 'a', theirs: 'b', detail: 'two different entries are countersigned for one index', detectedAt: 1000 };

describe('membership status', () => {
  it('describes pending and failed intents, with words for the reason', () => {
    const out = intentStatuses([pending, failed, refused]);
    expect(out.map((i) => [i.id, i.status, i.action])).toEqual([['p1', 'pending', 'set_role'], ['f1', 'failed', 'remove_member'], ['f2', 'failed', 'rotate_key']]);
    expect(out[0]).not.toHaveProperty('reason');
    expect(out[0]!.description).toBe('make u1 reader');
    expect(out[1]!.reasonText).toMatch(/member_already_removed/);
    expect(out[2]!.reasonText).toBe('the relay refused it: quota');
    expect(intentStatuses(undefined)).toEqual([]);
  });

  it('summarizes the fork alarm and the counts from the sync state and the stored workspace', async () => {
    const session = (st: SyncState, intents: Intent[] | undefined) => ({
      syncState: { load: async () => st },
      workspaceStore: { load: async () => (intents ? { intents } : undefined) },
    }) as never;
    expect(await membershipSummary(session(emptySyncState(), undefined))).toEqual({ fork: null, pending: 0, failed: 0 });
    const m = await membershipSummary(session({ ...emptySyncState(), fork }, [pending, failed, refused]));
    expect(m).toEqual({ fork: forkAlarm(fork), pending: 1, failed: 2 });
    expect(m.fork).toMatchObject({ index: 4, detectedAt: '1970-01-01T00:00:01.000Z', syncStopped: true });
    expect(FORK_ALARM_TEXT).toBe("The relay showed this workspace's member list differently to different people. Syncing is stopped to protect your data. Contact your administrator.");
  });
});
