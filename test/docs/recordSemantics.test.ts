// What people see when colleagues edit the same record offline (DESIGN → Documents, normative):
// registers never show a value nobody typed, the list agrees with the record, delete is a tombstone
// with a trash, attribution comes from verified envelopes, and a damaged record is shown as damaged.
import { afterEach, describe, expect, it } from 'vitest';
import { FixtureAuthority, makeDevice } from './fixtures.ts';
import { DamagedDocumentError } from '../../src/docs/DamagedDocumentError.ts';
import { EncryptedStorageAdapter } from '../../src/docs/storage/EncryptedStorageAdapter.ts';
import { exchange, openSession, outboxOf } from './sessionFixtures.ts';

const alice = makeDevice('alice');
const bob = makeDevice('bob');
const carol = makeDevice('carol');
const auth = new FixtureAuthority().add(alice).add(bob).add(carol);
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

/** Alice creates a record and Bob receives it; both then go offline. */
async function shared(input: Parameters<S['records']['create']>[0]) {
  const a = await session(alice);
  const b = await session(bob);
  const id = await a.records.create(input);
  await exchange(a, b);
  return { a, b, id };
}

describe('registers: two people set the same value offline', () => {
  for (const [field, from, x, y] of [
    ['dose', '2mg', '5mg', '10mg'],
    ['room', '4', '6', '5'],
    ['host', '10.0.0.1', '10.0.0.2', '192.168.1.9'],
  ] as const) {
    it(`two people set the ${field} at once: one value shows, the other is a visible conflict (never a mix)`, async () => {
      const { a, b, id } = await shared({ title: 'Patient 7', fields: { [field]: from } });
      await a.records.update(id, { fields: { [field]: x } });
      await b.records.update(id, { fields: { [field]: y } });
      await exchange(a, b);
      const ra = (await a.records.get(id))!;
      const rb = (await b.records.get(id))!;
      expect([x, y]).toContain(ra.fields[field]);
      expect(rb.fields[field]).toBe(ra.fields[field]);
      const loser = ra.fields[field] === x ? y : x;
      expect(ra.conflicts).toEqual({ [`fields.${field}`]: [loser] });
      expect(rb.conflicts).toEqual(ra.conflicts);
      expect((await a.records.list())[0]).toMatchObject({ id, conflicted: true });
    });
  }

  it('two people rename a record at once: the list and the record show the same title, the other is a conflict', async () => {
    const { a, b, id } = await shared({ title: 'server' });
    await a.records.update(id, { title: 'web server' });
    await b.records.update(id, { title: 'db server' });
    await exchange(a, b);
    for (const s of [a, b]) {
      const r = (await s.records.get(id))!;
      expect(['web server', 'db server']).toContain(r.title);
      expect(r.conflicts.title).toEqual([r.title === 'web server' ? 'db server' : 'web server']);
      expect(await s.records.list()).toEqual([{ id, title: r.title, deleted: false, conflicted: true }]);
    }
    expect((await a.records.get(id))!.title).toBe((await b.records.get(id))!.title);
  });

  it('resolving assigns the value that stands: the conflict is gone on every replica', async () => {
    const { a, b, id } = await shared({ title: 'T', fields: { dose: '2mg' } });
    await a.records.update(id, { fields: { dose: '5mg' } });
    await b.records.update(id, { fields: { dose: '10mg' } });
    await exchange(a, b);
    await b.records.resolve(id, { fields: { dose: '5mg' } });
    await exchange(a, b);
    for (const s of [a, b]) expect(await s.records.get(id)).toMatchObject({ fields: { dose: '5mg' }, conflicts: {} });
  });

  it('the same value typed by both is no conflict', async () => {
    const { a, b, id } = await shared({ title: 'T', fields: { dose: '2mg' } });
    await a.records.update(id, { fields: { dose: '5mg' } });
    await b.records.update(id, { fields: { dose: '5mg' } });
    await exchange(a, b);
    expect(await a.records.get(id)).toMatchObject({ fields: { dose: '5mg' }, conflicts: {} });
  });

  it('an editor that saves against what it showed turns a value set meanwhile into a conflict, and merges notes', async () => {
    const { a, b, id } = await shared({ title: 'T', fields: { dose: '2mg' }, notes: 'line one\n' });
    const shown = (await a.records.get(id))!; // alice's form opens
    await b.records.update(id, { fields: { dose: '10mg' }, notes: 'line one\npharmacy confirmed\n' });
    await exchange(a, b); // bob's save arrives while alice types
    await a.records.update(id, { fields: { dose: '5mg' }, notes: 'dr. says: line one\n' }, { baseHeads: shown.heads });
    await exchange(a, b);
    for (const s of [a, b]) {
      const r = (await s.records.get(id))!;
      expect(r.notes).toBe('dr. says: line one\npharmacy confirmed\n');
      expect(Object.keys(r.conflicts)).toEqual(['fields.dose']);
      expect([r.fields.dose, ...r.conflicts['fields.dose']!].sort()).toEqual(['10mg', '5mg']);
    }
  });
});

describe('delete, trash and restore', () => {
  it('a deleted record never comes back in the list, even when renamed by someone who had it before its index entry', async () => {
    const a = await session(alice);
    const b = await session(bob);
    const c = await session(carol);
    const id = await a.records.create({ title: 'Old title' });
    // Bob receives the record but not the index; he renames it. Carol deletes it.
    const fromAlice = await outboxOf(a);
    const indexOnly = (await a.session.outbox.pending()).filter(e => e.docId === a.records.indexId).map(e => e.bytes);
    await b.session.applyRemote(fromAlice.filter(e => !indexOnly.includes(e)));
    await c.session.applyRemote(fromAlice);
    await b.records.update(id, { title: 'New title' });
    await c.records.remove(id);
    await exchange(a, b, c);
    for (const s of [a, b, c]) {
      expect(await s.records.list()).toEqual([]);
      expect(await s.records.list({ onlyDeleted: true })).toEqual([{ id, title: 'New title', deleted: true }]);
    }
  });

  it('an edit made while someone else deleted the record stays inside it and comes back with restore', async () => {
    const { a, b, id } = await shared({ title: 'Visit', fields: { room: '4' } });
    await a.records.remove(id);
    await b.records.update(id, { fields: { room: '5' }, notes: 'moved' });
    await exchange(a, b);
    expect((await b.records.get(id))!.deleted).toBe(true);
    await expect(b.records.update(id, { notes: 'x' })).rejects.toMatchObject({ code: 'record_deleted' });
    await b.records.restore(id);
    await exchange(a, b);
    for (const s of [a, b]) expect(await s.records.get(id)).toMatchObject({ deleted: false, fields: { room: '5' }, notes: 'moved' });
    await expect(a.records.restore(id)).rejects.toMatchObject({ code: 'record_not_deleted' });
  });

  it('a delete concurrent with a restore wins', async () => {
    const { a, b, id } = await shared({ title: 'Visit' });
    await a.records.remove(id);
    await exchange(a, b);
    await a.records.restore(id);
    await a.records.remove(id);
    await b.records.restore(id);
    await exchange(a, b);
    for (const s of [a, b]) expect((await s.records.get(id))!.deleted).toBe(true);
  });
});

describe('attribution and damaged records', () => {
  it('"updated by" names the member whose device signed the change, whatever the document says', async () => {
    const { a, b, id } = await shared({ title: 'Who' });
    // Bob's edit also writes an `updatedBy: "alice"` field into the document.
    await b.session.change<Record<string, unknown>>(id, d => {
      d.updatedBy = 'alice';
      d.notes = 'bob wrote this';
    });
    await exchange(a, b);
    const r = (await a.records.get(id))!;
    expect(r.createdBy).toMatchObject({ userId: 'alice', deviceId: alice.deviceId });
    expect(r.updatedBy.map(x => x.userId)).toEqual(['bob']);
    // After concurrent edits, both authors are named.
    await a.records.update(id, { fields: { x: '1' } });
    await b.records.update(id, { fields: { y: '2' } });
    await exchange(a, b);
    expect((await b.records.get(id))!.updatedBy.map(x => x.userId).sort()).toEqual(['alice', 'bob']);
  });

  it('tags written as a map and fields as a list show the record as damaged instead of crashing show and list', async () => {
    const { a, b, id } = await shared({ title: 'Target', fields: { k: 'v' }, tags: ['t'] });
    await b.session.change<Record<string, unknown>>(id, d => {
      d.tags = { not: 'a list' };
      d.fields = ['not', 'a', 'map'];
      d.deleted = 'maybe';
    });
    await exchange(a, b);
    const r = (await a.records.get(id))!;
    expect(r).toMatchObject({ title: 'Target', tags: [], fields: {}, deleted: false });
    expect(r.damaged).toEqual(expect.arrayContaining(['tags', 'fields', 'deleted']));
    expect(await a.records.list()).toEqual([{ id, title: 'Target', deleted: false, damaged: true }]);
    // Editing a field repairs the shape.
    await a.records.update(id, { fields: { k: 'again' } });
    expect((await a.records.get(id))!.fields).toEqual({ k: 'again' });
  });

  it('a title made of text, a number or nothing is shown as damaged, and the index ignores junk keys', async () => {
    const { a, b, id } = await shared({ title: 'Target' });
    await b.session.change<Record<string, unknown>>(id, d => {
      d.title = 42;
    });
    await b.session.change<Record<string, unknown>>(b.records.indexId, d => {
      d['not a doc id'] = { title: 'ghost' };
    });
    await exchange(a, b);
    expect(await a.records.list()).toEqual([{ id, title: '', deleted: false, damaged: true }]);
    expect((await a.records.get(id))!.damaged).toEqual(['title']);
  });

  it('a record whose stored bytes no longer load is listed and shown as damaged, the others still show, and edits to it are refused', async () => {
    const a = await openSession(alice, auth);
    const broken = await a.records.create({ title: 'Bed 4', fields: { dose: '2mg' } });
    const fine = await a.records.create({ title: 'Bed 5' });
    await a.session.close();
    const disk = await EncryptedStorageAdapter.open(a.profile.repoStorage, a.profile.dataKey);
    if (!disk.ok) throw new Error('storage');
    for (const c of await disk.value.loadRange([broken])) {
      const bad = c.data!.slice();
      bad[bad.length >> 1]! ^= 0xff;
      await disk.value.save(c.key, bad);
    }
    const again = await openSession(alice, auth, a.profile);
    open.push(again);
    expect(await again.records.list()).toEqual([
      { id: broken, title: '', deleted: false, damaged: true },
      { id: fine, title: 'Bed 5', deleted: false },
    ]);
    expect(await again.records.get(broken)).toMatchObject({ id: broken, damaged: ['document: document_unreadable'], fields: {} });
    await expect(again.records.update(broken, { title: 'x' })).rejects.toBeInstanceOf(DamagedDocumentError);
  });
});
