// Create or unlock the browser vault. On create the recovery key is shown once, and the app opens
// only after the person confirms they wrote it down. A wrong password says "wrong password", no more.
import { useEffect, useState, type FormEvent } from 'react';
import { browserVaultExists, createBrowserVault, unlockBrowserVault } from '../identity/vault/browserVault.ts';
import { idbBytesStore } from '../identity/vault/idbBytes.ts';
import { describeVaultFailure, type UnlockedVault } from '../identity/vault/types.ts';

export const VAULT_DB = 'cloister-vault';
const store = idbBytesStore(VAULT_DB);

type Mode = 'checking' | 'create' | 'unlock' | 'recovery';

export function VaultGate({ onUnlocked }: { onUnlocked: (vault: UnlockedVault) => void }) {
  const [mode, setMode] = useState<Mode>('checking');
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<{ vault: UnlockedVault; recoveryKey: string }>();

  useEffect(() => {
    browserVaultExists(store).then(
      (exists) => setMode(exists ? 'unlock' : 'create'),
      (e: Error) => setError(`this browser's storage cannot be read: ${e.message}`),
    );
  }, []);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setError('');
    if (mode === 'create' && password !== confirm) return setError('the passwords do not match');
    setBusy(true);
    try {
      if (mode === 'create') {
        const r = await createBrowserVault(store, password);
        if (!r.ok) return setError(describeVaultFailure(r));
        setCreated(r.value);
        setMode('recovery');
      } else {
        const r = await unlockBrowserVault(store, password);
        if (!r.ok) return setError(describeVaultFailure(r));
        onUnlocked(r.value);
      }
    } catch (err) {
      setError(`unexpected error: ${(err as Error).message}`);
    } finally {
      setPassword('');
      setConfirm('');
      setBusy(false);
    }
  }

  if (mode === 'checking') return <p>{error || 'Loading…'}</p>;

  if (mode === 'recovery' && created) {
    return (
      <section className="gate">
        <h2>Your recovery key</h2>
        <p>Write it down and keep it safe. It is shown only now; with it you can set a new password if you forget yours.</p>
        <pre data-testid="recovery-key" className="recovery">{created.recoveryKey}</pre>
        <button type="button" data-testid="recovery-done" onClick={() => onUnlocked(created.vault)}>
          I wrote it down
        </button>
      </section>
    );
  }

  return (
    <form className="gate" onSubmit={submit}>
      <h2>{mode === 'create' ? 'Create your vault' : 'Unlock your vault'}</h2>
      {mode === 'create' && <p>Choose a password. It never leaves this browser; your records are encrypted under it.</p>}
      <label>
        Password
        <input type="password" data-testid="password" autoComplete={mode === 'create' ? 'new-password' : 'current-password'} value={password} onChange={(e) => setPassword(e.target.value)} autoFocus />
      </label>
      {mode === 'create' && (
        <label>
          Repeat password
          <input type="password" data-testid="password-confirm" autoComplete="new-password" value={confirm} onChange={(e) => setConfirm(e.target.value)} />
        </label>
      )}
      <button type="submit" data-testid="vault-submit" disabled={busy || password.length === 0}>
        {busy ? 'Working…' : mode === 'create' ? 'Create vault' : 'Unlock'}
      </button>
      {error && <p role="alert" className="error" data-testid="vault-error">{error}</p>}
    </form>
  );
}
