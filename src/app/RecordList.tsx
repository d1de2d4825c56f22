// The list of records (titles read from each record), live, with a mark on records in conflict,
// damaged or with an unsaved draft; above it, find: search as you type, a tag filter and a sort
// (findRecords, on this device only). And the trash: deleted records, who deleted them and when,
// each with Restore. Every item is a button, so a keyboard user reaches all of it.
import type { NameOf } from '../docs/records/personLabel.ts';
import { personLabel } from '../docs/records/personLabel.ts';
import type { RecordSort } from '../docs/records/findRecords.ts';
import type { RecordSummary } from '../docs/records/recordTypes.ts';

const when = (ms: number | undefined) => (ms === undefined ? '' : new Date(ms).toLocaleString());

export function RecordList(props: {
  records: RecordSummary[];
  trash: RecordSummary[];
  showTrash: boolean;
  selected?: string;
  onSelect: (id: string) => void;
  onNew: () => void;
  onToggleTrash: () => void;
  onRestore: (id: string) => void;
  /** Find: the search box's text (matching happens in the parent, debounced). */
  query?: string;
  onQuery?: (q: string) => void;
  sort?: RecordSort;
  onSort?: (s: RecordSort) => void;
  /** The tag filter ('' for all) and the tags to choose from. */
  tag?: string;
  onTag?: (t: string) => void;
  tags?: string[];
  /** How many live records there are before filtering ("3 of 12"). */
  total?: number;
  /** Records with an unsaved draft in this session. */
  drafts?: ReadonlySet<string>;
  nameOf?: NameOf;
}) {
  const finding = props.onQuery !== undefined;
  const filtered = (props.query ?? '').trim() !== '' || !!props.tag;
  const meta = (r: RecordSummary) =>
    props.sort === 'updated' || props.sort === 'author'
      ? r.updatedAt !== undefined
        ? `${when(r.updatedAt)}${r.updatedBy ? ` · ${personLabel(r.updatedBy, props.nameOf)}` : ''}`
        : 'no verified change'
      : '';
  return (
    <nav className="list" aria-label="records">
      <div className="list-actions">
        <button type="button" data-testid="new-record" onClick={props.onNew}>
          New record
        </button>
        <button type="button" data-testid="open-trash" aria-pressed={props.showTrash} onClick={props.onToggleTrash}>
          {props.showTrash ? 'Back to records' : `Trash (${props.trash.length})`}
        </button>
      </div>
      {finding && !props.showTrash && (
        <div className="find" role="search">
          <label>
            Search
            <input type="search" data-testid="search" placeholder="title, field, notes, tag…" value={props.query ?? ''} onChange={(e) => props.onQuery!(e.target.value)} />
          </label>
          <div className="find-row">
            <label>
              Tag
              <select data-testid="tag-filter" value={props.tag ?? ''} onChange={(e) => props.onTag?.(e.target.value)}>
                <option value="">All tags</option>
                {(props.tags ?? []).map((t) => (
                  <option key={t} value={t}>
                    {t}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Sort
              <select data-testid="sort" value={props.sort ?? 'title'} onChange={(e) => props.onSort?.(e.target.value as RecordSort)}>
                <option value="title">Title</option>
                <option value="updated">Last changed</option>
                <option value="author">Changed by</option>
              </select>
            </label>
          </div>
          {filtered && props.total !== undefined && (
            <p className="muted small" role="status" data-testid="find-count">
              {props.records.length} of {props.total} records
            </p>
          )}
        </div>
      )}
      {props.showTrash ? (
        <section aria-label="trash" className="trash">
          <h2 className="small-heading">Trash</h2>
          <p className="muted small">Deleted records, with every edit made to them. Restore brings one back.</p>
          {props.trash.length === 0 ? (
            <p className="muted" data-testid="empty-trash">The trash is empty.</p>
          ) : (
            <ul data-testid="trash-list">
              {props.trash.map((r) => (
                <li key={r.id} className="trash-row">
                  <div className="trash-main">
                    <button type="button" className={r.id === props.selected ? 'selected' : ''} aria-current={r.id === props.selected ? 'true' : undefined} data-testid="trash-item" onClick={() => props.onSelect(r.id)}>
                      {r.title || '(untitled)'}
                    </button>
                    <span className="muted small meta" data-testid="trash-meta">
                      {r.deletedBy ? `deleted by ${personLabel(r.deletedBy, props.nameOf)}${r.deletedAt !== undefined ? `, ${when(r.deletedAt)}` : ''}` : 'deleted (by whom not verified)'}
                    </span>
                  </div>
                  <button type="button" className="restore" data-testid="trash-restore" aria-label={`Restore ${r.title || '(untitled)'}`} onClick={() => props.onRestore(r.id)}>
                    Restore
                  </button>
                </li>
              ))}
            </ul>
          )}
        </section>
      ) : props.records.length === 0 ? (
        filtered && props.total ? (
          <p className="muted" data-testid="no-match">No record matches.</p>
        ) : (
          <p className="muted" data-testid="empty-list">No records yet.</p>
        )
      ) : (
        <ul data-testid="record-list">
          {props.records.map((r) => (
            <li key={r.id}>
              <div className="item-main">
                <button type="button" className={r.id === props.selected ? 'selected' : ''} aria-current={r.id === props.selected ? 'true' : undefined} data-testid="record-item" onClick={() => props.onSelect(r.id)}>
                  {r.title || '(untitled)'}
                </button>
                {meta(r) && <span className="muted small meta" data-testid="record-meta">{meta(r)}</span>}
              </div>
              {props.drafts?.has(r.id) && (
                <span className="badge draft-badge" data-testid="draft-badge" title="unsaved changes in this session">
                  draft
                </span>
              )}
              {r.conflicted && (
                <span className="badge conflict-badge" data-testid="conflict-badge" title="values set at the same time: open the record to choose">
                  conflict
                </span>
              )}
              {r.damaged && (
                <span className="badge damaged-badge" data-testid="damaged-badge" title="part of this record is damaged">
                  damaged
                </span>
              )}
            </li>
          ))}
        </ul>
      )}
    </nav>
  );
}
