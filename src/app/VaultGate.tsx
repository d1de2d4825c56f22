// Create or unlock the browser vault. On create the recovery key is shown once, and the app opens
// only after the person confirms they wrote it down. A wrong password says "wrong password", no more.
// New passwords (create, recover) must pass the policy the CLI shares; unlocking never checks it.
import { useEffect, useState, type FormEvent } from 'react';
import { browserVaultExists, createBrowserVault, recoverBrowserVault, unlockBrowserVault } from '../identity/vault/browserVault.ts';
import { loadPasswordEstimator } from '../identity/vault/passwordPolicy.ts';
import { describeVaultFailure, type UnlockedVault } from '../identity/vault/types.ts';
import { PasswordStrength, refusalOf, usePasswordVerdict } from './PasswordStrength.tsx';
import { RecoveryKey } from './RecoveryKey.tsx';
import { vaultStore as store } from './vaultStore.ts';

type Mode = 'checking' | 'create' | 'unlock' | 'recover' | 'recovery';

export function VaultGate({ onUnlocked }: { onUnlocked: (vault: UnlockedVault) => void }) {
  const [mode, setMode] = useState<Mode>('checking');
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [recoveryKey, setRecoveryKey] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<{ vault: UnlockedVault; recoveryKey: string }>();
  const newPassword = mode === 'create' || mode === 'recover';
  const strength = usePasswordVerdict(newPassword ? password : '');

  useEffect(() => {
    browserVaultExists(store).then(
      (exists) => setMode(exists ? 'unlock' : 'create'),
      (e: Error) => setError(`this browser's storage cannot be read: ${e.message}`),
    );
  }, []);

  // Warm the strength estimator (its own chunk) while the person reads the form.
  useEffect(() => {
    if (newPassword) loadPasswordEstimator().catch(() => undefined);
  }, [newPassword]);

  async function submit(e: FormEvent) {
    e.preventDefault();
    if (busy) return;
    setError('');
    if (newPassword) {
      // The password stays in the fields on a refusal, so the meter keeps showing why.
      setBusy(true);
      const refusal = await refusalOf(password);
      setBusy(false);
      if (refusal) return setError(refusal);
      if (password !== confirm) return setError('the passwords do not match');
    }
    setBusy(true);
    try {
      if (mode === 'create') {
        const r = await createBrowserVault(store, password);
        if (!r.ok) return setError(describeVaultFailure(r));
        setCreated(r.value);
        setMode('recovery');
      } else if (mode === 'recover') {
        const r = await recoverBrowserVault(store, recoveryKey, password);
        if (!r.ok) return setError(describeVaultFailure(r));
        setRecoveryKey('');
        onUnlocked(r.value);
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

  if (mode === 'recovery' && created) return <RecoveryKey recoveryKey={created.recoveryKey} onDone={() => onUnlocked(created.vault)} />;

  return (
    <form className="gate" onSubmit={submit}>
      <h2>{mode === 'create' ? 'Create your vault' : mode === 'recover' ? 'Set a new password with your recovery key' : 'Unlock your vault'}</h2>
      {mode === 'create' && <p>Choose a password. It never leaves this browser; your records are encrypted under it.</p>}
      {mode === 'recover' && (
        <label>
          Recovery key
          <input data-testid="recovery-input" autoComplete="off" spellCheck={false} value={recoveryKey} onChange={(e) => setRecoveryKey(e.target.value)} autoFocus />
        </label>
      )}
      <label>
        {mode === 'recover' ? 'New password' : 'Password'}
        <input type="password" data-testid="password" autoComplete={newPassword ? 'new-password' : 'current-password'} value={password} onChange={(e) => setPassword(e.target.value)} autoFocus={mode !== 'recover'} />
      </label>
      {newPassword && <PasswordStrength password={password} {...strength} />}
      {newPassword && (
        <label>
          Repeat password
          <input type="password" data-testid="password-confirm" autoComplete="new-password" value={confirm} onChange={(e) => setConfirm(e.target.value)} />
        </label>
      )}
      <button type="submit" data-testid="vault-submit" disabled={busy || password.length === 0}>
        {busy ? 'Working…' : mode === 'create' ? 'Create vault' : mode === 'recover' ? 'Set new password' : 'Unlock'}
      </button>
      {(mode === 'unlock' || mode === 'recover') && (
        <button type="button" className="link" data-testid="toggle-recover" onClick={() => { setError(''); setMode(mode === 'unlock' ? 'recover' : 'unlock'); }}>
          {mode === 'unlock' ? 'Forgot your password? Use your recovery key' : 'Back to unlock'}
        </button>
      )}
      {error && <p role="alert" className="error" data-testid="vault-error">{error}</p>}
    </form>
  );
}
