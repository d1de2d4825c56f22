// The sync status in words (src/app/syncStatusWords.ts) and the tab messages' validation
// (src/app/tabs/tabMessages.ts): people read sentences, never transport errors, and a tab ignores a
// message that does not have the shape it expects.
import { describe, expect, it } from 'vitest';
import { describeSync, factsAfterError, formatLeaseLeft, INITIAL_FACTS, problemCodeOf, statusLine, type SyncFacts } from '../../src/app/syncStatusWords.ts';
import { parseTabMessage } from '../../src/app/tabs/tabMessages.ts';
import { SyncError } from '../../src/docs/sync/syncTypes.ts';
import { RelayRequestError } from '../../src/docs/sync/relayClient.ts';

const HOUR = 3600_000;
const DAY = 24 * HOUR;
const at = (f: Partial<SyncFacts>): SyncFacts => ({ ...INITIAL_FACTS, ...f });
const time = () => '10:42';

describe('sync status words', () => {
  it('online says when it last synced, and nothing about the lease', () => {
    const w = describeSync(at({ connection: 'online', lastSyncedAt: 1, offlineRemainingMs: 6 * DAY }), time);
    expect(statusLine(w)).toBe('Online · synced 10:42');
  });

  it('offline counts queued edits and the offline time left under the lease', () => {
    const w = describeSync(at({ connection: 'offline', queued: 3, offlineRemainingMs: 6 * DAY + 4 * HOUR + 59_000 }), time);
    expect(statusLine(w)).toBe('Offline — 3 edits waiting to be sent · you can keep editing offline for 6 days 4 hours (lease)');
    expect(describeSync(at({ connection: 'offline', queued: 1, offlineRemainingMs: 90_000 })).queued).toBe('1 edit waiting to be sent');
  });

  it('an expired lease says editing waits for the relay', () => {
    const w = describeSync(at({ connection: 'offline', offlineRemainingMs: 0 }));
    expect(w.leaseExpired).toBe(true);
    expect(statusLine(w)).toBe('Offline — nothing waiting to be sent · offline editing time is used up: reconnect to keep editing');
  });

  it('reconnecting and connecting are said as such', () => {
    expect(describeSync(at({ connection: 'reconnecting', queued: 2, offlineRemainingMs: DAY })).headline).toBe('Reconnecting…');
    expect(describeSync(INITIAL_FACTS).headline).toBe('Connecting to the relay…');
  });

  it('quarantined envelopes and damaged records show only when there are any', () => {
    expect(describeSync(at({ connection: 'online' })).quarantined).toBeNull();
    expect(describeSync(at({ connection: 'online', quarantined: 2 })).quarantined).toMatch(/^2 changes set aside \(quarantined\)/);
    expect(describeSync(at({ connection: 'online', damaged: 1 })).damaged).toMatch(/^1 record stored here cannot be read/);
  });

  it('durations read as days and hours, hours and minutes, or minutes', () => {
    expect(formatLeaseLeft(30 * DAY)).toBe('30 days');
    expect(formatLeaseLeft(DAY + HOUR)).toBe('1 day 1 hour');
    expect(formatLeaseLeft(4 * HOUR + 12 * 60_000)).toBe('4 hours 12 minutes');
    expect(formatLeaseLeft(5 * 60_000)).toBe('5 minutes');
    expect(formatLeaseLeft(30_000)).toBe('less than a minute');
  });
});

describe('engine errors become states and sentences, never raw messages', () => {
  it('an unreachable relay is Offline, with no problem text', () => {
    const f = factsAfterError(INITIAL_FACTS, new SyncError('connect_failed', 'cannot reach the relay at ws://x: connect ECONNREFUSED'));
    expect(f).toMatchObject({ connection: 'offline', problem: null });
    expect(factsAfterError(at({ connection: 'online' }), new RelayRequestError('closed', 'connection closed (1006)')).connection).toBe('offline');
  });

  it('a changed relay key stops syncing and is explained, with its code kept', () => {
    const f = factsAfterError(at({ connection: 'online' }), new SyncError('relay_key_mismatch', 'the relay at ws://x presented a different key'));
    expect(f).toMatchObject({ connection: 'stopped', problem: 'relay_key_mismatch' });
    const w = describeSync(f);
    expect(w.problem?.code).toBe('relay_key_mismatch');
    expect(w.problem?.text).not.toMatch(/ws:\/\//);
  });

  it('an unknown error is a generic sentence, not its message', () => {
    expect(problemCodeOf(new Error('TypeError: x is undefined'))).toBe('sync_failed');
    const w = describeSync(factsAfterError(at({ connection: 'online' }), new Error('boom 1006')));
    expect(w.state).toBe('reconnecting');
    expect(statusLine(w) + w.problem?.text).not.toMatch(/boom|1006/);
  });
});

describe('tab messages', () => {
  it('well-formed messages from another tab are accepted', () => {
    expect(parseTabMessage({ t: 'docs', from: 'a1', docIds: ['x', 'y'] })).toEqual({ t: 'docs', from: 'a1', docIds: ['x', 'y'] });
    const applied = [{ docId: 'x', deviceId: 'd1', seq: 3, changes: 1 }];
    expect(parseTabMessage({ t: 'docs', from: 'a1', docIds: ['x'], applied })).toEqual({ t: 'docs', from: 'a1', docIds: ['x'], applied });
    expect(parseTabMessage({ t: 'status', from: 'a1', leaseId: 'L', facts: at({ connection: 'offline', queued: 3 }) })?.t).toBe('status');
  });

  it('anything else is ignored, not thrown', () => {
    for (const bad of [null, 42, 'docs', {}, { t: 'docs', from: 'a1' }, { t: 'docs', from: 'a1', docIds: [1] }, { t: 'docs', from: 'a1', docIds: ['x'], applied: [{ docId: 'x', deviceId: 'd1', seq: -1, changes: 1 }] }, { t: 'launch', from: 'a1' },
      { t: 'status', from: 'a1', leaseId: 'L', facts: { ...INITIAL_FACTS, queued: -1 } }, { t: 'status', from: 'a1', leaseId: 'L', facts: { ...INITIAL_FACTS, connection: 'hacked' } }])
      expect(parseTabMessage(bad)).toBeUndefined();
  });
});
