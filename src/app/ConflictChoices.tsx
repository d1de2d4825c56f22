// A title or field that two people set at the same time: the value that shows and the ones that lost,
// each a button; one click assigns that value on every replica (RecordStore.resolve).
export function ConflictChoices(props: { path: string; shown: string; others: string[]; disabled?: boolean; onResolve: (value: string) => void }) {
  const label = props.path === 'title' ? 'the title' : `"${props.path.slice('fields.'.length)}"`;
  return (
    <div className="conflict" role="group" aria-label={`conflict on ${label}`} data-testid={`conflict-${props.path}`}>
      <span>Set to different values at the same time. Keep:</span>
      {[props.shown, ...props.others].map((v, i) => (
        <button
          type="button"
          key={`${i}:${v}`}
          className={i === 0 ? 'choice shown' : 'choice'}
          data-testid="conflict-choice"
          disabled={props.disabled}
          title={i === 0 ? 'the value shown now' : 'a value that was set at the same time'}
          onClick={() => props.onResolve(v)}
        >
          {v === '' ? '(empty)' : v}
        </button>
      ))}
    </div>
  );
}
