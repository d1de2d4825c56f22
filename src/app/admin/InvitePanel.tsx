// Invite someone: choose the role, how long the code stays valid and how many people may use it; the
// code (shown once, here only: the log holds keys derived from it, never the code) can be copied or
// shared with the system share sheet. Works offline: the invitation is published at the next sync,
// and the code works from then on.
import { useRef, useState, type FormEvent } from 'react';
import type { BytesStore } from '../../identity/vault/idbBytes.ts';
import type { UnlockedVault } from '../../identity/vault/types.ts';
import type { Role } from '../../identity/workspace/entry.ts';
import { inviteFromBrowser } from './browserAdmin.ts';
import { failureText } from './teamModel.ts';

const EXPIRIES: { label: string; ms: number }[] = [
  { label: '1 hour', ms: 3_600_000 },
  { label: '1 day', ms: 86_400_000 },
  { label: '7 days', ms: 7 * 86_400_000 },
  { label: '30 days', ms: 30 * 86_400_000 },
];

export function InvitePanel({ store, vault, workspaceId, onInvited }: { store: BytesStore; vault: UnlockedVault; workspaceId: string; onInvited: () => void }) {
  const [role, setRole] = useState<Role>('writer');
  const [expiry, setExpiry] = useState(EXPIRIES[2]!.ms);
  const [uses, setUses] = useState(1);
  const [code, setCode] = useState<{ code: string; expiresAt: number; role: Role }>();
  const [error, setError] = useState('');
  const [copied, setCopied] = useState('');
  const [busy, setBusy] = useState(false);
  const codeRef = useRef<HTMLInputElement>(null);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setError('');
    setCopied('');
    setBusy(true);
    try {
      const r = await inviteFromBrowser(store, vault, workspaceId, { role, ttlMs: expiry, uses });
      if (!r.ok) return setError(`The invitation was refused: ${failureText(r.reason, r.detail)}`);
      setCode({ code: r.value.code, expiresAt: r.value.expiresAt, role });
      onInvited();
      setTimeout(() => codeRef.current?.select(), 0);
    } finally {
      setBusy(false);
    }
  }

  async function copy() {
    if (!code) return;
    try {
      await navigator.clipboard.writeText(code.code);
      setCopied('Copied.');
    } catch {
      codeRef.current?.select();
      setCopied('Copying is blocked here: the code is selected, copy it with the keyboard.');
    }
  }

  const canShare = typeof navigator !== 'undefined' && typeof navigator.share === 'function';

  return (
    <form className="invite" onSubmit={submit} data-testid="invite-form" aria-labelledby="invite-heading">
      <h3 id="invite-heading">Invite someone</h3>
      <div className="invite-row">
        <label>
          Role
          <select data-testid="invite-role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
            <option value="writer">writer (reads and edits records)</option>
            <option value="reader">reader (reads records)</option>
            <option value="admin">admin (also manages the team)</option>
          </select>
        </label>
        <label>
          Valid for
          <select data-testid="invite-expiry" value={expiry} onChange={(e) => setExpiry(Number(e.target.value))}>
            {EXPIRIES.map((x) => (
              <option key={x.ms} value={x.ms}>
                {x.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          People
          <input data-testid="invite-uses" type="number" min={1} max={1000} value={uses} onChange={(e) => setUses(Math.min(1000, Math.max(1, Math.floor(Number(e.target.value) || 1))))} />
        </label>
      </div>
      <div className="actions">
        <button type="submit" data-testid="invite-submit" disabled={busy}>
          {busy ? 'Creating…' : 'Create invitation'}
        </button>
      </div>
      {error && (
        <p role="alert" className="error" data-testid="invite-error">
          {error}
        </p>
      )}
      {code && (
        <div className="invite-code" role="group" aria-label="Invitation code">
          <label>
            Invitation code for a {code.role}, valid until {new Date(code.expiresAt).toLocaleString()}
            <input ref={codeRef} data-testid="invite-code-output" readOnly value={code.code} onFocus={(e) => e.target.select()} spellCheck={false} />
          </label>
          <div className="actions">
            <button type="button" data-testid="copy-invite" onClick={() => void copy()}>
              Copy code
            </button>
            {canShare && (
              <button type="button" data-testid="share-invite" onClick={() => void navigator.share({ title: 'Cloister invitation', text: code.code }).catch(() => undefined)}>
                Share…
              </button>
            )}
            <span role="status" className="muted">
              {copied}
            </span>
          </div>
          <p className="muted">Give it to the person privately (it lets whoever holds it join). It is shown only now.</p>
        </div>
      )}
    </form>
  );
}
