// The unlocked app: the record list beside the selected record (or a new one), kept current through
// RecordStore.subscribe (local edits, other tabs' edits are picked up on reload).
import { useCallback, useEffect, useRef, useState } from 'react';
import type { RecordView, RecordSummary } from '../docs/records/recordTypes.ts';
import type { AppRecords } from './openAppRecords.ts';
import { RecordEditor, type RecordDraft } from './RecordEditor.tsx';
import { RecordList } from './RecordList.tsx';
import { rebaseText } from './rebaseText.ts';

export function RecordsView({ app }: { app: AppRecords }) {
  const { records } = app;
  const [list, setList] = useState<RecordSummary[]>([]);
  const [selected, setSelected] = useState<string | undefined>();
  const [record, setRecord] = useState<RecordView | undefined>();
  const [error, setError] = useState('');
  const inFlight = useRef(0);

  // An edit is durable once its envelope is stored (a moment after the click): until then, leaving
  // the page asks first.
  useEffect(() => {
    const guard = (e: BeforeUnloadEvent) => {
      if (inFlight.current > 0) e.preventDefault();
    };
    window.addEventListener('beforeunload', guard);
    return () => window.removeEventListener('beforeunload', guard);
  }, []);

  async function tracked<T>(p: () => Promise<T>): Promise<T> {
    inFlight.current++;
    try {
      return await p();
    } finally {
      inFlight.current--;
    }
  }

  const refreshList = useCallback(() => {
    records.list().then(
      (l) => setList([...l].sort((a, b) => a.title.localeCompare(b.title))),
      (e: Error) => setError(e.message),
    );
  }, [records]);

  useEffect(() => {
    refreshList();
    let off: (() => void) | undefined;
    let gone = false;
    void records.subscribe('index', refreshList).then((u) => (gone ? u() : (off = u)));
    return () => {
      gone = true;
      off?.();
    };
  }, [records, refreshList]);

  useEffect(() => {
    setRecord(undefined);
    if (!selected) return;
    const load = () => records.get(selected).then(setRecord, (e: Error) => setError(e.message));
    load();
    let off: (() => void) | undefined;
    let gone = false;
    void records.subscribe(selected, load).then((u) => (gone ? u() : (off = u)));
    return () => {
      gone = true;
      off?.();
    };
  }, [records, selected]);

  async function save(draft: RecordDraft, base: RecordDraft): Promise<RecordView | undefined> {
    if (!selected) {
      const id = await tracked(() => records.create({ title: draft.title, fields: draft.fields, notes: draft.notes }));
      setSelected(id);
      return undefined;
    }
    // Only what this form changed relative to where it started, each text edit re-applied onto the
    // stored text (rebaseText), so concurrent changes elsewhere in the record, or the same text, stay.
    const now = await records.get(selected);
    const merge = (b: string, d: string, c: string | undefined) => (c === undefined ? d : (rebaseText(b, d, c) ?? d));
    const fields: Record<string, string | null> = {};
    for (const [k, v] of Object.entries(draft.fields)) if (base.fields[k] !== v) fields[k] = k in base.fields ? merge(base.fields[k]!, v, now?.fields[k]) : v;
    for (const k of Object.keys(base.fields)) if (!(k in draft.fields)) fields[k] = null;
    const patch = {
      ...(draft.title !== base.title ? { title: merge(base.title, draft.title, now?.title) } : {}),
      ...(Object.keys(fields).length ? { fields } : {}),
      ...(draft.notes !== base.notes ? { notes: merge(base.notes, draft.notes, now?.notes) } : {}),
    };
    if (Object.keys(patch).length) await tracked(() => records.update(selected, patch));
    const stored = await records.get(selected);
    setRecord(stored);
    return stored;
  }

  async function remove() {
    if (!selected) return;
    await tracked(() => records.remove(selected));
    setSelected(undefined);
  }

  return (
    <div className="records">
      <RecordList records={list} selected={selected} onSelect={setSelected} onNew={() => setSelected(undefined)} />
      <main>
        {error && <p role="alert" className="error">{error}</p>}
        {selected && !record ? (
          <p>Loading…</p>
        ) : (
          <RecordEditor key={selected ?? 'new'} record={record} onSave={save} onDelete={selected ? remove : undefined} />
        )}
      </main>
    </div>
  );
}
