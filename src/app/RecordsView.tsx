// The unlocked app: the record list (or the trash) beside the selected record (or a new one). The list
// follows the index and every sync that applies something; the open record follows its document
// (RecordStore.subscribe). Other tabs' edits are picked up on reload.
// Find runs on the list read once per refresh (with its search text), debounced as you type; unsaved
// edits are kept per record as drafts for the session; the history panel shows old → new values.
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { findRecords, tagsIn, type RecordSort } from '../docs/records/findRecords.ts';
import { personLabel, type NameOf } from '../docs/records/personLabel.ts';
import type { Author, RecordPatch, RecordSummary, RecordView } from '../docs/records/recordTypes.ts';
import { ErrorBoundary } from './ErrorBoundary.tsx';
import type { AppRecords } from './openAppRecords.ts';
import { RecordEditor, type EditorDraft } from './RecordEditor.tsx';
import { RecordList } from './RecordList.tsx';
import { HistoryPanel } from './records/HistoryPanel.tsx';
import { saveEdit, type FormBase, type RecordDraft } from './saveEdit.ts';
import './records.css';

const SEARCH_DEBOUNCE_MS = 120;
const NEW = '\u0000new'; // the draft key of the new-record form (no record id looks like it)

export function RecordsView({ app, nameOf, drafts: kept }: {
  app: AppRecords;
  /** A member's display name, if the workspace has one. */
  nameOf?: NameOf;
  /** Where unsaved edits are kept, so they outlive this view (another panel, another workspace) until the app locks. */
  drafts?: Map<string, EditorDraft>;
}) {
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
  const [query, setQuery] = useState('');
  const [debounced, setDebounced] = useState('');
  const [tag, setTag] = useState('');
  const [sort, setSort] = useState<RecordSort>('title');
  const [showHistory, setShowHistory] = useState(false);
  // Unsaved edits per record (NEW for the new-record form), kept for this session.
  const drafts = useRef(kept ?? new Map<string, EditorDraft>());
  const [draftIds, setDraftIds] = useState<ReadonlySet<string>>(() => new Set(drafts.current.keys()));
  const inFlight = useRef(0);
  // Set while this view deletes the open record, so its own delete isn't reported as someone else's.
  const removing = useRef<string | undefined>(undefined);

  // An edit is durable once its envelope is stored (a moment after the click): until then, leaving
  // the page asks first.
  useEffect(() => {
    const guard = (e: BeforeUnloadEvent) => {
      if (inFlight.current > 0 || drafts.current.size > 0) e.preventDefault();
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
      records.list({ includeDeleted: true, details: true }).then(
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
    const changed = (applied: readonly { docId: string; deviceId: string; seq: number }[]) => {
      refreshList();
      records.deletedIn(applied).then(
        (gone) => gone.length && setDeletedByOthers((was) => [...was.filter((n) => !gone.some((g) => g.id === n.id)), ...gone]),
        () => undefined,
      );
    };
    const offApplied = app.session.onApplied((report) => changed(report.applied));
    // What another tab of this profile changed or received from the relay (src/app/tabs/TabSync.ts).
    const offTabs = app.tabs.onChangedElsewhere((c) => changed(c.applied));
    return () => {
      gone = true;
      off?.();
      offApplied();
      offTabs();
      clearTimeout(pending.current);
    };
  }, [records, app.session, app.tabs, refreshList]);

  useEffect(() => {
    const t = setTimeout(() => setDebounced(query), SEARCH_DEBOUNCE_MS);
    return () => clearTimeout(t);
  }, [query]);

  // The search text is built once per list refresh; a query only filters and sorts it.
  const shown = useMemo(() => findRecords(list, { query: debounced, tag, sort, ...(nameOf ? { nameOf } : {}) }), [list, debounced, tag, sort, nameOf]);
  const tags = useMemo(() => tagsIn(list), [list]);

  const onDraft = useCallback((key: string, d: EditorDraft | undefined) => {
    const had = drafts.current.has(key);
    if (d) drafts.current.set(key, d);
    else drafts.current.delete(key);
    if (had !== !!d) setDraftIds(new Set(drafts.current.keys()));
  }, []);
  const draftKey = selected ?? NEW;
  const onEditorDraft = useCallback((d: EditorDraft | undefined) => onDraft(draftKey, d), [onDraft, draftKey]);

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
      const id = await tracked(() => records.create({ title: draft.title, fields: draft.fields, notes: draft.notes, ...(draft.tags ? { tags: draft.tags } : {}) }));
      onDraft(NEW, undefined);
      setSelected(id);
      refreshList(); // its envelopes (and who signed them) are stored now: the list shows when and by whom
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

  /** "Restore this value": the old value written as a new ordinary edit (it merges like any other). */
  async function restoreValue(patch: RecordPatch) {
    if (!selected) return;
    await tracked(() => records.update(selected, patch));
    await reload(selected);
  }

  const loadHistory = useCallback(() => (selected ? records.history(selected) : Promise.resolve([])), [records, selected]);

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

  // On a phone the list sits above the editor: opening a record (or a new one) brings the editor into
  // view, and "Back to the list" returns to the record it came from.
  const mainRef = useRef<HTMLDivElement>(null);
  const narrow = () => typeof window !== 'undefined' && window.matchMedia?.('(max-width: 699px)').matches === true;
  const select = (id: string | undefined) => {
    setError('');
    setSelected(id);
    if (narrow()) setTimeout(() => mainRef.current?.scrollIntoView({ block: 'start' }), 0);
  };
  const backToList = () => {
    const item = document.querySelector<HTMLElement>('.list [aria-current="true"]') ?? document.querySelector<HTMLElement>('.list button');
    item?.scrollIntoView({ block: 'center' });
    item?.focus();
  };

  // Only while the record is still in the trash (someone may have restored it since).
  const notices = deletedByOthers.filter((n) => trash.some((t) => t.id === n.id));
  const restoreNow = (id: string) => void restore(id).catch((e: Error) => setError(e.message));

  return (
    <div className="records">
      <RecordList
        records={shown}
        trash={trash}
        showTrash={showTrash}
        selected={selected}
        onSelect={select}
        onNew={() => (setShowTrash(false), select(undefined))}
        onToggleTrash={() => setShowTrash(!showTrash)}
        onRestore={restoreNow}
        query={query}
        onQuery={setQuery}
        sort={sort}
        onSort={setSort}
        tag={tag}
        onTag={setTag}
        tags={tags}
        total={list.length}
        drafts={draftIds}
        {...(nameOf ? { nameOf } : {})}
      />
      <div className="record-main" ref={mainRef}>
        <button type="button" className="back-to-list link" data-testid="back-to-list" onClick={backToList}>
          ← Back to the list
        </button>
        {error && <p role="alert" className="error" data-testid="records-error">{error}</p>}
        {notices.length > 0 && (
          <div role="status" className="notice" data-testid="deleted-by-others">
            {notices.map((n) => (
              <p key={n.id} data-testid="deleted-notice">
                {`${personLabel(n.by.userId, nameOf)} deleted "${n.title}". Edits made to it meanwhile are kept inside it. `}
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
              deletedBy={deletedByOthers.find((n) => n.id === selected)?.by.userId ?? trash.find((t) => t.id === selected)?.deletedBy}
              onSave={save}
              onDelete={selected ? remove : undefined}
              onResolve={resolve}
              onRestore={selected ? () => restore(selected) : undefined}
              draft={drafts.current.get(draftKey)}
              onDraft={onEditorDraft}
              {...(nameOf ? { nameOf } : {})}
            />
          )}
        </ErrorBoundary>
        {selected && record && !record.damaged?.some((d) => d.startsWith('document')) && (
          <div className="history-toggle">
            <button type="button" data-testid="open-history" aria-expanded={showHistory} onClick={() => setShowHistory(!showHistory)}>
              {showHistory ? 'Hide history' : 'History'}
            </button>
          </div>
        )}
        {selected && record && showHistory && (
          <ErrorBoundary key={`history:${selected}`} what="the history">
            <HistoryPanel load={loadHistory} version={record.heads.join(',')} record={record} onRestoreValue={restoreValue} {...(nameOf ? { nameOf } : {})} />
          </ErrorBoundary>
        )}
      </div>
    </div>
  );
}
