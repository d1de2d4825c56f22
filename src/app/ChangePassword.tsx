// Change the vault's password: only the password wrap is rewritten (no record is re-encrypted).
// The new password must pass the policy the CLI shares, shown by the strength meter as it is typed.
import { useState, type FormEvent } from 'react';
import { changeBrowserPassword } from '../identity/vault/browserVault.ts';
import { describeVaultFailure } from '../identity/vault/types.ts';
import { PasswordStrength, refusalOf, usePasswordVerdict } from './PasswordStrength.tsx';
import { vaultStore } from './vaultStore.ts';

export function ChangePassword({ onDone }: { onDone: (changed: boolean) => void }) {
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [confirm, setConfirm] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const strength = usePasswordVerdict(next);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setError('');
    if (busy) return;
    setBusy(true);
    const refusal = await refusalOf(next);
    setBusy(false);
    if (refusal) return setError(refusal);
    if (next !== confirm) return setError('the new passwords do not match');
    setBusy(true);
    try {
      const r = await changeBrowserPassword(vaultStore, current, next);
      if (!r.ok) return setError(describeVaultFailure(r));
      onDone(true);
    } catch (err) {
      setError(`unexpected error: ${(err as Error).message}`);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="gate" onSubmit={submit} data-testid="change-password">
      <h2>Change password</h2>
      <label>
        Current password
        <input type="password" data-testid="current-password" autoComplete="current-password" value={current} onChange={(e) => setCurrent(e.target.value)} autoFocus />
      </label>
      <label>
        New password
        <input type="password" data-testid="new-password" autoComplete="new-password" value={next} onChange={(e) => setNext(e.target.value)} />
      </label>
      <PasswordStrength password={next} {...strength} />
      <label>
        Repeat new password
        <input type="password" data-testid="new-password-confirm" autoComplete="new-password" value={confirm} onChange={(e) => setConfirm(e.target.value)} />
      </label>
      <div className="actions">
        <button type="submit" data-testid="change-password-submit" disabled={busy || !current || !next}>
          {busy ? 'Working…' : 'Change password'}
        </button>
        <button type="button" onClick={() => onDone(false)} disabled={busy}>
          Cancel
        </button>
      </div>
      {error && <p role="alert" className="error" data-testid="change-password-error">{error}</p>}
    </form>
  );
}
