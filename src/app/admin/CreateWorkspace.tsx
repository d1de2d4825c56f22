// Create a workspace from the browser, with this person as its only admin: its name, the name the
// team will see for them, and the relay it syncs through (this page's relay by default; a signup token
// when the relay admits new workspaces by token). Works offline: the workspace is published at its
// first sync, and until then it can be used and its invitations prepared.
import { useState, type FormEvent } from 'react';
import type { BytesStore } from '../../identity/vault/idbBytes.ts';
import type { UnlockedVault } from '../../identity/vault/types.ts';
import { createWorkspaceInBrowser } from './browserAdmin.ts';
import './admin.css';

export function CreateWorkspace(props: { vault: UnlockedVault; store: BytesStore; defaultRelayUrl: string; onDone: (workspaceId?: string) => void }) {
  const [name, setName] = useState('');
  const [displayName, setDisplayName] = useState('');
  const [relayUrl, setRelayUrl] = useState(props.defaultRelayUrl);
  const [signupToken, setSignupToken] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setError('');
    setBusy(true);
    try {
      const r = await createWorkspaceInBrowser(props.store, props.vault, { name, displayName, relayUrl, signupToken });
      if (!r.ok) return setError(`${r.detail ?? r.reason} (${r.reason})`);
      props.onDone(r.value.workspaceId);
    } catch (err) {
      setError(`unexpected error: ${(err as Error).message}`);
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="gate create-workspace" onSubmit={submit} data-testid="create-workspace" aria-labelledby="create-heading">
      <h2 id="create-heading">New team workspace</h2>
      <p className="muted">You will be its admin. Names are encrypted: the relay sees neither the workspace's name nor yours.</p>
      <label>
        Workspace name
        <input data-testid="workspace-name-input" value={name} onChange={(e) => setName(e.target.value)} maxLength={200} required autoFocus />
      </label>
      <label>
        Your name (as the team sees it)
        <input data-testid="display-name-input" value={displayName} onChange={(e) => setDisplayName(e.target.value)} maxLength={100} autoComplete="name" />
      </label>
      <label>
        Relay
        <input data-testid="create-relay-url" value={relayUrl} onChange={(e) => setRelayUrl(e.target.value)} spellCheck={false} />
      </label>
      <details>
        <summary>Signup token (only if the relay's operator gave you one)</summary>
        <label>
          Signup token
          <input data-testid="signup-token" value={signupToken} onChange={(e) => setSignupToken(e.target.value)} spellCheck={false} autoComplete="off" />
        </label>
      </details>
      <div className="actions">
        <button type="submit" data-testid="create-workspace-submit" disabled={busy || !name.trim()}>
          {busy ? 'Creating…' : 'Create workspace'}
        </button>
        <button type="button" onClick={() => props.onDone()} disabled={busy}>
          Cancel
        </button>
      </div>
      {error && (
        <p role="alert" className="error" data-testid="create-error">
          {error}
        </p>
      )}
    </form>
  );
}
