// Show and edit one record: title, fields (key = value rows) and notes; or fill in a new one.
// Saving a change resolves once its signed, encrypted envelope is stored locally. Only what was edited
// here is saved, as of the version the form started from (saveEdit), so changes that arrived meanwhile
// are kept: notes merge, and a value set meanwhile becomes a visible conflict. A value in conflict is
// marked with the values that lost; one click settles it. An untouched form follows the record live.
import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { Author, RecordView } from '../docs/records/recordTypes.ts';
import { ConflictChoices } from './ConflictChoices.tsx';
import { baseOf, draftOf, type FormBase, type RecordDraft } from './saveEdit.ts';

type Row = { key: string; value: string };

const rowsOf = (fields: Record<string, string>): Row[] =>
  Object.entries(fields).sort(([a], [b]) => a.localeCompare(b)).map(([key, value]) => ({ key, value }));

function sameRows(rows: Row[], fields: Record<string, string>): boolean {
  const a = rows.filter((r) => r.key || r.value);
  return a.length === Object.keys(fields).length && a.every((r) => fields[r.key] === r.value);
}

const names = (authors: Author[]) => [...new Set(authors.map((a) => a.userId))].join(', ');

export function RecordEditor(props: {
  record?: RecordView;
  /** Who set the tombstone, when known (verified); shown when the record is deleted. */
  deletedBy?: string;
  /** `base` is what the form started from: save only what differs from it, as of its heads. Resolves
   * with the record as stored afterwards (with any concurrent changes), which the form then shows. */
  onSave: (draft: RecordDraft, base: FormBase) => Promise<RecordView | undefined>;
  onDelete?: () => Promise<void>;
  /** Settle a conflict ('title' or 'fields.KEY') by assigning `value`. */
  onResolve?: (path: string, value: string) => Promise<void>;
  onRestore?: () => Promise<void>;
}) {
  const { record } = props;
  const [base, setBase] = useState<FormBase>(() => baseOf(record));
  const [title, setTitle] = useState(base.draft.title);
  const [rows, setRows] = useState<Row[]>(() => rowsOf(base.draft.fields));
  const [notes, setNotes] = useState(base.draft.notes);
  const [error, setError] = useState('');
  const [status, setStatus] = useState('');
  const [busy, setBusy] = useState(false);
  const [changedElsewhere, setChangedElsewhere] = useState(false);
  // Opened live and then deleted by a sync: someone else deleted it (this form's Delete leaves the record).
  const [deletedElsewhere, setDeletedElsewhere] = useState(false);
  const seenLive = useRef(!!record && !record.deleted);

  const dirty = title !== base.draft.title || notes !== base.draft.notes || !sameRows(rows, base.draft.fields);
  const dirtyRef = useRef(dirty);
  dirtyRef.current = dirty;

  // The stored record changed (this form's save, a resolve, sync): follow it unless edits are pending.
  function show(r: RecordView | undefined, fallback?: RecordDraft) {
    const b = r ? baseOf(r) : { draft: fallback ?? draftOf(), heads: [] };
    dirtyRef.current = false;
    setBase(b);
    setTitle(b.draft.title);
    setRows(rowsOf(b.draft.fields));
    setNotes(b.draft.notes);
    setChangedElsewhere(false);
  }

  useEffect(() => {
    if (record && !record.deleted) {
      seenLive.current = true;
      setDeletedElsewhere(false);
    } else if (record?.deleted && seenLive.current) setDeletedElsewhere(true);
    if (dirtyRef.current) setChangedElsewhere(true);
    else show(record);
  }, [record]);

  const setRow = (i: number, r: Partial<Row>) => setRows(rows.map((x, j) => (j === i ? { ...x, ...r } : x)));

  async function run(what: () => Promise<void>, done: string) {
    setError('');
    setStatus('');
    setBusy(true);
    try {
      await what();
      setStatus(done);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  }

  function submit(e: FormEvent) {
    e.preventDefault();
    if (!title.trim()) return setError('a record needs a title');
    const fields: Record<string, string> = {};
    for (const r of rows) {
      const key = r.key.trim();
      if (!key && !r.value) continue;
      if (!key) return setError('every field needs a name');
      if (key in fields) return setError(`the field "${key}" appears twice`);
      fields[key] = r.value;
    }
    const draft = { title: title.trim(), fields, notes };
    void run(async () => {
      const stored = await props.onSave(draft, base);
      show(stored, draft); // saved: follow the stored record again
    }, 'Saved');
  }

  // RecordStore.get reports a stored document that doesn't load as damaged 'document: REASON'; it can't be edited.
  const unloadable = !!record?.damaged?.some((d) => d.startsWith('document'));
  const conflicts = record && !record.deleted ? record.conflicts : {};
  const resolve = (path: string) => (value: string) => {
    if (props.onResolve) void run(() => props.onResolve!(path, value), 'Conflict resolved');
  };
  const conflictAt = (path: string) => {
    const others = conflicts[path];
    if (!others?.length || !record) return null;
    const shown = path === 'title' ? record.title : (record.fields[path.slice('fields.'.length)] ?? '');
    return <ConflictChoices path={path} shown={shown} others={others} disabled={busy || !props.onResolve} onResolve={resolve(path)} />;
  };
  // Conflicts on fields this form has no row for (its row was removed here) are shown above the fields.
  const rowKeys = new Set(rows.map((r) => `fields.${r.key}`));
  const unplaced = Object.keys(conflicts).filter((p) => p !== 'title' && !rowKeys.has(p));

  return (
    <form className="editor" onSubmit={submit} data-testid="record-editor">
      {record?.deleted && (
        <div className="notice" role="status" data-testid={deletedElsewhere ? 'deleted-elsewhere' : 'in-trash'}>
          {deletedElsewhere
            ? `${props.deletedBy ? `${props.deletedBy} deleted this record` : 'This record was deleted elsewhere'} while it was open here.${dirty ? ' Your unsaved changes are still in the form: restore the record to save them.' : ''}`
            : `This record is in the trash${props.deletedBy ? ` (deleted by ${props.deletedBy})` : ''}.`}{' '}
          {props.onRestore && (
            <button type="button" data-testid="restore" disabled={busy} onClick={() => void run(props.onRestore!, 'Restored')}>
              Restore
            </button>
          )}
        </div>
      )}
      {record?.damaged && (
        <p className="notice error" role="status" data-testid="damaged">
          {unloadable
            ? `This record is stored here but no longer loads (${record.damaged.join(', ')}): nothing of it can be shown, and it is kept as it is.`
            : `Part of this record is damaged (${record.damaged.join(', ')}): it shows what can be read. Saving a value writes it afresh.`}
        </p>
      )}
      {changedElsewhere && !record?.deleted && (
        <p className="muted" data-testid="changed-elsewhere">
          This record changed elsewhere while you were editing. Saving merges your changes with theirs.
        </p>
      )}
      {record && (
        <p className="muted attribution" data-testid="attribution">
          {record.createdBy ? `Created by ${record.createdBy.userId}` : 'Creator not verified'}
          {record.updatedBy.length > 0 && ` · last changed by ${names(record.updatedBy)}`}
        </p>
      )}
      <label>
        Title
        <input data-testid="title" className={conflicts.title ? 'in-conflict' : ''} aria-invalid={!!conflicts.title} value={title} onChange={(e) => setTitle(e.target.value)} maxLength={1000} />
      </label>
      {conflictAt('title')}
      <fieldset>
        <legend>Fields</legend>
        {unplaced.map((p) => <div key={p}>{conflictAt(p)}</div>)}
        {rows.map((r, i) => {
          const inConflict = !!conflicts[`fields.${r.key}`];
          return (
            <div key={i}>
              <div className="field-row">
                <input aria-label="field name" data-testid="field-key" placeholder="name" value={r.key} onChange={(e) => setRow(i, { key: e.target.value })} />
                <span>=</span>
                <input aria-label="field value" data-testid="field-value" className={inConflict ? 'in-conflict' : ''} aria-invalid={inConflict} placeholder="value" value={r.value} onChange={(e) => setRow(i, { value: e.target.value })} />
                <button type="button" aria-label="remove field" onClick={() => setRows(rows.filter((_, j) => j !== i))}>
                  ×
                </button>
              </div>
              {r.key && rows.findIndex((x) => x.key === r.key) === i && conflictAt(`fields.${r.key}`)}
            </div>
          );
        })}
        <button type="button" data-testid="add-field" onClick={() => setRows([...rows, { key: '', value: '' }])}>
          Add field
        </button>
      </fieldset>
      <label>
        Notes
        <textarea data-testid="notes" rows={8} value={notes} onChange={(e) => setNotes(e.target.value)} />
      </label>
      <div className="actions">
        <button type="submit" data-testid="save" disabled={busy || record?.deleted || unloadable}>
          {busy ? 'Saving…' : record ? 'Save' : 'Add record'}
        </button>
        {props.onDelete && !record?.deleted && (
          <button type="button" data-testid="delete" className="danger" disabled={busy} onClick={() => confirmDelete()}>
            Delete
          </button>
        )}
        {status && <span className="muted" data-testid="status">{status}</span>}
      </div>
      {error && <p role="alert" className="error" data-testid="editor-error">{error}</p>}
    </form>
  );

  function confirmDelete() {
    if (!props.onDelete) return;
    if (!window.confirm(`Delete "${record?.title ?? ''}"?`)) return;
    void run(props.onDelete, 'Deleted');
  }
}
