// The list of records (titles read from each record), live, with a mark on records in conflict or
// damaged; and the trash: deleted records, each with Restore.
import type { RecordSummary } from '../docs/records/recordTypes.ts';

export function RecordList(props: {
  records: RecordSummary[];
  trash: RecordSummary[];
  showTrash: boolean;
  selected?: string;
  onSelect: (id: string) => void;
  onNew: () => void;
  onToggleTrash: () => void;
  onRestore: (id: string) => void;
}) {
  return (
    <nav className="list">
      <div className="list-actions">
        <button type="button" data-testid="new-record" onClick={props.onNew}>
          New record
        </button>
        <button type="button" data-testid="open-trash" aria-pressed={props.showTrash} onClick={props.onToggleTrash}>
          {props.showTrash ? 'Back to records' : `Trash (${props.trash.length})`}
        </button>
      </div>
      {props.showTrash ? (
        props.trash.length === 0 ? (
          <p className="muted" data-testid="empty-trash">The trash is empty.</p>
        ) : (
          <ul data-testid="trash-list">
            {props.trash.map((r) => (
              <li key={r.id} className="trash-row">
                <button type="button" className={r.id === props.selected ? 'selected' : ''} data-testid="trash-item" onClick={() => props.onSelect(r.id)}>
                  {r.title || '(untitled)'}
                </button>
                <button type="button" className="restore" data-testid="trash-restore" onClick={() => props.onRestore(r.id)}>
                  Restore
                </button>
              </li>
            ))}
          </ul>
        )
      ) : props.records.length === 0 ? (
        <p className="muted" data-testid="empty-list">No records yet.</p>
      ) : (
        <ul data-testid="record-list">
          {props.records.map((r) => (
            <li key={r.id}>
              <button type="button" className={r.id === props.selected ? 'selected' : ''} data-testid="record-item" onClick={() => props.onSelect(r.id)}>
                {r.title || '(untitled)'}
              </button>
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
