// Settings for this browser (not secret, kept in localStorage, shared by the app's tabs): for now the
// idle time after which the app locks itself (see useIdleLock.ts). A change applies at once.
import { useId } from 'react';
import { IDLE_LOCK_CHOICES, useIdleLockSeconds, writeIdleLockSeconds } from './useIdleLock.ts';
import './vault.css';

function describeIdle(seconds: number): string {
  if (seconds === 0) return 'Never';
  if (seconds % 3600 === 0) return seconds === 3600 ? 'After 1 hour' : `After ${seconds / 3600} hours`;
  if (seconds % 60 === 0) return seconds === 60 ? 'After 1 minute' : `After ${seconds / 60} minutes`;
  return seconds === 1 ? 'After 1 second' : `After ${seconds} seconds`;
}

export function Settings({ onDone }: { onDone: () => void }) {
  const seconds = useIdleLockSeconds();
  const selectId = useId();
  // A value set outside the choices (e.g. a few seconds by a test) is shown as it is.
  const choices: number[] = (IDLE_LOCK_CHOICES as readonly number[]).includes(seconds) ? [...IDLE_LOCK_CHOICES] : [seconds, ...IDLE_LOCK_CHOICES];

  return (
    <section className="settings" data-testid="settings" aria-labelledby={`${selectId}-h`}>
      <h2 id={`${selectId}-h`} tabIndex={-1}>
        Settings
      </h2>
      <label htmlFor={selectId}>Lock the app when idle</label>
      <select id={selectId} data-testid="idle-lock-select" aria-describedby={`${selectId}-help`} value={String(seconds)} onChange={(e) => writeIdleLockSeconds(Number(e.target.value))}>
        {choices.map((s) => (
          <option key={s} value={String(s)}>
            {describeIdle(s)}
          </option>
        ))}
      </select>
      <p id={`${selectId}-help`} className="muted">
        With no mouse, touch or keyboard activity in any tab of Cloister for this long, the app locks and forgets its keys until
        you type your password again. This setting is stored in this browser only.
      </p>
      <div className="actions">
        <button type="button" data-testid="settings-done" onClick={onDone}>
          Done
        </button>
      </div>
    </section>
  );
}
