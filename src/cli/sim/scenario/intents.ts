// A membership change recorded as the CLI records one (`workspace role`, `workspace remove`): an
// intent in the member's stored workspace, appended at the head at its next sync. profiles.ts does
// the same for invitations and removals; this is the general form for scenario steps.
import { newIntent, type IntentAction } from '../../../identity/workspace/intents.ts';
import { loadWorkspace, saveWorkspace } from '../../../identity/workspace/store.ts';
import type { SimUser } from '../profiles.ts';

export function addIntent(u: SimUser, workspaceId: string, action: IntentAction, now: number): void {
  const w = loadWorkspace(u.home, u.vault.dataKey, workspaceId);
  if (!w.ok) throw new Error(`no workspace in ${u.name}'s profile: ${w.reason}`);
  saveWorkspace(u.home, u.vault.dataKey, { ...w.value, intents: [...(w.value.intents ?? []), newIntent(action, now)] });
}
