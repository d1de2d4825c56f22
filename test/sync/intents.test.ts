// Offline membership changes (DESIGN → Membership log): two admins make changes while offline; at
// their next sync each change is rebuilt on the relay's current head. One that someone else already
// made is simply in effect; one that is no longer possible is reported with its reason and kept
// visible, never dropped silently.
import { afterAll, describe, expect, it } from 'vitest';
import { loadWorkspace } from '../../src/identity/workspace/store.ts';
import { addIntent, cleanupDirs, createStoredWorkspace, invite, join, makeUser, open, remove, startTestRelay, type User } from './helpers.ts';
import { integrationTimeouts } from '../timeouts.ts';

integrationTimeouts();
afterAll(cleanupDirs);

const intentsOf = (u: User, ws: string) => {
  const w = loadWorkspace(u.home, u.vault.dataKey, ws);
  if (!w.ok) throw new Error(w.reason);
  return (w.value.intents ?? []).map((i) => ({ kind: i.action.kind, status: i.status, reason: i.reason }));
};

describe('offline membership changes', () => {
  it('two admins remove the same member offline: the first lands, the second is already in effect; a role change for the removed member is reported, not dropped', async () => {
    const relay = await startTestRelay();
    const [alice, bob, carol] = await Promise.all([makeUser('alice'), makeUser('bob'), makeUser('carol')]);
    const ws = createStoredWorkspace(alice, 'ward', relay.url);
    const bobCode = invite(alice, ws, 'admin');
    const carolCode = invite(alice, ws, 'writer');
    const a = await open(alice);
    try {
      await a.engine.syncOnce();
      await join(bob, bobCode, relay.url);
      await join(carol, carolCode, relay.url);
      await a.engine.syncOnce();
      const b = await open(bob);
      try {
        await b.engine.syncOnce();
        // Both admins are offline now and act on the same copy of the log.
        remove(alice, ws, carol);
        remove(bob, ws, carol);
        addIntent(bob, ws, { kind: 'set_role', member: carol.vault.userId, role: 'admin' });
        expect(intentsOf(bob, ws)).toEqual([
          { kind: 'remove_member', status: 'pending', reason: undefined },
          { kind: 'set_role', status: 'pending', reason: undefined },
        ]);

        const sa = await a.engine.syncOnce();
        expect(sa.logSent).toBe(1);
        expect(intentsOf(alice, ws)).toEqual([]);
        const removedAt = a.s.live.state.order.length - 1;

        const sb = await b.engine.syncOnce();
        expect(sb.logSent).toBe(0); // the removal was already in effect: nothing appended twice
        expect(sb.logRejected).toEqual({ member_unknown: 1 });
        expect(intentsOf(bob, ws)).toEqual([{ kind: 'set_role', status: 'failed', reason: 'member_unknown' }]);
        expect(b.s.live.state.order.length - 1).toBe(removedAt);
        expect(b.s.live.state.members.get(carol.vault.userId)?.removed).toBe(true);
        expect(b.s.live.state.head).toBe(a.s.live.state.head);
      } finally {
        await b.close();
      }
    } finally {
      await a.close();
      await relay.close();
    }
  });
});
