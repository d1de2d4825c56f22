// What the web app shows for records others have written (issue 9), rendered to HTML with React's
// server renderer from records made by real sessions: a value two people set at once is marked with
// both values as one-click choices, a damaged record shows what can be read instead of crashing,
// "created by / last changed by" come from verified envelopes, and the trash offers Restore.
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { RecordEditor } from '../../src/app/RecordEditor.tsx';
import { RecordList } from '../../src/app/RecordList.tsx';
import { EncryptedStorageAdapter } from '../../src/docs/storage/EncryptedStorageAdapter.ts';
import type { RecordSummary, RecordView } from '../../src/docs/records/recordTypes.ts';
import { aliceAndBob, exchange, openSession, outboxOf } from '../docs/sessionFixtures.ts';

const { alice, bob, auth, open } = aliceAndBob();

async function shared(input: { title: string; fields?: Record<string, string>; notes?: string }) {
  const a = await openSession(alice, auth);
  const b = await openSession(bob, auth);
  open.push(a, b);
  const id = await a.records.create(input);
  await exchange(a, b);
  return { a, b, id };
}

const noop = async () => undefined;
const editor = (record: RecordView) => renderToStaticMarkup(createElement(RecordEditor, { record, onSave: noop, onDelete: noop, onResolve: noop, onRestore: noop }));
const list = (records: RecordSummary[], trash: RecordSummary[] = [], showTrash = false) =>
  renderToStaticMarkup(createElement(RecordList, { records, trash, showTrash, onSelect: () => undefined, onNew: () => undefined, onToggleTrash: () => undefined, onRestore: () => undefined }));
/** The text of every element carrying data-testid=`id`, in order. */
const texts = (html: string, id: string) => [...html.matchAll(new RegExp(`data-testid="${id}"[^>]*>([^<]*)<`, 'g'))].map((m) => m[1]);

describe('the web app shows conflicts, damage, attribution and the trash', () => {
  it('two people set the dose at once: the field is marked, and both values are one-click choices (the shown one first)', async () => {
    const { a, b, id } = await shared({ title: 'Patient 7', fields: { dose: '2mg', room: '4' } });
    await a.records.update(id, { fields: { dose: '5mg' }, title: 'Patient 7 (ward 3)' });
    await b.records.update(id, { fields: { dose: '10mg' }, title: 'Patient 7 (ward 4)' });
    await exchange(a, b);
    const r = (await a.records.get(id))!;
    const html = editor(r);
    expect(html).toContain('data-testid="conflict-fields.dose"');
    expect(html).toContain('data-testid="conflict-title"');
    expect(html).not.toContain('conflict-fields.room');
    const choices = texts(html, 'conflict-choice');
    expect(choices).toEqual([r.title, ...r.conflicts.title!, r.fields.dose, ...r.conflicts['fields.dose']!]);
    expect(choices.slice(2).sort()).toEqual(['10mg', '5mg']);
    expect(html.match(/aria-invalid="true"/g)).toHaveLength(2); // the title and the dose, not the room
    expect(texts(list(await a.records.list()), 'conflict-badge')).toEqual(['conflict']);
  });

  it('a record whose title is a number and whose tags are a map shows as damaged with what can be read, in the editor and the list', async () => {
    const { a, b, id } = await shared({ title: 'Target', fields: { k: 'v' }, notes: 'still readable' });
    await b.session.change<Record<string, unknown>>(id, (d) => {
      d.title = 42;
      d.tags = { not: 'a list' };
      (d.fields as Record<string, unknown>).bad = ['x'];
    });
    await exchange(a, b);
    const r = (await a.records.get(id))!;
    const html = editor(r);
    expect(html).toContain('data-testid="damaged"');
    for (const part of ['title', 'fields.bad', 'tags']) expect(r.damaged).toContain(part);
    expect(html).toContain(`damaged (${r.damaged!.join(', ')})`);
    expect(html).toContain('still readable');
    expect(html).toContain('value="v"');
    expect(texts(list(await a.records.list()), 'damaged-badge')).toEqual(['damaged']);
    expect(texts(list(await a.records.list()), 'record-item')).toEqual(['(untitled)']);
  });

  it('"created by / last changed by" name the members whose devices signed, whatever the document says', async () => {
    const { a, b, id } = await shared({ title: 'Who' });
    await b.session.change<Record<string, unknown>>(id, (d) => {
      d.updatedBy = 'alice';
      d.createdBy = 'bob';
      d.notes = 'bob wrote this';
    });
    await exchange(a, b);
    expect(texts(editor((await a.records.get(id))!), 'attribution')).toEqual(['Created by alice · last changed by bob']);
  });

  it('a deleted record is in the trash with Restore, and its editor says it is in the trash', async () => {
    const { a, id } = await shared({ title: 'Old visit' });
    await a.records.remove(id);
    expect(await a.records.list()).toEqual([]);
    const trash = await a.records.list({ onlyDeleted: true });
    const html = list([], trash, true);
    expect(texts(html, 'trash-item')).toEqual(['Old visit']);
    expect(texts(html, 'trash-restore')).toEqual(['Restore']);
    expect(texts(list([], trash, false), 'open-trash')).toEqual(['Trash (1)']);
    const shown = editor((await a.records.get(id))!);
    expect(shown).toContain('data-testid="in-trash"');
    expect(shown).toMatch(/data-testid="save"[^>]*disabled/);
  });

  it('a record whose stored bytes no longer load is listed as damaged, and every other record still shows', async () => {
    const a = await openSession(alice, auth);
    const broken = await a.records.create({ title: 'Broken on disk' });
    const fine = await a.records.create({ title: 'Fine', fields: { k: 'v' } });
    await a.records.remove(await a.records.create({ title: 'In the trash' }));
    await a.session.close();
    const disk = await EncryptedStorageAdapter.open(a.profile.repoStorage, a.profile.dataKey);
    if (!disk.ok) throw new Error('storage');
    for (const c of await disk.value.loadRange([broken])) {
      const bad = c.data!.slice();
      bad[bad.length >> 1]! ^= 0xff; // the Automerge bytes inside a validly encrypted chunk
      await disk.value.save(c.key, bad);
    }
    const a2 = await openSession(alice, auth, a.profile);
    open.push(a2);
    const all = await a2.records.list({ includeDeleted: true });
    expect(all.filter((r) => !r.deleted)).toEqual([
      { id: broken, title: '', deleted: false, damaged: true },
      { id: fine, title: 'Fine', deleted: false },
    ]);
    expect(all.filter((r) => r.deleted).map((r) => r.title)).toEqual(['In the trash']);
    const html = list(all.filter((r) => !r.deleted));
    expect(texts(html, 'record-item')).toEqual(['(untitled)', 'Fine']);
    expect(texts(html, 'damaged-badge')).toEqual(['damaged']);
    const shown = editor((await a2.records.get(broken))!);
    expect(shown).toContain('This record is stored here but no longer loads');
    expect(shown).toMatch(/data-testid="save"[^>]*disabled/);
  });
});
