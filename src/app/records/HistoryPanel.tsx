// A record's history in the web app (issue 12): per change group, who made it (verified member and
// device; unverified changes flagged), the claimed time, and each value old → new. "Restore this
// value" writes the old value back as a new ordinary edit (restorePatch → RecordStore.update), which
// merges like any other edit and then shows in this list as its own change.
import { useEffect, useState } from 'react';
import { personLabel, type NameOf } from '../../docs/records/personLabel.ts';
import type { HistoryEntry, HistoryValue, RecordPatch, RecordView, ValueChange } from '../../docs/records/recordTypes.ts';
import { restorePatch } from '../../docs/records/restoreValue.ts';

const SHOWN = 300;

function shown(v: HistoryValue | undefined): string {
  if (v === undefined) return '(none)';
  if (typeof v === 'boolean') return v ? 'deleted' : 'not deleted';
  if (Array.isArray(v)) return v.length ? v.join(', ') : '(no tags)';
  if (v === '') return '(empty)';
  return v.length > SHOWN ? `${v.slice(0, SHOWN)}…` : v;
}

const pathLabel = (path: string) => (path.startsWith('fields.') ? `Field "${path.slice('fields.'.length)}"` : path === 'deleted' ? 'Trash' : path[0]!.toUpperCase() + path.slice(1));

export function HistoryPanel(props: {
  /** Reads the history (RecordStore.history); called again whenever `version` changes. */
  load: () => Promise<HistoryEntry[]>;
  /** Changes whenever the record does (e.g. its heads joined), so the list follows. */
  version: string;
  record: RecordView;
  nameOf?: NameOf;
  /** Write an old value back as a new edit. */
  onRestoreValue: (patch: RecordPatch) => Promise<void>;
}) {
  const [entries, setEntries] = useState<HistoryEntry[] | undefined>();
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const [status, setStatus] = useState('');
  const { load, version } = props;

  useEffect(() => {
    let gone = false;
    load().then(
      (h) => gone || (setEntries(h), setError('')),
      (e: Error) => gone || setError(`cannot read the history: ${e.message}`),
    );
    return () => {
      gone = true;
    };
  }, [load, version]);

  async function restore(c: ValueChange, patch: RecordPatch) {
    setBusy(true);
    setStatus('');
    setError('');
    try {
      await props.onRestoreValue(patch);
      setStatus(c.old === undefined ? `${pathLabel(c.path)} removed` : `${pathLabel(c.path)} restored to ${shown(c.old)}`);
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  }

  const value = (c: ValueChange, i: number) => {
    const patch = props.record.deleted ? undefined : restorePatch(c, props.record);
    return (
      <li key={i} className="value-change" data-testid="history-value" data-path={c.path}>
        <span className="path">{pathLabel(c.path)}</span>{' '}
        {c.notesDiff ? (
          <span>
            {c.notesDiff.oldLength} → {c.notesDiff.newLength} characters
            {c.notesDiff.removed && <> · removed <del>{c.notesDiff.removed}</del></>}
            {c.notesDiff.added && <> · added <ins>{c.notesDiff.added}</ins></>}
          </span>
        ) : (
          <span>
            <del data-testid="old-value">{shown(c.old)}</del> → <ins data-testid="new-value">{shown(c.new)}</ins>
          </span>
        )}{' '}
        {patch && (
          <button type="button" className="link" data-testid="restore-value" disabled={busy} onClick={() => void restore(c, patch)}>
            {c.old === undefined ? 'Remove this field again' : 'Restore this value'}
          </button>
        )}
      </li>
    );
  };

  return (
    <section className="history" aria-label="history" data-testid="history">
      <h2>History</h2>
      <p className="muted small">Who changed what, newest last. Times are as the author's device claimed them.</p>
      {error && <p role="alert" className="error">{error}</p>}
      {status && <p role="status" className="muted" data-testid="history-status">{status}</p>}
      {!entries ? (
        !error && <p>Loading…</p>
      ) : (
        <ol className="history-entries">
          {entries.map((e, i) => (
            <li key={e.envelopeHash ?? `${e.actor}:${i}`} className={e.verified ? 'history-entry' : 'history-entry unverified'} data-testid="history-entry">
              <p className="history-who">
                {e.verified && e.userId ? (
                  <>
                    <strong data-testid="history-author">{personLabel(e.userId, props.nameOf)}</strong>
                    <span className="muted"> on device {e.deviceId?.slice(0, 8)}</span>
                  </>
                ) : (
                  <strong className="error" data-testid="history-unverified">
                    {e.viaSnapshot && e.userId
                      ? `Unverified: ${personLabel(e.userId, props.nameOf)} per a snapshot sealed by device ${e.viaSnapshot.slice(0, 8)}; no checked signature of theirs covers these changes`
                      : `Unverified: no checked signature covers these changes (actor ${e.actor.slice(0, 12)}…)`}
                  </strong>
                )}
                {e.claimedTime !== undefined && <span className="muted"> · {new Date(e.claimedTime).toLocaleString()}</span>}
              </p>
              {(e.values ?? []).length ? <ul>{(e.values ?? []).map(value)}</ul> : <p className="muted small">No visible change.</p>}
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
