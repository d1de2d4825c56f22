// A record's history with values (issue 12): each change group shows, per path it changed, the value
// its author saw before and the value after, with the verified author; concurrent edits each show
// against what their own author saw; changes no verified envelope covers are flagged unverified.
import { afterEach, describe, expect, it } from 'vitest';
import type { HistoryEntry } from '../../../src/docs/records/recordTypes.ts';
import { FixtureAuthority, makeDevice } from '../fixtures.ts';
import { exchange, openSession } from '../sessionFixtures.ts';

const alice = makeDevice('alice');
const bob = makeDevice('bob');
const auth = new FixtureAuthority().add(alice).add(bob);
type S = Awaited<ReturnType<typeof openSession>>;
const open: S[] = [];
async function session(device = alice): Promise<S> {
  const s = await openSession(device, auth);
  open.push(s);
  return s;
}
afterEach(async () => {
  for (const s of open.splice(0)) await s.session.close();
});

const valueAt = (h: HistoryEntry[], path: string) => h.flatMap(e => (e.values ?? []).filter(v => v.path === path).map(v => ({ who: e.userId ?? `actor ${e.actor}`, old: v.old, new: v.new })));

describe('history with values', () => {
  it('shows the old and new title, field and tags of each edit, by the member who signed it', async () => {
    const a = await session(alice);
    const b = await session(bob);
    const id = await a.records.create({ title: 'Boiler', fields: { room: 'cellar' }, tags: ['home'] });
    await exchange(a, b);
    await b.records.update(id, { title: 'Boiler room', fields: { room: 'attic', floor: '2' }, tags: ['home', 'yearly'] });
    await exchange(a, b);
    const h = await a.records.history(id);
    expect(h.every(e => e.verified)).toBe(true);
    expect(valueAt(h, 'title')).toEqual([{ who: 'alice', old: undefined, new: 'Boiler' }, { who: 'bob', old: 'Boiler', new: 'Boiler room' }]);
    expect(valueAt(h, 'fields.room')).toEqual([{ who: 'alice', old: undefined, new: 'cellar' }, { who: 'bob', old: 'cellar', new: 'attic' }]);
    expect(valueAt(h, 'fields.floor')).toEqual([{ who: 'bob', old: undefined, new: '2' }]);
    expect(valueAt(h, 'tags')).toEqual([{ who: 'alice', old: [], new: ['home'] }, { who: 'bob', old: ['home'], new: ['home', 'yearly'] }]);
    // Internal keys never appear as values.
    expect(h.flatMap(e => e.values ?? []).map(v => v.path).filter(p => !/^(title|notes|tags|deleted|fields\..+)$/.test(p))).toEqual([]);
  });

  it('a removed field, a delete and a restore show as old → new', async () => {
    const a = await session(alice);
    const id = await a.records.create({ title: 'Visit', fields: { dose: '2mg' } });
    await a.records.update(id, { fields: { dose: null } });
    await a.records.remove(id);
    await a.records.restore(id);
    const h = await a.records.history(id);
    expect(valueAt(h, 'fields.dose')).toEqual([{ who: 'alice', old: undefined, new: '2mg' }, { who: 'alice', old: '2mg', new: undefined }]);
    expect(valueAt(h, 'deleted')).toEqual([{ who: 'alice', old: false, new: true }, { who: 'alice', old: true, new: false }]);
  });

  it('concurrent edits of one field each show the value their author saw, not each other', async () => {
    const a = await session(alice);
    const b = await session(bob);
    const id = await a.records.create({ title: 'Patient 7', fields: { dose: '2mg' } });
    await exchange(a, b);
    await a.records.update(id, { fields: { dose: '5mg' } });
    await b.records.update(id, { fields: { dose: '10mg' } });
    await exchange(a, b);
    const h = await b.records.history(id);
    const dose = valueAt(h, 'fields.dose').slice(1).sort((x, y) => x.who.localeCompare(y.who));
    expect(dose).toEqual([{ who: 'alice', old: '2mg', new: '5mg' }, { who: 'bob', old: '2mg', new: '10mg' }]);
    expect(Object.keys((await b.records.get(id))!.conflicts)).toEqual(['fields.dose']);
  });

  it('changes no verified envelope covers are flagged unverified, with their values', async () => {
    const a = await session(alice);
    const b = await session(bob);
    const id = await a.records.create({ title: 'Ledger' });
    await exchange(a, b);
    await b.records.update(id, { title: 'Ledger (forged?)' });
    await exchange(a, b);
    // Alice loses the provenance of bob's envelope: his change is still in the document, unattributed.
    for (const p of await a.session.provenance.list(id)) if (p.userId === 'bob') await a.session.provenance.remove(id, p.envelopeHash);
    const h = await a.records.history(id);
    const unverified = h.filter(e => !e.verified);
    expect(unverified).toHaveLength(1);
    expect(unverified[0]!.userId).toBeUndefined();
    expect(unverified[0]!.values).toEqual([{ path: 'title', old: 'Ledger', new: 'Ledger (forged?)' }]);
  });

  it('long notes are summarised as lengths and what was added, short ones shown whole', async () => {
    const a = await session(alice);
    const long = 'x'.repeat(500);
    const id = await a.records.create({ title: 'Notes', notes: 'short' });
    await a.records.update(id, { notes: 'short, longer' });
    await a.records.update(id, { notes: `short, longer ${long}` });
    const notes = (await a.records.history(id)).flatMap(e => (e.values ?? []).filter(v => v.path === 'notes'));
    expect(notes[0]).toEqual({ path: 'notes', old: '', new: 'short' });
    expect(notes[1]).toEqual({ path: 'notes', old: 'short', new: 'short, longer' });
    expect(notes[2]).toMatchObject({ path: 'notes', notesDiff: { oldLength: 13, newLength: 514, removed: '' } });
    expect(notes[2]!.notesDiff!.added).toBe(` ${'x'.repeat(79)}`);
    expect(notes[2]!.old).toBeUndefined();
  });

  it('a member who writes a number as the title and a map as the tags cannot break the history', async () => {
    const a = await session(alice);
    const b = await session(bob);
    const id = await a.records.create({ title: 'Target', tags: ['x'] });
    await exchange(a, b);
    await b.session.change<Record<string, unknown>>(id, d => {
      d.title = 42;
      d.tags = { not: 'a list' };
      d.updatedBy = 'alice';
    });
    await exchange(a, b);
    const h = await a.records.history(id);
    expect(h.at(-1)).toMatchObject({ verified: true, userId: 'bob', values: [{ path: 'title', old: 'Target', new: '' }, { path: 'tags', old: ['x'], new: [] }] });
  });
});
