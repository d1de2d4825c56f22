// The web app: unlock (or create) the vault, then open this browser's encrypted records in one of its
// workspaces (a personal one to start; team workspaces sync live). The header switches workspace and
// opens the other views: the team (members, invitations, roles, removal, devices), a new team
// workspace, joining one, linking a device, settings and the password. Locking closes the session and
// forgets the keys held in memory. Everything but joining and linking works offline.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { UnlockedVault } from '../identity/vault/types.ts';
import { CreateWorkspace } from './admin/CreateWorkspace.tsx';
import { LinkDevice } from './admin/LinkDevice.tsx';
import { TeamView } from './admin/TeamView.tsx';
import { ChangePassword } from './ChangePassword.tsx';
import { defaultRelayUrl, JoinWorkspace } from './JoinWorkspace.tsx';
import { ensureWorkspaces, openAppRecords, workspacesStore, type AppRecords, type WorkspaceChoice } from './openAppRecords.ts';
import type { EditorDraft } from './RecordEditor.tsx';
import { RecordsView } from './RecordsView.tsx';
import { Settings } from './Settings.tsx';
import { SyncStatus } from './SyncStatus.tsx';
import { onSyncRequest } from './syncNow.ts';
import { useIdleLock, useIdleLockSeconds } from './useIdleLock.ts';
import { VaultGate } from './VaultGate.tsx';
import './header.css';

type Panel = 'records' | 'team' | 'create' | 'join' | 'link' | 'password' | 'settings';

/** The display name of `userId` in the open workspace, if they chose one and this device can read it. */
export function nameIn(app: AppRecords | undefined, userId: string): string | undefined {
  return app?.sync.live.state.members.get(userId)?.name;
}

export function App() {
  const [vault, setVault] = useState<UnlockedVault>();
  const [workspaces, setWorkspaces] = useState<WorkspaceChoice[]>([]);
  const [chosen, setChosen] = useState<string>();
  const [app, setApp] = useState<AppRecords>();
  const [error, setError] = useState('');
  const [panel, setPanel] = useState<Panel>('records');
  const [notice, setNotice] = useState('');
  const [menuOpen, setMenuOpen] = useState(false);
  const mainRef = useRef<HTMLElement>(null);

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
    setError('');
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

  // Membership changes recorded in this tab (Team view) are sent at once by the tabs' one sync engine.
  useEffect(() => (app ? onSyncRequest(app.workspaceId, () => app.tabs.syncNow()) : undefined), [app]);

  // A view that opens moves the keyboard focus to its heading (or its first control), not the page body.
  useEffect(() => {
    if (!vault) return;
    const t = setTimeout(() => {
      const main = mainRef.current;
      if (!main || main.contains(document.activeElement)) return;
      const target = main.querySelector<HTMLElement>('h2[tabindex="-1"], [autofocus], input, select, textarea, button');
      target?.focus();
    }, 0);
    return () => clearTimeout(t);
  }, [vault, panel, app]);

  const open = (p: Panel) => {
    setMenuOpen(false);
    setNotice('');
    setPanel(p);
  };

  // Unsaved edits per workspace, kept while other views are open and across workspace switches; locking
  // forgets them with the keys (the Lock button asks first; the idle lock can't, and doesn't wait).
  const drafts = useRef(new Map<string, Map<string, EditorDraft>>());
  const draftsOf = (workspaceId: string) => {
    let d = drafts.current.get(workspaceId);
    if (!d) drafts.current.set(workspaceId, (d = new Map()));
    return d;
  };
  const draftCount = () => [...drafts.current.values()].reduce((n, d) => n + d.size, 0);

  const lock = () => {
    drafts.current = new Map();
    setPanel('records');
    setNotice('');
    setVault(undefined);
  };
  const lockAsked = () => {
    const n = draftCount();
    if (n > 0 && !window.confirm(`${n} unsaved draft${n === 1 ? '' : 's'} will be discarded when the app locks. Lock anyway?`)) return;
    lock();
  };

  // Lock by itself after the idle time chosen in Settings (activity in any tab of the app counts).
  const idleSeconds = useIdleLockSeconds();
  useIdleLock(lock, vault ? idleSeconds : null);

  const current = workspaces.find((w) => w.workspaceId === chosen);
  // People by display name; this person, when they chose none (e.g. in the personal workspace), as "you".
  const myUserId = vault && app ? (app.sync.live.state.devices.get(vault.device.deviceId)?.userId ?? vault.userId) : undefined;
  const nameOf = useCallback((userId: string) => nameIn(app, userId) ?? (userId === myUserId ? 'you' : undefined), [app, myUserId]);
  const myName = myUserId !== undefined ? nameIn(app, myUserId) : undefined;

  return (
    <div className="app">
      <header>
        <h1>Cloister</h1>
        {vault && (
          <nav className="who" aria-label="workspace and account">
            {workspaces.length > 1 ? (
              <select aria-label="workspace" data-testid="workspace-select" value={chosen} onChange={(e) => (open('records'), setChosen(e.target.value))}>
                {workspaces.map((w) => (
                  <option key={w.workspaceId} value={w.workspaceId}>
                    {w.name}
                  </option>
                ))}
              </select>
            ) : (
              <span data-testid="workspace-name">{current?.name ?? ''}</span>
            )}
            <span className="me" data-testid="me">
              {myName ?? `device ${vault.device.deviceId.slice(0, 8)}`}
            </span>
            <button type="button" data-testid="open-records" aria-current={panel === 'records' ? 'page' : undefined} onClick={() => open('records')}>
              Records
            </button>
            <button type="button" data-testid="open-team" aria-current={panel === 'team' ? 'page' : undefined} onClick={() => open('team')} disabled={!app}>
              Team
            </button>
            {/* On phones the less frequent views fold into a menu (header.css); on wider screens all show. */}
            <button type="button" className="menu-toggle" data-testid="menu-toggle" aria-expanded={menuOpen} aria-controls="nav-more" onClick={() => setMenuOpen(!menuOpen)}>
              {menuOpen ? 'Close menu' : 'Menu'}
            </button>
            <div id="nav-more" className={`nav-more${menuOpen ? ' open' : ''}`}>
            <button type="button" data-testid="open-create-workspace" aria-current={panel === 'create' ? 'page' : undefined} onClick={() => open('create')}>
              New workspace
            </button>
            <button type="button" data-testid="open-join" aria-current={panel === 'join' ? 'page' : undefined} onClick={() => open('join')}>
              Join workspace
            </button>
            <button type="button" data-testid="open-settings" aria-current={panel === 'settings' ? 'page' : undefined} onClick={() => open('settings')}>
              Settings
            </button>
            <button type="button" data-testid="open-link-device" aria-current={panel === 'link' ? 'page' : undefined} onClick={() => open('link')}>
              Link a device
            </button>
            <button type="button" data-testid="open-change-password" aria-current={panel === 'password' ? 'page' : undefined} onClick={() => open('password')}>
              Change password
            </button>
            </div>
            <button type="button" data-testid="lock" onClick={lockAsked}>
              Lock
            </button>
          </nav>
        )}
      </header>
      {notice && (
        <p className="muted" role="status" data-testid="notice">
          {notice}
        </p>
      )}
      <main ref={mainRef}>
        {!vault ? (
          <VaultGate onUnlocked={setVault} />
        ) : panel === 'settings' ? (
          <Settings onDone={() => setPanel('records')} />
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
        ) : panel === 'link' ? (
          <LinkDevice
            vault={vault}
            defaultRelayUrl={app?.relayUrl ?? defaultRelayUrl()}
            onLinked={(ids) => {
              setPanel('records');
              setNotice('Linked. Records arrive as the workspace syncs.');
              void loadWorkspaces(vault, ids[0]);
            }}
            onClose={() => open('records')}
          />
        ) : panel === 'create' ? (
          <CreateWorkspace
            vault={vault}
            store={workspacesStore}
            defaultRelayUrl={defaultRelayUrl()}
            onDone={(created) => {
              if (!created) return setPanel('records');
              setPanel('team');
              setNotice('Workspace created. Invite people below; it reaches the relay at the first sync.');
              void loadWorkspaces(vault, created);
            }}
          />
        ) : error ? (
          <p role="alert" className="error">
            {error}
          </p>
        ) : !app ? (
          <p>Opening your records…</p>
        ) : (
          <>
            <SyncStatus app={app} />
            {panel === 'team' ? (
              <TeamView key={app.workspaceId} vault={vault} store={workspacesStore} workspaceId={app.workspaceId} {...(app.relayUrl ? { relayUrl: app.relayUrl } : {})} onClose={() => open('records')} />
            ) : (
              <RecordsView key={app.workspaceId} app={app} nameOf={nameOf} drafts={draftsOf(app.workspaceId)} />
            )}
          </>
        )}
      </main>
    </div>
  );
}
