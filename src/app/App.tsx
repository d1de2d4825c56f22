// The web app: unlock (or create) the vault, then open this browser's encrypted records. Locking
// closes the session and forgets the keys held in memory. Everything works offline.
import { useEffect, useState } from 'react';
import type { UnlockedVault } from '../identity/vault/types.ts';
import { ChangePassword } from './ChangePassword.tsx';
import { openAppRecords, type AppRecords } from './openAppRecords.ts';
import { RecordsView } from './RecordsView.tsx';
import { VaultGate } from './VaultGate.tsx';

export function App() {
  const [vault, setVault] = useState<UnlockedVault>();
  const [app, setApp] = useState<AppRecords>();
  const [error, setError] = useState('');
  const [changing, setChanging] = useState(false);
  const [notice, setNotice] = useState('');

  useEffect(() => {
    if (!vault) return;
    let current: AppRecords | undefined;
    let gone = false;
    openAppRecords(vault).then(
      (r) => {
        if (!r.ok) return setError(`cannot open this browser's records: ${r.reason}${r.detail ? ` (${r.detail})` : ''}`);
        if (gone) return void r.value.close();
        current = r.value;
        setApp(r.value);
      },
      (e: Error) => setError(`cannot open this browser's records: ${e.message}`),
    );
    return () => {
      gone = true;
      setApp(undefined);
      void current?.close();
    };
  }, [vault]);

  return (
    <div className="app">
      <header>
        <h1>Cloister</h1>
        {vault && (
          <span className="who">
            {app ? `${app.workspaceName} · ` : ''}device {vault.device.deviceId.slice(0, 8)}
            <button type="button" data-testid="open-change-password" onClick={() => (setNotice(''), setChanging(true))}>
              Change password
            </button>
            <button type="button" data-testid="lock" onClick={() => (setChanging(false), setNotice(''), setVault(undefined))}>
              Lock
            </button>
          </span>
        )}
      </header>
      {notice && <p className="muted" data-testid="notice">{notice}</p>}
      {!vault ? (
        <VaultGate onUnlocked={setVault} />
      ) : changing ? (
        <ChangePassword onDone={(changed) => (setChanging(false), setNotice(changed ? 'Password changed.' : ''))} />
      ) : error ? (
        <p role="alert" className="error">{error}</p>
      ) : !app ? (
        <p>Opening your records…</p>
      ) : (
        <RecordsView app={app} />
      )}
    </div>
  );
}
