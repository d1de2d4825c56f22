// The web app: unlock (or create) the vault, then open this browser's encrypted records in one of its
// workspaces (a personal one to start; joined team workspaces sync live). Locking closes the session
// and forgets the keys held in memory. Everything but joining and syncing works offline.
import { useEffect, useState } from 'react';
import type { UnlockedVault } from '../identity/vault/types.ts';
import { ChangePassword } from './ChangePassword.tsx';
import { JoinWorkspace } from './JoinWorkspace.tsx';
import { ensureWorkspaces, openAppRecords, type AppRecords, type WorkspaceChoice } from './openAppRecords.ts';
import { RecordsView } from './RecordsView.tsx';
import { SyncStatus } from './SyncStatus.tsx';
import { VaultGate } from './VaultGate.tsx';

type Panel = 'records' | 'password' | 'join';

export function App() {
  const [vault, setVault] = useState<UnlockedVault>();
  const [workspaces, setWorkspaces] = useState<WorkspaceChoice[]>([]);
  const [chosen, setChosen] = useState<string>();
  const [app, setApp] = useState<AppRecords>();
  const [error, setError] = useState('');
  const [panel, setPanel] = useState<Panel>('records');
  const [notice, setNotice] = useState('');

  async function loadWorkspaces(v: UnlockedVault, select?: string) {
    try {
      const list = await ensureWorkspaces(v);
      setWorkspaces(list);
      setChosen((c) => select ?? c ?? list[0]?.workspaceId);
    } catch (e) {
      setError(`cannot read this browser's workspaces: ${(e as Error).message}`);
    }
  }

  useEffect(() => {
    setWorkspaces([]);
    setChosen(undefined);
    setError('');
    if (vault) void loadWorkspaces(vault);
  }, [vault]);

  useEffect(() => {
    if (!vault || !chosen) return;
    let current: AppRecords | undefined;
    let gone = false;
    openAppRecords(vault, chosen).then(
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
  }, [vault, chosen]);

  const lock = () => {
    setPanel('records');
    setNotice('');
    setVault(undefined);
  };

  return (
    <div className="app">
      <header>
        <h1>Cloister</h1>
        {vault && (
          <span className="who">
            {workspaces.length > 1 ? (
              <select aria-label="workspace" data-testid="workspace-select" value={chosen} onChange={(e) => (setPanel('records'), setChosen(e.target.value))}>
                {workspaces.map((w) => (
                  <option key={w.workspaceId} value={w.workspaceId}>
                    {w.name}
                  </option>
                ))}
              </select>
            ) : (
              <span data-testid="workspace-name">{workspaces[0]?.name ?? ''}</span>
            )}
            <span>· device {vault.device.deviceId.slice(0, 8)}</span>
            <button type="button" data-testid="open-join" onClick={() => (setNotice(''), setPanel('join'))}>
              Join workspace
            </button>
            <button type="button" data-testid="open-change-password" onClick={() => (setNotice(''), setPanel('password'))}>
              Change password
            </button>
            <button type="button" data-testid="lock" onClick={lock}>
              Lock
            </button>
          </span>
        )}
      </header>
      {notice && <p className="muted" data-testid="notice">{notice}</p>}
      {!vault ? (
        <VaultGate onUnlocked={setVault} />
      ) : panel === 'password' ? (
        <ChangePassword onDone={(changed) => (setPanel('records'), setNotice(changed ? 'Password changed.' : ''))} />
      ) : panel === 'join' ? (
        <JoinWorkspace
          vault={vault}
          onDone={(joined) => {
            setPanel('records');
            if (joined) {
              setNotice('Joined. Records arrive as the workspace syncs.');
              void loadWorkspaces(vault, joined);
            }
          }}
        />
      ) : error ? (
        <p role="alert" className="error">{error}</p>
      ) : !app ? (
        <p>Opening your records…</p>
      ) : (
        <>
          <SyncStatus app={app} />
          <RecordsView key={app.workspaceId} app={app} />
        </>
      )}
    </div>
  );
}
