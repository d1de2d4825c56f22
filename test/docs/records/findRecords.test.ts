// Finding records on this device (issue 12): every word of a query must appear somewhere in the record
// (title, field keys and values, notes, tags), ignoring case and accents; a tag filter; sorting by
// title, by the claimed time of the latest verified change, and by that change's author.
import { describe, expect, it } from 'vitest';
import { findRecords, normalizeForSearch, searchTextOf, tagsIn } from '../../../src/docs/records/findRecords.ts';
import type { RecordSummary } from '../../../src/docs/records/recordTypes.ts';
import { aliceAndBob, exchange, openSession } from '../sessionFixtures.ts';

const { alice, bob, auth, open } = aliceAndBob();

const summary = (id: string, r: { title: string; fields?: Record<string, string>; notes?: string; tags?: string[] }, more: Partial<RecordSummary> = {}): RecordSummary => ({
  id, title: r.title, deleted: false, tags: r.tags ?? [],
  searchText: searchTextOf({ title: r.title, fields: r.fields ?? {}, notes: r.notes ?? '', tags: r.tags ?? [] }), ...more,
});

const records = [
  summary('1', { title: 'Zoë Martin', fields: { allergy: 'Pénicilline' }, tags: ['Ward 3'] }, { updatedAt: 3000, updatedBy: 'u-bob' }),
  summary('2', { title: 'Anna Kovač', fields: { room: '12' }, notes: 'Seen by the night nurse', tags: ['ward 4', 'urgent'] }, { updatedAt: 1000, updatedBy: 'u-alice' }),
  summary('3', { title: 'Émile Durand', fields: { 'blood type': 'O+' }, tags: ['ward 3'] }, { updatedAt: 2000 }),
];
const ids = (rs: RecordSummary[]) => rs.map(r => r.id);

describe('findRecords', () => {
  it('finds a record by a field value, ignoring case and accents, in either direction', () => {
    expect(ids(findRecords(records, { query: 'penicilline' }))).toEqual(['1']);
    expect(ids(findRecords(records, { query: 'PÉNICILLINE' }))).toEqual(['1']);
    expect(ids(findRecords(records, { query: 'emile' }))).toEqual(['3']);
    expect(ids(findRecords(records, { query: 'kovac' }))).toEqual(['2']);
    expect(normalizeForSearch('  Zoë\tMARTIN ')).toBe('zoe martin');
  });

  it('every word must match, anywhere: field keys, notes and tags count', () => {
    expect(ids(findRecords(records, { query: 'night anna' }))).toEqual(['2']);
    expect(ids(findRecords(records, { query: 'night zoe' }))).toEqual([]);
    expect(ids(findRecords(records, { query: 'blood' }))).toEqual(['3']);
    expect(ids(findRecords(records, { query: 'urgent' }))).toEqual(['2']);
    expect(ids(findRecords(records, { query: '   ' }))).toEqual(['2', '3', '1']);
  });

  it('filters by tag, with the tag compared like the query', () => {
    expect(ids(findRecords(records, { tag: 'ward 3' }))).toEqual(['3', '1']);
    expect(ids(findRecords(records, { tag: 'WARD 3', query: 'zoe' }))).toEqual(['1']);
    expect(ids(findRecords(records, { tag: 'ward' }))).toEqual([]);
    expect(tagsIn(records)).toEqual(['urgent', 'Ward 3', 'ward 4']);
  });

  it('sorts by title, by newest verified change, and by author name (unattributed last)', () => {
    expect(ids(findRecords(records, { sort: 'title' }))).toEqual(['2', '3', '1']);
    expect(ids(findRecords(records, { sort: 'updated' }))).toEqual(['1', '3', '2']);
    expect(ids(findRecords(records, { sort: 'author' }))).toEqual(['2', '1', '3']);
    const names: Record<string, string> = { 'u-bob': 'Aaron', 'u-alice': 'Zelda' };
    expect(ids(findRecords(records, { sort: 'author', nameOf: id => names[id] }))).toEqual(['1', '2', '3']);
  });

  it('a summary listed without details is searched by its title only, and never throws', () => {
    const plain: RecordSummary[] = [{ id: 'a', title: 'Boiler', deleted: false }, { id: 'b', title: '', deleted: false }];
    expect(ids(findRecords(plain, { query: 'boil', sort: 'updated' }))).toEqual(['a']);
    expect(ids(findRecords(plain, { tag: 'x' }))).toEqual([]);
  });

  it('RecordStore.list({ details: true }) gives tags, the latest verified change and a search text findRecords uses', async () => {
    const a = await openSession(alice, auth);
    const b = await openSession(bob, auth);
    open.push(a, b);
    const first = await a.records.create({ title: 'Boiler', fields: { room: 'Cellar' }, tags: ['home'] });
    const second = await a.records.create({ title: 'Attic', notes: 'Wasp nest near the hatch' });
    await exchange(a, b);
    await b.records.update(first, { fields: { room: 'Cave à vin' } });
    await exchange(a, b);
    const listed = await a.records.list({ details: true });
    const one = listed.find(r => r.id === first)!;
    expect(one).toMatchObject({ tags: ['home'], updatedBy: 'bob' });
    expect(typeof one.updatedAt).toBe('number');
    expect(listed.find(r => r.id === second)).toMatchObject({ tags: [], updatedBy: 'alice' });
    expect(ids(findRecords(listed, { query: 'cave a VIN' }))).toEqual([first]);
    expect(ids(findRecords(listed, { query: 'wasp' }))).toEqual([second]);
    expect(ids(findRecords(listed, { tag: 'home' }))).toEqual([first]);
    // Without details the summaries keep their old shape (the CLI's JSON and other callers rely on it).
    expect(await a.records.list()).toEqual([{ id: second, title: 'Attic', deleted: false }, { id: first, title: 'Boiler', deleted: false }]);
  });
});
