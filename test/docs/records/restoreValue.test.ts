// "Restore this value" (issue 12): the old value from history becomes an ordinary edit — the title or a
// field assigned again, a field that didn't exist removed, tags put back — and only when it differs
// from what stands now. Summarised notes and the tombstone can't be restored this way.
import { describe, expect, it } from 'vitest';
import { restorePatch } from '../../../src/docs/records/restoreValue.ts';
import { aliceAndBob, exchange, openSession } from '../sessionFixtures.ts';

const { alice, bob, auth, open } = aliceAndBob();

const now = { title: 'Boiler room', fields: { room: 'attic', floor: '2' }, notes: 'n', tags: ['home', 'yearly'] };

describe('restorePatch', () => {
  it('puts back an old title, field value or tags; removes a field that did not exist; nothing when it already stands', () => {
    expect(restorePatch({ path: 'title', old: 'Boiler', new: 'Boiler room' }, now)).toEqual({ title: 'Boiler' });
    expect(restorePatch({ path: 'fields.room', old: 'cellar', new: 'attic' }, now)).toEqual({ fields: { room: 'cellar' } });
    expect(restorePatch({ path: 'fields.floor', new: '2' }, now)).toEqual({ fields: { floor: null } });
    expect(restorePatch({ path: 'tags', old: ['home'], new: ['home', 'yearly'] }, now)).toEqual({ tags: ['home'] });
    expect(restorePatch({ path: 'title', old: 'Boiler room', new: 'x' }, now)).toBeUndefined();
    expect(restorePatch({ path: 'fields.gone', new: 'x' }, now)).toBeUndefined();
    expect(restorePatch({ path: 'title', new: 'Boiler' }, now)).toBeUndefined(); // a record needs a title
  });

  it('summarised notes and the tombstone are not restored from history', () => {
    expect(restorePatch({ path: 'notes', notesDiff: { oldLength: 500, newLength: 1, removed: 'x', added: '' } }, now)).toBeUndefined();
    expect(restorePatch({ path: 'notes', old: 'old notes', new: 'n' }, now)).toEqual({ notes: 'old notes' });
    expect(restorePatch({ path: 'deleted', old: false, new: true }, now)).toBeUndefined();
  });

  it("restoring bob's overwritten value is a new edit by alice that merges and shows in the history", async () => {
    const a = await openSession(alice, auth);
    const b = await openSession(bob, auth);
    open.push(a, b);
    const id = await a.records.create({ title: 'Patient 7', fields: { dose: '2mg' } });
    await exchange(a, b);
    await b.records.update(id, { fields: { dose: '5mg' } });
    await exchange(a, b);
    const change = (await a.records.history(id)).flatMap(e => e.values ?? []).find(v => v.path === 'fields.dose' && v.new === '5mg')!;
    await a.records.update(id, restorePatch(change, (await a.records.get(id))!)!);
    await exchange(a, b);
    expect((await b.records.get(id))!.fields.dose).toBe('2mg');
    const last = (await b.records.history(id)).at(-1)!;
    expect(last).toMatchObject({ verified: true, userId: 'alice', values: [{ path: 'fields.dose', old: '5mg', new: '2mg' }] });
  });
});
