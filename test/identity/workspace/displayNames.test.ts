// Display names in the membership log (DESIGN → Names are private): a member sets their own name with a
// set_name entry sealed for their slot; members holding the epoch key read it, a reader without it
// (the relay) sees none; a box copied from another member's entry opens for no one else; a removed
// member can't rename themselves; a name sealed under an epoch the log lacks is refused.
import { describe, expect, it } from 'vitest';
import { buildIntent, intentSatisfied } from '../../../src/identity/workspace/intents.ts';
import { logEntries, replayLog } from '../../../src/identity/workspace/log.ts';
import { removeMember, setDisplayName } from '../../../src/identity/workspace/members.ts';
import { memberSlot, sealName, withNames } from '../../../src/identity/workspace/names.ts';
import { signEntry } from '../../../src/identity/workspace/signEntry.ts';
import { header } from '../../../src/identity/workspace/buildCommon.ts';
import { NOW, keysOf, must, rejects } from './fixtures.ts';
import { teamOfTwo } from './teamOfTwo.ts';

describe('display names in the log', () => {
  it('a member names themselves; members read the name, a reader without the epoch key does not, and replay agrees', () => {
    const { alice, bob, state: s0 } = teamOfTwo();
    const keys = keysOf(s0, alice);
    const s1 = must(s0, setDisplayName(s0, bob, keys.get(0)!, 'Bob Baker', NOW + 1).bytes);
    expect(withNames(s1, keys).members.get('bob')!.name).toBe('Bob Baker');
    expect(withNames(s1, new Map()).members.get('bob')!.name).toBeUndefined(); // the relay's view
    const s2 = must(s1, setDisplayName(s1, bob, keys.get(0)!, 'Dr Bob Baker', NOW + 2).bytes);
    expect(withNames(s2, keys).members.get('bob')!.name).toBe('Dr Bob Baker'); // the latest one stands
    const replayed = replayLog(logEntries(s2));
    expect(replayed.ok && withNames(replayed.value, keys).members.get('bob')!.name).toBe('Dr Bob Baker');
  });

  it('a name box copied from another member’s entry does not open as the copier’s name', () => {
    const { alice, bob, state: s0 } = teamOfTwo();
    const keys = keysOf(s0, alice);
    const alicesBox = sealName(keys.get(0)!, s0.workspaceId, 0, memberSlot('alice'), 'Alice Admin');
    const s1 = must(s0, signEntry(bob, { ...header(s0, bob, NOW + 1), kind: 'set_name', name: alicesBox }).bytes);
    expect(withNames(s1, keys).members.get('bob')!.name).toBeUndefined();
    expect(withNames(s1, keys).members.get('alice')!.name).toBeUndefined(); // and it names no one else
  });

  it('a removed member can’t rename themselves, and a name under an unknown epoch is refused', () => {
    const { alice, bob, state: s0 } = teamOfTwo();
    const keys = keysOf(s0, alice);
    const unknownEpoch = sealName(keys.get(0)!, s0.workspaceId, 7, memberSlot('bob'), 'Bob');
    rejects(s0, signEntry(bob, { ...header(s0, bob, NOW + 1), kind: 'set_name', name: unknownEpoch }).bytes, 'epoch_unknown');
    const removed = must(s0, removeMember(s0, alice, new Map(keys), 'bob', NOW + 1).entry.bytes);
    rejects(removed, setDisplayName(removed, bob, keys.get(0)!, 'Still Bob', NOW + 2).bytes, 'entry_author_inactive');
  });

  it('a set_name intent is built at the head with the current epoch key, and is never taken as already done', () => {
    const { alice, bob, state } = teamOfTwo();
    const keys = keysOf(state, alice);
    const built = buildIntent(state, bob, keys, { kind: 'set_name', name: 'Bob Baker' }, NOW + 1);
    expect(built.ok).toBe(true);
    expect(intentSatisfied(state, { kind: 'set_name', name: 'Bob Baker' })).toBe(false);
    expect(buildIntent(state, bob, new Map(), { kind: 'set_name', name: 'Bob' }, NOW + 1)).toMatchObject({ ok: false, reason: 'epoch_no_lockbox' });
  });
});

describe('names crafted by a member holding the key', () => {
  it('lose their control and format characters when opened (no terminal escapes, no bidi overrides)', () => {
    const { alice, bob, state: s0 } = teamOfTwo();
    const keys = keysOf(s0, alice);
    const crafted = sealName(keys.get(0)!, s0.workspaceId, 0, memberSlot('bob'), 'Bob\u001b[2J\u202eevil\u0007');
    const s1 = must(s0, signEntry(bob, { ...header(s0, bob, NOW + 1), kind: 'set_name', name: crafted }).bytes);
    expect(withNames(s1, keys).members.get('bob')!.name).toBe('Bob[2Jevil');
  });
});
