// Stories about replaying and appending whole logs: garbage is skipped, structure is enforced.
import { describe, expect, it } from 'vitest';
import { randomBytes } from '../../../src/crypto/bytes.ts';
import { createWorkspace } from '../../../src/identity/workspace/createWorkspace.ts';
import { appendEntry, logEntries, replayLog } from '../../../src/identity/workspace/log.ts';
import { rotateKey, setPolicy } from '../../../src/identity/workspace/members.ts';
import { members } from '../../../src/identity/workspace/selectors.ts';
import { emptyState } from '../../../src/identity/workspace/state.ts';
import { DAY, NOW, device, keysOf, must, rejects } from './fixtures.ts';
import { teamOfTwo } from './teamOfTwo.ts';

describe('replaying a log', () => {
  it('garbage mixed into a log is skipped and the rest replays to the same state', () => {
    const { state } = teamOfTwo();
    const log = logEntries(state);
    const r = replayLog([randomBytes(10), ...log.reverse(), new Uint8Array(), randomBytes(300)], NOW);
    expect(r.ok && members(r.value)).toEqual(members(state));
  });

  it('a log without a create entry, or with two, does not replay', () => {
    const { state } = teamOfTwo();
    const r1 = replayLog(logEntries(state).slice(1), NOW);
    expect(r1.ok ? 'replayed' : r1.reason).toBe('log_no_root');
    const other = createWorkspace(device('mallory'), 'Other', { now: NOW, workspaceId: state.workspaceId });
    const r2 = replayLog([...logEntries(state), ...other.entries], NOW);
    expect(r2.ok ? 'replayed' : r2.reason).toBe('log_multiple_roots');
  });

  it('a second create entry cannot be appended to a workspace', () => {
    const { state } = teamOfTwo();
    const other = createWorkspace(device('mallory'), 'Other', { now: NOW, workspaceId: state.workspaceId });
    rejects(state, other.entries[0]!, 'create_not_first');
  });

  it('an entry of another workspace is refused', () => {
    const { state } = teamOfTwo();
    const other = createWorkspace(device('alice'), 'Other', { now: NOW });
    const foreign = setPolicy(other.state, device('alice'), { maxOfflineMs: 1, leasePolicy: 'hold' }, NOW);
    rejects(state, foreign.bytes, 'entry_wrong_workspace');
  });

  it('an entry whose parent never arrived is refused until it does', () => {
    const { alice, state } = teamOfTwo();
    const first = setPolicy(state, alice, { maxOfflineMs: 1, leasePolicy: 'hold' }, NOW);
    const s1 = must(state, first.bytes);
    const second = setPolicy(s1, alice, { maxOfflineMs: 2, leasePolicy: 'hold' }, NOW);
    rejects(state, second.bytes, 'entry_missing_parent');
    must(must(state, first.bytes), second.bytes);
  });

  it('an empty state accepts only a create entry', () => {
    const { alice, state } = teamOfTwo();
    rejects(emptyState(state.workspaceId), setPolicy(state, alice, { maxOfflineMs: 1, leasePolicy: 'hold' }, NOW).bytes, 'log_no_root');
    const r = appendEntry(emptyState(''), logEntries(state)[0]!, NOW);
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
