// Show and edit one record: title, fields (key = value rows) and notes; or fill in a new one.
// Saving a change resolves once its signed, encrypted envelope is stored locally. Only what was edited
// here is saved, as of the version the form started from (saveEdit), so changes that arrived meanwhile
// are kept: notes merge, and a value set meanwhile becomes a visible conflict. A value in conflict is
// marked with the values that lost; one click settles it. An untouched form follows the record live.
// Work in progress is never dropped (issue 12): the form reports its unsaved state as a draft that the
// parent keeps for the session and hands back when the record is opened again ("Draft — not saved",
// with Discard). Fields keep the order they have in the form; they are sorted only when loaded.
import { useEffect, useLayoutEffect, useRef, useState, type FormEvent } from 'react';
import { personLabel, type NameOf } from '../docs/records/personLabel.ts';
import type { Author, RecordView } from '../docs/records/recordTypes.ts';
import { ConflictChoices } from './ConflictChoices.tsx';
import { baseOf, draftOf, type FormBase, type RecordDraft } from './saveEdit.ts';

type Row = { id: number; key: string; value: string };

/** What an editor holds while it has unsaved changes: given back through `draft` to pick up where it was. */
export interface EditorDraft {
  title: string;
  rows: Row[];
  notes: string;
  tags: string;
  /** What the form started from: saving merges as of these heads, whenever that happens. */
  base: FormBase;
}

let nextRowId = 1;
const row = (key: string, value: string): Row => ({ id: nextRowId++, key, value });

/** Rows for `fields`: in `order` (the form's, kept across a save) and then the rest sorted by name. */
function rowsOf(fields: Record<string, string>, order: readonly string[] = []): Row[] {
  const placed = order.filter((k, i) => k in fields && order.indexOf(k) === i);
  const rest = Object.keys(fields).filter((k) => !placed.includes(k)).sort((a, b) => a.localeCompare(b));
  return [...placed, ...rest].map((k) => row(k, fields[k]!));
}

function sameRows(rows: Row[], fields: Record<string, string>): boolean {
  const a = rows.filter((r) => r.key || r.value);
  return a.length === Object.keys(fields).length && a.every((r) => fields[r.key] === r.value);
}

const tagsText = (tags: readonly string[] | undefined) => (tags ?? []).join(', ');
const parseTags = (text: string) => [...new Set(text.split(',').map((t) => t.trim()).filter(Boolean))];
const sameHeads = (a: readonly string[], b: readonly string[]) => a.length === b.length && [...a].sort().every((h, i) => h === [...b].sort()[i]);

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
  /** An unsaved draft of this record from earlier in the session: the form starts from it. */
  draft?: EditorDraft;
  /** Told the form's unsaved state after every change (undefined once nothing is unsaved). */
  onDraft?: (draft: EditorDraft | undefined) => void;
  nameOf?: NameOf;
}) {
  const { record, nameOf } = props;
  const names = (authors: Author[], n?: NameOf) => [...new Set(authors.map((a) => a.userId))].map((id) => personLabel(id, n)).join(', ');
  const [base, setBase] = useState<FormBase>(() => props.draft?.base ?? baseOf(record));
  const [title, setTitle] = useState(props.draft?.title ?? base.draft.title);
  const [rows, setRows] = useState<Row[]>(() => props.draft?.rows ?? rowsOf(base.draft.fields));
  const [notes, setNotes] = useState(props.draft?.notes ?? base.draft.notes);
  const [tags, setTags] = useState(props.draft?.tags ?? tagsText(base.draft.tags));
  const [error, setError] = useState('');
  const [status, setStatus] = useState('');
  const [busy, setBusy] = useState(false);
  const [changedElsewhere, setChangedElsewhere] = useState(false);
  // Opened live and then deleted by a sync: someone else deleted it (this form's Delete leaves the record).
  const [deletedElsewhere, setDeletedElsewhere] = useState(false);
  const seenLive = useRef(!!record && !record.deleted);

  const dirty =
    title !== base.draft.title || notes !== base.draft.notes || !sameRows(rows, base.draft.fields) || tags.trim() !== tagsText(base.draft.tags);
  const dirtyRef = useRef(dirty);
  dirtyRef.current = dirty;
  const baseRef = useRef(base);
  baseRef.current = base;
  const rowsRef = useRef(rows);
  rowsRef.current = rows;
  const keyInputs = useRef(new Map<number, HTMLInputElement>());
  const focusRow = useRef<number | undefined>(undefined);

  // The stored record changed (this form's save, a resolve, sync): follow it unless edits are pending.
  // Fields keep the order the form shows them in (sorted only when the record first loads); fields
  // that arrive later (a teammate's, a restore) go after them, sorted.
  function show(r: RecordView | undefined, fallback?: RecordDraft, order: string[] = rowsRef.current.map((x) => x.key.trim())) {
    const b = r ? baseOf(r) : { draft: fallback ?? draftOf(), heads: [] };
    dirtyRef.current = false;
    setBase(b);
    setTitle(b.draft.title);
    setRows(rowsOf(b.draft.fields, order));
    setNotes(b.draft.notes);
    setTags(tagsText(b.draft.tags));
    setChangedElsewhere(false);
  }

  // A layout effect, not a passive one: it runs as the new record is committed, before the next
  // keystroke is handled. A passive effect could run after a keystroke queued behind it and put the
  // stored values back over what was just typed.
  useLayoutEffect(() => {
    if (record && !record.deleted) {
      seenLive.current = true;
      setDeletedElsewhere(false);
    } else if (record?.deleted && seenLive.current) setDeletedElsewhere(true);
    // A draft kept from earlier is only "changed elsewhere" if the record moved on since it started.
    if (dirtyRef.current) setChangedElsewhere(!!record && !sameHeads(record.heads, baseRef.current.heads));
    else show(record);
  }, [record]);

  // Report the unsaved state after every change, so switching records never drops it.
  const onDraft = props.onDraft;
  useEffect(() => {
    onDraft?.(dirty ? { title, rows, notes, tags, base } : undefined);
  }, [onDraft, dirty, title, rows, notes, tags, base]);

  // "Add field" moves focus to the new field's name.
  useEffect(() => {
    if (focusRow.current === undefined) return;
    keyInputs.current.get(focusRow.current)?.focus();
    focusRow.current = undefined;
  }, [rows]);

  const setRow = (i: number, r: Partial<Row>) => setRows(rows.map((x, j) => (j === i ? { ...x, ...r } : x)));
  const addField = () => {
    const r = row('', '');
    focusRow.current = r.id;
    setRows([...rows, r]);
  };

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
    // Untouched tags stay as stored (a tag written elsewhere may hold a comma this box would split).
    const draft = { title: title.trim(), fields, notes, tags: tags.trim() === tagsText(base.draft.tags) ? [...(base.draft.tags ?? [])] : parseTags(tags) };
    const order = rows.map((r) => r.key.trim());
    void run(async () => {
      const stored = await props.onSave(draft, base);
      show(stored, draft, order); // saved: follow the stored record again, fields in the form's order
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
            ? `${props.deletedBy ? `${personLabel(props.deletedBy, nameOf)} deleted this record` : 'This record was deleted elsewhere'} while it was open here.${dirty ? ' Your unsaved changes are still in the form: restore the record to save them.' : ''}`
            : `This record is in the trash${props.deletedBy ? ` (deleted by ${personLabel(props.deletedBy, nameOf)})` : ''}.`}{' '}
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
      {dirty && (
        <div className="notice draft-mark" role="status" data-testid="draft-mark">
          <span>Draft — not saved.</span>{' '}
          <button type="button" data-testid="discard-draft" disabled={busy} onClick={() => (setError(''), setStatus(''), show(record))}>
            Discard
          </button>
        </div>
      )}
      {record && (
        <p className="muted attribution" data-testid="attribution">
          {record.createdBy ? `Created by ${personLabel(record.createdBy.userId, nameOf)}` : 'Creator not verified'}
          {record.updatedBy.length > 0 && ` · last changed by ${names(record.updatedBy, nameOf)}`}
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
            <div key={r.id}>
              <div className="field-row">
                <input
                  aria-label="field name"
                  data-testid="field-key"
                  placeholder="name"
                  value={r.key}
                  ref={(el) => {
                    if (el) keyInputs.current.set(r.id, el);
                    else keyInputs.current.delete(r.id);
                  }}
                  onChange={(e) => setRow(i, { key: e.target.value })}
                />
                <span>=</span>
                <input aria-label="field value" data-testid="field-value" className={inConflict ? 'in-conflict' : ''} aria-invalid={inConflict} placeholder="value" value={r.value} onChange={(e) => setRow(i, { value: e.target.value })} />
                <button type="button" aria-label={`remove field ${r.key}`.trim()} onClick={() => setRows(rows.filter((_, j) => j !== i))}>
                  ×
                </button>
              </div>
              {r.key && rows.findIndex((x) => x.key === r.key) === i && conflictAt(`fields.${r.key}`)}
            </div>
          );
        })}
        <button type="button" data-testid="add-field" onClick={addField}>
          Add field
        </button>
      </fieldset>
      <label>
        Notes
        <textarea data-testid="notes" rows={8} value={notes} onChange={(e) => setNotes(e.target.value)} />
      </label>
      <label>
        Tags <span className="muted small">(separated by commas)</span>
        <input data-testid="tags" value={tags} onChange={(e) => setTags(e.target.value)} />
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
