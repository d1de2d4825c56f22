// The list of records (titles from the workspace index), newest edits reflected live.
import type { RecordSummary } from '../docs/records/recordTypes.ts';

export function RecordList(props: { records: RecordSummary[]; selected?: string; onSelect: (id: string) => void; onNew: () => void }) {
  return (
    <nav className="list">
      <button type="button" data-testid="new-record" onClick={props.onNew}>
        New record
      </button>
      {props.records.length === 0 ? (
        <p className="muted" data-testid="empty-list">No records yet.</p>
      ) : (
        <ul data-testid="record-list">
          {props.records.map((r) => (
            <li key={r.id}>
              <button type="button" className={r.id === props.selected ? 'selected' : ''} data-testid="record-item" onClick={() => props.onSelect(r.id)}>
                {r.title || '(untitled)'}
              </button>
            </li>
          ))}
        </ul>
      )}
    </nav>
  );
}
