// Join a team workspace with an invitation code (from the Team view or `cloister workspace invite`),
// under the name the team will see; it syncs through the relay that served this page unless another is given.
import { useState, type FormEvent } from 'react';
import type { UnlockedVault } from '../identity/vault/types.ts';
import { cleanDisplayName } from '../identity/workspace/names.ts';
import { joinInBrowser } from './joinInBrowser.ts';
import { workspacesStore } from './openAppRecords.ts';

export const defaultRelayUrl = (): string => `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/`;

export function JoinWorkspace({ vault, onDone }: { vault: UnlockedVault; onDone: (joinedId?: string) => void }) {
  const [token, setToken] = useState('');
  const [relayUrl, setRelayUrl] = useState(defaultRelayUrl);
  const [displayName, setDisplayName] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setError('');
    setBusy(true);
    try {
      const name = displayName.trim() ? cleanDisplayName(displayName) : undefined;
      if (displayName.trim() && !name) return setError('your name must be 1 to 100 characters without control characters (display_name_invalid)');
      const r = await joinInBrowser({ vault, token: token.trim(), relayUrl: relayUrl.trim(), store: workspacesStore, ...(name ? { displayName: name } : {}) });
      if (!r.ok) return setError(r.detail ?? r.reason);
      onDone(r.value.workspaceId);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="gate" onSubmit={submit} data-testid="join-workspace">
      <h2>Join a workspace</h2>
      <p>Paste the invitation code an admin gave you (from the Team view or <code>cloister workspace invite</code>).</p>
      <label>
        Invitation code
        <input data-testid="invite-code" autoComplete="off" spellCheck={false} value={token} onChange={(e) => setToken(e.target.value)} autoFocus />
      </label>
      <label>
        Your name (as the team sees it)
        <input data-testid="join-display-name" value={displayName} onChange={(e) => setDisplayName(e.target.value)} maxLength={100} autoComplete="name" />
      </label>
      <label>
        Relay
        <input data-testid="relay-url" value={relayUrl} onChange={(e) => setRelayUrl(e.target.value)} />
      </label>
      <div className="actions">
        <button type="submit" data-testid="join-submit" disabled={busy || !token.trim()}>
          {busy ? 'Joining…' : 'Join'}
        </button>
        <button type="button" onClick={() => onDone()} disabled={busy}>
          Cancel
        </button>
      </div>
      {error && <p role="alert" className="error" data-testid="join-error">{error}</p>}
    </form>
  );
}
