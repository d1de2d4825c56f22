// Alice's own envelope coming back from the relay after a crash: her process sealed and pushed it
// (the outbox entry is gone, the cursor says the seq is used) but its Repo never saved the changes.
// Applying the echo must put the changes back, not skip it as a duplicate — or alice's document
// would silently differ from everyone else's forever.
import { describe, expect, it } from 'vitest';
import { MemoryStorageAdapter } from '../../src/docs/storage/MemoryStorageAdapter.ts';
import { FixtureAuthority, makeDevice } from './fixtures.ts';
import { newProfile, openSession } from './sessionFixtures.ts';

describe('own envelopes echoed by the relay', () => {
  it('alice lost the Repo copy of an acknowledged edit in a crash; the echo restores it', async () => {
    const alice = makeDevice('alice');
    const auth = new FixtureAuthority().add(alice);
    const profile = newProfile();
    const a = await openSession(alice, auth, profile, 0);
    const id = await a.records.create({ title: 'router' });
    await a.records.update(id, { title: 'router (rack 4)' });
    const pushed = await a.session.outbox.pending();
    for (const e of pushed) await a.session.outbox.ack(e.docId, e.seq); // the relay acknowledged them all
    await a.session.close();

    // The crash: the state store survived, the Repo's files did not get the changes.
    const b = await openSession(alice, auth, { ...profile, repoStorage: new MemoryStorageAdapter() }, 0);
    expect((await b.records.get(id))?.title).not.toBe('router (rack 4)');
    const report = await b.session.applyRemote(pushed.map(e => e.bytes));
    expect(report.rejected).toEqual([]);
    expect((await b.records.get(id))?.title).toBe('router (rack 4)');
    // Echoes of envelopes whose changes are present stay no-ops.
    const again = await b.session.applyRemote(pushed.map(e => e.bytes));
    expect(again.applied).toEqual([]);
    expect(again.duplicates).toBe(pushed.length);
    await b.session.close();
  });
});
