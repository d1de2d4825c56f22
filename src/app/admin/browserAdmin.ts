// Team administration from the browser, offline-first like the CLI's (src/cli/workspaceProfile.ts):
// a membership change is checked against the workspace as this browser knows it, then kept as a
// pending intent in the encrypted workspace store; the sync engine rebuilds it on the chain's head,
// appends it at the next pass (asked for at once through requestSync) and reports it if it no longer
// applies. Creating a workspace works offline too: its root is published at the first sync.
import type { EpochKey } from '../../crypto/keys.ts';
import { fail, ok, type Result } from '../../crypto/result.ts';
import { deviceKeysOfVault } from '../../identity/vault/deviceKeys.ts';
import type { BytesStore } from '../../identity/vault/idbBytes.ts';
import type { UnlockedVault } from '../../identity/vault/types.ts';
import { createWorkspace } from '../../identity/workspace/createWorkspace.ts';
import type { Role } from '../../identity/workspace/entry.ts';
import { formatInvitationToken } from '../../identity/workspace/invitation.ts';
import { newInvitation } from '../../identity/workspace/invitations.ts';
import { buildIntent, inviteIntent, newIntent, type Intent, type IntentAction } from '../../identity/workspace/intents.ts';
import { replayLog } from '../../identity/workspace/log.ts';
import { cleanDisplayName, withNames } from '../../identity/workspace/names.ts';
import type { WorkspaceRejection } from '../../identity/workspace/rejections.ts';
import type { WorkspaceState } from '../../identity/workspace/state.ts';
import type { StoredWorkspace } from '../../identity/workspace/store.ts';
import { listBrowserWorkspaces, saveBrowserWorkspace, withWorkspaceWriteLock } from '../browserWorkspaceStore.ts';
import { requestSync } from '../syncNow.ts';

export interface BrowserWorkspace {
  stored: StoredWorkspace;
  /** The membership state with the names this browser can open. */
  state: WorkspaceState;
}

/** Read-modify-write of one stored workspace is serialised across this origin's tabs. */
const exclusive = withWorkspaceWriteLock;

export async function loadBrowserWorkspace(store: BytesStore, vault: UnlockedVault, workspaceId: string): Promise<Result<BrowserWorkspace, 'workspace_unreadable'>> {
  const stored = (await listBrowserWorkspaces(store, vault.dataKey)).find((w) => w.workspaceId === workspaceId);
  if (!stored) return fail('workspace_unreadable', 'not stored in this browser');
  const st = replayLog(stored.entries);
  if (!st.ok) return fail('workspace_unreadable', st.reason);
  return ok({ stored, state: withNames(st.value, stored.epochKeys) });
}

export type IntentFailure = WorkspaceRejection | 'workspace_unreadable';

/**
 * Keep `action` as a pending intent after checking it at the head this browser holds (so a change the
 * chain would refuse is refused here, with its reason), and ask the sync engine to send it now.
 */
export async function recordBrowserIntent(store: BytesStore, vault: UnlockedVault, workspaceId: string, action: IntentAction, now = Date.now()): Promise<Result<Intent, IntentFailure>> {
  const r = await exclusive(workspaceId, async (): Promise<Result<Intent, IntentFailure>> => {
    const ws = await loadBrowserWorkspace(store, vault, workspaceId);
    if (!ws.ok) return ws;
    const check = buildIntent(ws.value.state, deviceKeysOfVault(vault), ws.value.stored.epochKeys, action, now);
    if (!check.ok) return check;
    const intent = newIntent(action, now);
    await saveBrowserWorkspace(store, vault.dataKey, { ...ws.value.stored, intents: [...(ws.value.stored.intents ?? []), intent] });
    return ok(intent);
  });
  if (r.ok) requestSync(workspaceId);
  return r;
}

/** Forget a failed intent once its person has read why (pending ones stay until the relay answers). */
export async function dismissFailedIntent(store: BytesStore, vault: UnlockedVault, workspaceId: string, intentId: string): Promise<void> {
  await exclusive(workspaceId, async () => {
    const ws = await loadBrowserWorkspace(store, vault, workspaceId);
    if (!ws.ok) return;
    const intents = (ws.value.stored.intents ?? []).filter((i) => !(i.id === intentId && i.status === 'failed'));
    await saveBrowserWorkspace(store, vault.dataKey, { ...ws.value.stored, intents });
  });
}

export interface InviteTerms {
  role: Role;
  /** How long the code stays valid (ms). */
  ttlMs: number;
  uses: number;
}

/** An invitation: the code to give (shown once: only its hash-derived keys go into the log) and the intent that publishes it. */
export async function inviteFromBrowser(store: BytesStore, vault: UnlockedVault, workspaceId: string, terms: InviteTerms, now = Date.now()): Promise<Result<{ code: string; expiresAt: number; intent: Intent }, IntentFailure>> {
  const inv = newInvitation({ role: terms.role, expiresAt: now + terms.ttlMs, maxUses: terms.uses });
  const r = await recordBrowserIntent(store, vault, workspaceId, inviteIntent(inv.terms), now);
  if (!r.ok) return r;
  return ok({ code: formatInvitationToken(workspaceId, inv.code), expiresAt: now + terms.ttlMs, intent: r.value });
}

export interface NewWorkspace {
  name: string;
  displayName?: string;
  /** ws(s)://HOST:PORT of the relay it syncs through; none keeps it in this browser only. */
  relayUrl?: string;
  signupToken?: string;
}

export type CreateFailure = 'workspace_name_invalid' | 'display_name_invalid' | 'relay_url_invalid';

/** Create a workspace with this person as its only admin (offline; published at the first sync). */
export async function createWorkspaceInBrowser(store: BytesStore, vault: UnlockedVault, o: NewWorkspace, now = Date.now()): Promise<Result<{ workspaceId: string; epochKey: EpochKey }, CreateFailure>> {
  const name = o.name.normalize('NFC').trim();
  if (name.length === 0 || name.length > 200) return fail('workspace_name_invalid', 'the workspace name must be 1 to 200 characters');
  const displayName = o.displayName?.trim() ? cleanDisplayName(o.displayName) : undefined;
  if (o.displayName?.trim() && !displayName) return fail('display_name_invalid', 'your name must be 1 to 100 characters without control characters');
  const relay = o.relayUrl?.trim();
  if (relay && !/^wss?:\/\/[^\s/]+\/?$/.test(relay)) return fail('relay_url_invalid', `the relay must look like ws://HOST:PORT, got ${relay}`);
  const created = createWorkspace({ ...deviceKeysOfVault(vault), ...(displayName ? { name: displayName } : {}) }, name, { now });
  await saveBrowserWorkspace(store, vault.dataKey, {
    workspaceId: created.workspaceId,
    entries: created.entries,
    epochKeys: new Map([[0, created.epochKey]]),
    meta: { ...(relay ? { relay } : {}), ...(o.signupToken?.trim() ? { signupToken: o.signupToken.trim() } : {}) },
  });
  return ok({ workspaceId: created.workspaceId, epochKey: created.epochKey });
}
