// The unlocked app: the record list (or the trash) beside the selected record (or a new one). The list
// follows the index and every sync that applies something; the open record follows its document
// (RecordStore.subscribe). Other tabs' edits are picked up on reload.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { Author, RecordSummary, RecordView } from '../docs/records/recordTypes.ts';
import { ErrorBoundary } from './ErrorBoundary.tsx';
import type { AppRecords } from './openAppRecords.ts';
import { RecordEditor } from './RecordEditor.tsx';
import { RecordList } from './RecordList.tsx';
import { saveEdit, type FormBase, type RecordDraft } from './saveEdit.ts';

export function RecordsView({ app }: { app: AppRecords }) {
  const { records } = app;
  const [list, setList] = useState<RecordSummary[]>([]);
  const [trash, setTrash] = useState<RecordSummary[]>([]);
  const [showTrash, setShowTrash] = useState(false);
  const [selected, setSelected] = useState<string | undefined>();
  const [record, setRecord] = useState<RecordView | undefined>();
  // Why the selected record can't be shown (e.g. its stored document no longer loads).
  const [unreadable, setUnreadable] = useState('');
  const [error, setError] = useState('');
  // Records another member deleted in a sync (RecordStore.deletedIn): said in the status until restored or dismissed.
  const [deletedByOthers, setDeletedByOthers] = useState<{ id: string; title: string; by: Author }[]>([]);
  const inFlight = useRef(0);
  // Set while this view deletes the open record, so its own delete isn't reported as someone else's.
  const removing = useRef<string | undefined>(undefined);

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

  // Titles, the deleted flag and conflicts live in each record: re-read the list (once per burst) when
  // the index changes, when a sync applied anything, and after this view's own edits.
  const pending = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const refreshList = useCallback(() => {
    clearTimeout(pending.current);
    pending.current = setTimeout(() => {
      records.list({ includeDeleted: true }).then(
        (all) => {
          setList(all.filter((r) => !r.deleted));
          setTrash(all.filter((r) => r.deleted));
        },
        (e: Error) => setError(`cannot list the records: ${e.message}`),
      );
    }, 25);
  }, [records]);

  useEffect(() => {
    refreshList();
    let off: (() => void) | undefined;
    let gone = false;
    void records.subscribe('index', refreshList).then((u) => (gone ? u() : (off = u)));
    const offApplied = app.session.onApplied((report) => {
      refreshList();
      records.deletedIn(report.applied).then(
        (gone) => gone.length && setDeletedByOthers((was) => [...was.filter((n) => !gone.some((g) => g.id === n.id)), ...gone]),
        () => undefined,
      );
    });
    return () => {
      gone = true;
      off?.();
      offApplied();
      clearTimeout(pending.current);
    };
  }, [records, app.session, refreshList]);

  useEffect(() => {
    setRecord(undefined);
    setUnreadable('');
    if (!selected) return;
    let off: (() => void) | undefined;
    let gone = false;
    const load = () => {
      if (removing.current === selected) return;
      records.get(selected).then(
        (r) => gone || (r ? setRecord(r) : setUnreadable('this record is not stored here')),
        (e: Error) => gone || setUnreadable(e.message),
      );
    };
    load();
    void records.subscribe(selected, load).then((u) => (gone ? u() : (off = u)), () => undefined);
    return () => {
      gone = true;
      off?.();
    };
  }, [records, selected]);

  async function save(draft: RecordDraft, base: FormBase): Promise<RecordView | undefined> {
    if (!selected) {
      const id = await tracked(() => records.create({ title: draft.title, fields: draft.fields, notes: draft.notes }));
      setSelected(id);
      return undefined;
    }
    // Only what this form changed, as of the heads it showed: Automerge merges it with what arrived since.
    await tracked(() => saveEdit(records, selected, base, draft));
    return reload(selected);
  }

  async function reload(id: string): Promise<RecordView | undefined> {
    const stored = await records.get(id);
    setRecord(stored);
    refreshList();
    return stored;
  }

  async function resolve(path: string, value: string) {
    if (!selected) return;
    await tracked(() => records.resolve(selected, path === 'title' ? { title: value } : { fields: { [path.slice('fields.'.length)]: value } }));
    await reload(selected);
  }

  async function restore(id: string) {
    await tracked(() => records.restore(id));
    setDeletedByOthers((was) => was.filter((n) => n.id !== id));
    if (id === selected) await reload(id);
    else refreshList();
  }

  async function remove() {
    if (!selected) return;
    removing.current = selected;
    try {
      await tracked(() => records.remove(selected));
      setSelected(undefined);
      refreshList();
    } finally {
      removing.current = undefined;
    }
  }

  const select = (id: string | undefined) => {
    setError('');
    setSelected(id);
  };

  // Only while the record is still in the trash (someone may have restored it since).
  const notices = deletedByOthers.filter((n) => trash.some((t) => t.id === n.id));
  const restoreNow = (id: string) => void restore(id).catch((e: Error) => setError(e.message));

  return (
    <div className="records">
      <RecordList
        records={list}
        trash={trash}
        showTrash={showTrash}
        selected={selected}
        onSelect={select}
        onNew={() => (setShowTrash(false), select(undefined))}
        onToggleTrash={() => setShowTrash(!showTrash)}
        onRestore={restoreNow}
      />
      <main>
        {error && <p role="alert" className="error" data-testid="records-error">{error}</p>}
        {notices.length > 0 && (
          <div role="status" className="notice" data-testid="deleted-by-others">
            {notices.map((n) => (
              <p key={n.id} data-testid="deleted-notice">
                {`${n.by.userId} deleted "${n.title}". Edits made to it meanwhile are kept inside it. `}
                <button type="button" data-testid="notice-restore" onClick={() => restoreNow(n.id)}>
                  Restore
                </button>{' '}
                <button type="button" aria-label="dismiss" onClick={() => setDeletedByOthers((was) => was.filter((x) => x.id !== n.id))}>
                  ×
                </button>
              </p>
            ))}
          </div>
        )}
        <ErrorBoundary key={selected ?? 'new'} what="this record">
          {selected && !record && unreadable ? (
            <p role="alert" className="error" data-testid="record-unreadable">
              Cannot show this record: {unreadable}
            </p>
          ) : selected && !record ? (
            <p>Loading…</p>
          ) : (
            <RecordEditor
              key={selected ?? 'new'}
              record={record}
              deletedBy={deletedByOthers.find((n) => n.id === selected)?.by.userId}
              onSave={save}
              onDelete={selected ? remove : undefined}
              onResolve={resolve}
              onRestore={selected ? () => restore(selected) : undefined}
            />
          )}
        </ErrorBoundary>
      </main>
    </div>
  );
}
