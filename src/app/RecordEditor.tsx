// Show and edit one record: title, fields (key = value rows) and notes; or fill in a new one.
// Saving a change resolves once its signed, encrypted envelope is stored locally. Only what was edited
// here is saved (against the version the form started from), so changes that arrived meanwhile from
// another device or tab are kept; an untouched form follows the stored record live.
import { useEffect, useRef, useState, type FormEvent } from 'react';
import type { RecordView } from '../docs/records/recordTypes.ts';

export interface RecordDraft {
  title: string;
  fields: Record<string, string>;
  notes: string;
}

type Row = { key: string; value: string };

const rowsOf = (fields: Record<string, string>): Row[] =>
  Object.entries(fields).sort(([a], [b]) => a.localeCompare(b)).map(([key, value]) => ({ key, value }));

const draftOf = (r?: RecordView): RecordDraft => ({ title: r?.title ?? '', fields: { ...(r?.fields ?? {}) }, notes: r?.notes ?? '' });

function sameRows(rows: Row[], fields: Record<string, string>): boolean {
  const a = rows.filter((r) => r.key || r.value);
  return a.length === Object.keys(fields).length && a.every((r) => fields[r.key] === r.value);
}

export function RecordEditor(props: {
  record?: RecordView;
  /** `base` is the version the form started from: save only what differs from it. Resolves with the
   * record as stored afterwards (with any concurrent changes), which the form then shows. */
  onSave: (draft: RecordDraft, base: RecordDraft) => Promise<RecordView | undefined>;
  onDelete?: () => Promise<void>;
}) {
  const { record } = props;
  const [base, setBase] = useState<RecordDraft>(() => draftOf(record));
  const [title, setTitle] = useState(base.title);
  const [rows, setRows] = useState<Row[]>(() => rowsOf(base.fields));
  const [notes, setNotes] = useState(base.notes);
  const [error, setError] = useState('');
  const [status, setStatus] = useState('');
  const [busy, setBusy] = useState(false);
  const [changedElsewhere, setChangedElsewhere] = useState(false);

  const dirty = title !== base.title || notes !== base.notes || !sameRows(rows, base.fields);
  const dirtyRef = useRef(dirty);
  dirtyRef.current = dirty;

  // The stored record changed (this form's save, another tab, sync): follow it unless edits are pending.
  function show(d: RecordDraft) {
    dirtyRef.current = false;
    setBase(d);
    setTitle(d.title);
    setRows(rowsOf(d.fields));
    setNotes(d.notes);
    setChangedElsewhere(false);
  }

  useEffect(() => {
    if (dirtyRef.current) setChangedElsewhere(true);
    else show(draftOf(record));
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
      show(stored ? draftOf(stored) : draft); // saved: follow the stored record again
    }, 'Saved');
  }

  return (
    <form className="editor" onSubmit={submit} data-testid="record-editor">
      {record?.deleted && <p className="error">This record was deleted.</p>}
      {changedElsewhere && !record?.deleted && (
        <p className="muted" data-testid="changed-elsewhere">
          This record changed elsewhere while you were editing. Saving applies only your changes on top of theirs.
        </p>
      )}
      <label>
        Title
        <input data-testid="title" value={title} onChange={(e) => setTitle(e.target.value)} maxLength={1000} />
      </label>
      <fieldset>
        <legend>Fields</legend>
        {rows.map((r, i) => (
          <div className="field-row" key={i}>
            <input aria-label="field name" data-testid="field-key" placeholder="name" value={r.key} onChange={(e) => setRow(i, { key: e.target.value })} />
            <span>=</span>
            <input aria-label="field value" data-testid="field-value" placeholder="value" value={r.value} onChange={(e) => setRow(i, { value: e.target.value })} />
            <button type="button" aria-label="remove field" onClick={() => setRows(rows.filter((_, j) => j !== i))}>
              ×
            </button>
          </div>
        ))}
        <button type="button" data-testid="add-field" onClick={() => setRows([...rows, { key: '', value: '' }])}>
          Add field
        </button>
      </fieldset>
      <label>
        Notes
        <textarea data-testid="notes" rows={8} value={notes} onChange={(e) => setNotes(e.target.value)} />
      </label>
      <div className="actions">
        <button type="submit" data-testid="save" disabled={busy || record?.deleted}>
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
