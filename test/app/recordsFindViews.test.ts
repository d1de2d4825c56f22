// What the records views show for find, drafts, trash and names (issue 12), rendered to HTML with
// React's server renderer: the find controls, the trash naming who deleted each record, a draft kept
// from earlier in the session shown as it was left with its "Draft — not saved" mark, and display
// names (with the id's start) wherever a person appears.
import { createElement } from 'react';
import { renderToStaticMarkup } from 'react-dom/server';
import { afterEach, describe, expect, it } from 'vitest';
import { RecordEditor, type EditorDraft } from '../../src/app/RecordEditor.tsx';
import { RecordList } from '../../src/app/RecordList.tsx';
import { personLabel } from '../../src/docs/records/personLabel.ts';
import type { RecordSummary } from '../../src/docs/records/recordTypes.ts';
import { FixtureAuthority, makeDevice } from '../docs/fixtures.ts';
import { exchange, openSession } from '../docs/sessionFixtures.ts';

const alice = makeDevice('alice', 'alice-user-id');
const bob = makeDevice('bob', 'bob-user-id');
const auth = new FixtureAuthority().add(alice).add(bob);
type S = Awaited<ReturnType<typeof openSession>>;
const open: S[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.session.close();
});

const names: Record<string, string> = { 'alice-user-id': 'Alice Martin', 'bob-user-id': 'Bob Chen' };
const nameOf = (id: string) => names[id];
const noop = async () => undefined;
const texts = (html: string, id: string) => [...html.matchAll(new RegExp(`data-testid="${id}"[^>]*>([^<]*)<`, 'g'))].map((m) => m[1]);
const list = (p: Partial<Parameters<typeof RecordList>[0]>) =>
  renderToStaticMarkup(createElement(RecordList, { records: [], trash: [], showTrash: false, onSelect: () => undefined, onNew: () => undefined, onToggleTrash: () => undefined, onRestore: () => undefined, ...p }));

describe('records views: find, trash, drafts and names', () => {
  it('a person is shown by display name with the start of their id, or by id alone; control characters never reach the screen', () => {
    expect(personLabel('alice-user-id', nameOf)).toBe('Alice Martin (alice-)');
    expect(personLabel('carol-user-id', nameOf)).toBe('carol-user-id');
    expect(personLabel('x', () => '\u202eevil\u0007 ')).toBe('evil (x)');
    expect(personLabel('x', () => { throw new Error('resolver broke'); })).toBe('x');
  });

  it('the list offers search, a tag filter of the tags in use and the sorts; sorted by last change it says when and by whom', () => {
    const records: RecordSummary[] = [{ id: 'r1', title: 'Boiler', deleted: false, tags: ['home'], updatedAt: Date.now(), updatedBy: 'bob-user-id' }];
    const html = list({ records, query: 'boil', onQuery: () => undefined, sort: 'updated', onSort: () => undefined, tag: '', onTag: () => undefined, tags: ['home', 'ward 3'], total: 4, nameOf, drafts: new Set(['r1']) });
    expect(html).toContain('data-testid="search"');
    expect(html).toContain('value="boil"');
    expect(html).toMatch(/data-testid="tag-filter"[\s\S]*<option value="home">home<\/option><option value="ward 3">ward 3<\/option>/);
    expect(html).toMatch(/data-testid="sort"[\s\S]*<option value="updated" selected="">Last changed<\/option>/);
    expect(texts(html, 'find-count')).toEqual(['1 of 4 records']);
    expect(texts(html, 'record-item')).toEqual(['Boiler']);
    expect(texts(html, 'record-meta')[0]).toMatch(/ · Bob Chen \(bob-us\)$/);
    expect(texts(html, 'draft-badge')).toEqual(['draft']);
    expect(list({ records: [], query: 'zzz', onQuery: () => undefined, total: 4 })).toContain('data-testid="no-match"');
  });

  it('the trash names who deleted each record (verified) and offers Restore', async () => {
    const a = await openSession(alice, auth);
    const b = await openSession(bob, auth);
    open.push(a, b);
    const id = await a.records.create({ title: 'Old visit' });
    await exchange(a, b);
    await b.records.remove(id);
    await exchange(a, b);
    const trash = await a.records.list({ onlyDeleted: true, details: true });
    expect(trash).toMatchObject([{ id, deletedBy: 'bob-user-id' }]);
    const html = list({ trash, showTrash: true, nameOf });
    expect(texts(html, 'trash-item')).toEqual(['Old visit']);
    expect(texts(html, 'trash-meta')[0]).toMatch(/^deleted by Bob Chen \(bob-us\), /);
    expect(texts(html, 'trash-restore')).toEqual(['Restore']);
  });

  it('a draft from earlier in the session comes back as it was left, fields in its order, marked "Draft — not saved"', async () => {
    const a = await openSession(alice, auth);
    open.push(a);
    const id = await a.records.create({ title: 'Boiler', fields: { room: 'cellar' } });
    const record = (await a.records.get(id))!;
    const draft: EditorDraft = {
      title: 'Boiler (draft)',
      rows: [{ id: 1, key: 'zeta', value: 'z' }, { id: 2, key: 'room', value: 'attic' }],
      notes: 'typed, not saved',
      tags: '',
      base: { draft: { title: 'Boiler', fields: { room: 'cellar' }, notes: '', tags: [] }, heads: record.heads },
    };
    const html = renderToStaticMarkup(createElement(RecordEditor, { record, onSave: noop, onDelete: noop, draft, nameOf }));
    expect(html).toContain('data-testid="draft-mark"');
    expect(html).toContain('Draft — not saved.');
    expect(html).toContain('data-testid="discard-draft"');
    expect(html).toContain('value="Boiler (draft)"');
    expect([...html.matchAll(/data-testid="field-key" placeholder="name" value="([^"]*)"/g)].map((m) => m[1])).toEqual(['zeta', 'room']);
    expect(html).toContain('typed, not saved');
    expect(texts(html, 'attribution')).toEqual(['Created by Alice Martin (alice-) · last changed by Alice Martin (alice-)']);
    // Without a draft the stored record shows, unmarked.
    expect(renderToStaticMarkup(createElement(RecordEditor, { record, onSave: noop }))).not.toContain('draft-mark');
  });
});
