// Stories about replaying and appending whole chains: a chain is valid throughout or not at all.
import { describe, expect, it } from 'vitest';
import { ByteWriter, randomBytes, utf8 } from '../../../src/crypto/bytes.ts';
import { decodeEntry } from '../../../src/identity/workspace/entry.ts';
import { createWorkspace } from '../../../src/identity/workspace/createWorkspace.ts';
import { appendEntry, logEntries, replayLog } from '../../../src/identity/workspace/log.ts';
import { rotateKey, setPolicy } from '../../../src/identity/workspace/members.ts';
import { members } from '../../../src/identity/workspace/selectors.ts';
import { emptyState } from '../../../src/identity/workspace/state.ts';
import { DAY, NOW, device, keysOf, must, rejects } from './fixtures.ts';
import { teamOfTwo } from './teamOfTwo.ts';

describe('replaying a chain', () => {
  it('a chain replays link by link to the same state', () => {
    const { state } = teamOfTwo();
    const r = replayLog(logEntries(state));
    expect(r.ok && members(r.value)).toEqual(members(state));
    expect(r.ok && r.value.head).toBe(state.head);
  });

  it('garbage anywhere in a chain fails the whole replay, naming the index', () => {
    const { state } = teamOfTwo();
    const log = logEntries(state);
    const r = replayLog([...log.slice(0, 1), randomBytes(40), ...log.slice(1)]);
    expect(r.ok ? 'replayed' : `${r.reason} ${r.detail}`).toMatch(/^entry_[a-z_]+ index 1/);
  });

  it('a chain out of order, or without its create entry, does not replay', () => {
    const { state } = teamOfTwo();
    const r1 = replayLog(logEntries(state).slice(1));
    expect(r1.ok ? 'replayed' : r1.reason).toBe('entry_bad_position');
    const r2 = replayLog([...logEntries(state)].reverse());
    expect(r2.ok ? 'replayed' : r2.reason).not.toBe('replayed');
  });

  it('a format-1 (DAG) entry is refused with its own reason', () => {
    const v1 = new ByteWriter().u8(1).bytes(utf8('{"v":1}')).bytes(new Uint8Array(64)).finish();
    const r = replayLog([v1]);
    expect(r.ok ? 'replayed' : r.reason).toBe('log_format_v1');
    const d = decodeEntry(v1);
    expect(d.ok ? 'decoded' : d.reason).toBe('log_format_v1');
  });

  it('a second create entry cannot be appended to a workspace', () => {
    const { state } = teamOfTwo();
    const other = createWorkspace(device('mallory'), 'Other', { now: NOW, workspaceId: state.workspaceId });
    rejects(state, other.state.applied.get(other.state.order[0]!)!.bytes, 'create_not_first');
  });

  it('an entry of another workspace is refused', () => {
    const { state } = teamOfTwo();
    const other = createWorkspace(device('alice'), 'Other', { now: NOW });
    const foreign = setPolicy(other.state, device('alice'), { maxOfflineMs: 1, leasePolicy: 'hold' }, NOW);
    rejects(state, foreign.bytes, 'entry_wrong_workspace');
  });

  it('an entry built on an older head is stale, and fits once its predecessor is in', () => {
    const { alice, state } = teamOfTwo();
    const first = setPolicy(state, alice, { maxOfflineMs: 1, leasePolicy: 'hold' }, NOW);
    const s1 = must(state, first.bytes);
    const second = setPolicy(s1, alice, { maxOfflineMs: 2, leasePolicy: 'hold' }, NOW);
    rejects(state, second.bytes, 'log_stale');
    const rival = setPolicy(state, alice, { maxOfflineMs: 3, leasePolicy: 'hold' }, NOW);
    rejects(s1, rival.bytes, 'log_stale');
    must(must(state, first.bytes), second.bytes);
  });

  it('an empty state accepts only a create entry', () => {
    const { alice, state } = teamOfTwo();
    rejects(emptyState(state.workspaceId), setPolicy(state, alice, { maxOfflineMs: 1, leasePolicy: 'hold' }, NOW).bytes, 'log_no_root');
    const r = appendEntry(emptyState(''), state.applied.get(state.order[0]!)!.bytes, NOW);
    expect(r.ok && r.value.workspaceId).toBe(state.workspaceId);
  });

  it('a writer cannot rotate the key on their own', () => {
    const { bob, state } = teamOfTwo();
    rejects(state, rotateKey(state, bob, keysOf(state, bob), NOW).entry.bytes, 'entry_not_permitted');
  });

  it('a policy beyond ten years offline is refused', () => {
    const { alice, state } = teamOfTwo();
    rejects(state, setPolicy(state, alice, { maxOfflineMs: 11 * 365 * DAY, leasePolicy: 'hold' }, NOW).bytes, 'policy_invalid');
  });
});
