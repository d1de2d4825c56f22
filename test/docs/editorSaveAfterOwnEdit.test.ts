// An editor saves against the heads it showed (RecordStore.update with baseHeads). When the same
// session changed the record after the form opened (a one-click resolve, a field set elsewhere),
// Automerge 3.5's changeAt can't extend the session's actor from the old heads and makes the change
// under another actor. DocSession seals only its own actor's changes, so that save never leaves the
// device, and every later edit of the record depends on it: the others hold them for a dependency
// that never comes. Found by recordModel.property.test.ts (the `save` command).
import { afterEach, describe, expect, it } from 'vitest';
import { FixtureAuthority, makeDevice } from './fixtures.ts';
import { exchange, openSession, outboxOf } from './sessionFixtures.ts';

const alice = makeDevice('alice');
const bob = makeDevice('bob');
const auth = new FixtureAuthority().add(alice).add(bob);
type S = Awaited<ReturnType<typeof openSession>>;
const open: S[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.session.close();
});

describe('an editor saves after its user changed the same record elsewhere', () => {
  it('alice sets the room while her form is open, then saves the form: bob gets her save and the note she types next', async () => {
    const a = await openSession(alice, auth);
    const b = await openSession(bob, auth);
    open.push(a, b);
    const id = await a.records.create({ title: 'Patient 7', fields: { dose: '2mg', room: '4' } });
    await exchange(a, b);

    const form = (await a.records.get(id))!; // alice's form opens
    await a.records.update(id, { fields: { room: '5' } }); // she sets the room elsewhere in the app (or resolves a conflict)
    await a.records.update(id, { fields: { dose: '5mg' } }, { baseHeads: form.heads }); // and saves the form
    await a.records.spliceNotes(id, 0, 0, 'pharmacy confirmed'); // then types a note
    await exchange(a, b);

    expect(await b.records.get(id)).toMatchObject({ fields: { dose: '5mg', room: '5' }, notes: 'pharmacy confirmed' });
    expect((await b.records.get(id))!.heads.sort()).toEqual((await a.records.get(id))!.heads.sort());
  });
});
