// Removal and accepted edits: carol's last edit reaches the relay, then alice (who had not pulled it
// yet) removes her. Alice and bob, pulling after the removal, still apply the edit the relay accepted
// while carol was a member, so nobody diverges; what carol writes afterwards is refused by the relay.
import { afterAll, describe, expect, it } from 'vitest';
import { cleanupDirs, createStoredWorkspace, invite, join, makeUser, open, remove, startTestRelay } from './helpers.ts';
import { integrationTimeouts } from '../timeouts.ts';

integrationTimeouts();

afterAll(cleanupDirs);

describe('removing a member', () => {
  it('keeps the edits the relay accepted before the removal, for readers who pull them afterwards', async () => {
    const relay = await startTestRelay();
    const [alice, bob, carol] = await Promise.all([makeUser('alice'), makeUser('bob'), makeUser('carol')]);
    const ws = createStoredWorkspace(alice, 'team', relay.url);
    const bobCode = invite(alice, ws, 'writer');
    const carolCode = invite(alice, ws, 'writer');
    const a = await open(alice);
    try {
      await a.engine.syncOnce();
      await join(bob, bobCode, relay.url);
      await join(carol, carolCode, relay.url);
      await a.engine.syncOnce(); // alice knows both joined
      const c = await open(carol);
      let id: string;
      try {
        await c.engine.syncOnce();
        id = await c.s.records.create({ title: "carol's last words", notes: 'handover notes' });
        expect((await c.engine.syncOnce()).acked).toBeGreaterThan(0);
        remove(alice, ws, carol); // alice removes carol before pulling her edit
        const s = await a.engine.syncOnce();
        expect(s.quarantinedRemote).toEqual({});
        expect((await a.s.records.get(id))?.notes).toBe('handover notes');

        await c.s.records.update(id, { notes: 'written after removal' });
        const refused = await c.engine.syncOnce();
        expect(refused.rejected).toEqual({ not_a_member: 1 });
      } finally {
        await c.close();
      }
      const b = await open(bob);
      try {
        const s = await b.engine.syncOnce(); // bob learns the removal and pulls carol's edit afterwards
        expect(s.quarantinedRemote).toEqual({});
        expect((await b.s.records.get(id))?.notes).toBe('handover notes');
        expect(b.s.live.epoch).toBe(1);
      } finally {
        await b.close();
      }
    } finally {
      await a.close();
      await relay.close();
    }
  });
});
