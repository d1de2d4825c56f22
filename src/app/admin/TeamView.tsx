// The Team view: who is in the workspace (display names, roles, devices), and for admins the changes
// the membership design allows offline: invite (role, expiry, uses; the code to copy or share), change
// a role, remove a member, revoke a device. Each change is checked here, kept as a pending intent and
// sent at the next sync; pending and refused changes stay listed (refused ones with the reason) until
// dismissed. Anyone may revoke their own other devices and set their own display name.
import { useCallback, useEffect, useState } from 'react';
import type { BytesStore } from '../../identity/vault/idbBytes.ts';
import type { UnlockedVault } from '../../identity/vault/types.ts';
import type { Role } from '../../identity/workspace/entry.ts';
import type { IntentAction } from '../../identity/workspace/intents.ts';
import { cleanDisplayName } from '../../identity/workspace/names.ts';
import { dismissFailedIntent, loadBrowserWorkspace, recordBrowserIntent } from './browserAdmin.ts';
import { InvitePanel } from './InvitePanel.tsx';
import { failureText, shortId, teamOf, type Team, type TeamMember } from './teamModel.ts';
import './admin.css';

const ROLES: Role[] = ['admin', 'writer', 'reader'];
/** The store is re-read this often while the view is open: the sync engine adopts changes into it. */
const REFRESH_MS = 2_000;

export function TeamView({ vault, store, workspaceId, relayUrl, onClose }: { vault: UnlockedVault; store: BytesStore; workspaceId: string; relayUrl?: string; onClose: () => void }) {
  const [team, setTeam] = useState<Team>();
  const [name, setName] = useState('');
  const [error, setError] = useState('');
  const [message, setMessage] = useState('');
  const [confirmRemove, setConfirmRemove] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [myName, setMyName] = useState<string>();

  const refresh = useCallback(async () => {
    const ws = await loadBrowserWorkspace(store, vault, workspaceId);
    if (!ws.ok) return setError(`cannot read this workspace: ${ws.detail ?? ws.reason}`);
    setName(ws.value.state.name);
    setTeam(teamOf(ws.value.state, ws.value.stored.intents ?? [], vault.device.deviceId, vault.userId));
  }, [store, vault, workspaceId]);

  useEffect(() => {
    void refresh();
    const t = setInterval(() => void refresh(), REFRESH_MS);
    return () => clearInterval(t);
  }, [refresh]);

  async function change(action: IntentAction, done: string) {
    setError('');
    setMessage('');
    setBusy(true);
    try {
      const r = await recordBrowserIntent(store, vault, workspaceId, action);
      if (!r.ok) return setError(`Not possible: ${failureText(r.reason, r.detail)}`);
      setMessage(`${done} — ${relayUrl ? 'sent at the next sync' : 'kept in this browser'}.`);
      await refresh();
    } catch (e) {
      setError(`unexpected error: ${(e as Error).message}`);
    } finally {
      setBusy(false);
    }
  }

  if (!team) return <p>{error || 'Loading the team…'}</p>;
  const { isAdmin, me } = team;
  const current = team.members.filter((m) => !m.removed);
  const removed = team.members.filter((m) => m.removed);

  const deviceRow = (m: TeamMember) =>
    m.devices.map((d) => (
      <li key={d.deviceId} className={d.revoked ? 'revoked' : ''}>
        <span>
          device <code>{shortId(d.deviceId)}</code>
          {d.thisDevice && ' (this browser)'}
          {d.revoked && ' · revoked'}
        </span>
        {!d.revoked && !d.thisDevice && !m.removed && (isAdmin || m.you) && (
          <button
            type="button"
            className="danger small"
            data-testid="revoke-device"
            disabled={busy}
            aria-label={`Revoke device ${shortId(d.deviceId)} of ${m.label}`}
            onClick={() => void change({ kind: 'revoke_device', device: d.deviceId }, `Revoking device ${shortId(d.deviceId)}`)}
          >
            Revoke
          </button>
        )}
      </li>
    ));

  return (
    <section className="team" data-testid="team-view" aria-labelledby="team-heading">
      <div className="team-head">
        <h2 id="team-heading" tabIndex={-1}>
          Team · {name}
        </h2>
        <button type="button" onClick={onClose} data-testid="close-team">
          Back to records
        </button>
      </div>
      {me && (
        <p className="muted">
          You are {me.hasName ? <strong>{me.label}</strong> : 'a member without a display name'}, {me.role === 'admin' ? 'an admin' : `a ${me.role}`}.
          {!isAdmin && ' Only admins can invite people or change roles.'}
        </p>
      )}
      {me && !me.removed && (
        <form
          className="my-name"
          onSubmit={(e) => {
            e.preventDefault();
            const clean = cleanDisplayName(myName ?? '');
            if (!clean) return setError('Your name must be 1 to 100 characters without control characters (display_name_invalid).');
            void change({ kind: 'set_name', name: clean }, `Setting your name to "${clean}"`).then(() => setMyName(undefined));
          }}
        >
          <label>
            Your name in this workspace
            <input data-testid="my-name" value={myName ?? (me.hasName ? me.label : '')} onChange={(e) => setMyName(e.target.value)} maxLength={100} autoComplete="name" />
          </label>
          <button type="submit" data-testid="save-my-name" disabled={busy || myName === undefined}>
            Save name
          </button>
        </form>
      )}
      {error && (
        <p role="alert" className="error" data-testid="team-error">
          {error}
        </p>
      )}
      {message && (
        <p role="status" className="notice" data-testid="team-message">
          {message}
        </p>
      )}

      <h3>Members</h3>
      <ul className="members" data-testid="member-list">
        {current.map((m) => (
          <li key={m.userId} className="member" data-testid="member">
            <div className="member-main">
              <span className="member-name" data-testid="member-name">
                {m.label}
                {m.you && ' (you)'}
              </span>
              {isAdmin && !m.you ? (
                <label className="inline">
                  <span className="sr-only">Role of {m.label}</span>
                  <select
                    data-testid="member-role"
                    value={m.role}
                    disabled={busy}
                    onChange={(e) => void change({ kind: 'set_role', member: m.userId, role: e.target.value as Role }, `Making ${m.label} ${e.target.value}`)}
                  >
                    {ROLES.map((r) => (
                      <option key={r} value={r}>
                        {r}
                      </option>
                    ))}
                  </select>
                </label>
              ) : (
                <span className="role" data-testid="member-role-text">
                  {m.role}
                </span>
              )}
              {isAdmin && !m.you && confirmRemove !== m.userId && (
                <button type="button" className="danger small" data-testid="remove-member" disabled={busy} onClick={() => setConfirmRemove(m.userId)}>
                  Remove…
                </button>
              )}
            </div>
            {confirmRemove === m.userId && (
              <div className="confirm" role="group" aria-label={`Remove ${m.label}?`}>
                <span>
                  Remove {m.label}? Their devices are revoked and the workspace key is rotated; what they already saw stays with them.
                </span>
                <button
                  type="button"
                  className="danger"
                  data-testid="confirm-remove"
                  autoFocus
                  onClick={() => (setConfirmRemove(undefined), void change({ kind: 'remove_member', member: m.userId }, `Removing ${m.label}`))}
                >
                  Remove
                </button>
                <button type="button" onClick={() => setConfirmRemove(undefined)}>
                  Cancel
                </button>
              </div>
            )}
            <ul className="devices">{deviceRow(m)}</ul>
          </li>
        ))}
      </ul>
      {removed.length > 0 && (
        <details>
          <summary>Removed members ({removed.length})</summary>
          <ul className="members">
            {removed.map((m) => (
              <li key={m.userId} data-testid="removed-member">
                {m.label} · removed
              </li>
            ))}
          </ul>
        </details>
      )}

      {team.changes.length > 0 && (
        <>
          <h3>Changes waiting for the relay</h3>
          <ul className="changes" data-testid="pending-changes">
            {team.changes.map((c) => (
              <li key={c.id} data-testid={c.status === 'failed' ? 'failed-change' : 'pending-change'}>
                {c.status === 'pending' ? (
                  <span>{c.text} · waiting to be sent</span>
                ) : (
                  <>
                    <span className="error">
                      {c.text} · not possible any more: {c.why}
                    </span>{' '}
                    <button type="button" className="small" onClick={() => void dismissFailedIntent(store, vault, workspaceId, c.id).then(refresh)}>
                      Dismiss
                    </button>
                  </>
                )}
              </li>
            ))}
          </ul>
        </>
      )}

      {isAdmin &&
        (relayUrl ? (
          <InvitePanel store={store} vault={vault} workspaceId={workspaceId} onInvited={() => void refresh()} />
        ) : (
          <p className="muted">This workspace is kept in this browser only. To work with others, create a team workspace that syncs through a relay.</p>
        ))}
    </section>
  );
}
