// The workspace side of a CLI profile: the vault's keys as workspace device keys, picking a stored
// workspace (the only one, or --workspace NAME|ID), recording membership changes as intents and
// taking them to the relay at once when it answers (else they wait for the next sync).
import { cleanDisplayName, MAX_DISPLAY_NAME, withNames } from '../identity/workspace/names.ts';
import type { UnlockedVault } from '../identity/vault/types.ts';
import type { EpochKey } from '../crypto/keys.ts';
import { replayLog } from '../identity/workspace/log.ts';
import { buildIntent, newIntent, type Intent, type IntentAction } from '../identity/workspace/intents.ts';
import { describeRejection, WORKSPACE_REJECTIONS, type WorkspaceRejection } from '../identity/workspace/rejections.ts';
import type { WorkspaceState } from '../identity/workspace/state.ts';
import { listWorkspaces, loadWorkspace, saveWorkspace, type StoredWorkspace } from '../identity/workspace/store.ts';
import { deviceKeysOfVault } from '../identity/vault/deviceKeys.ts';
import { openRecordSession } from '../docs/openSession.ts';
import { syncSessionOf } from '../docs/sync/nodeSyncSession.ts';
import { SyncEngine } from '../docs/sync/SyncEngine.ts';
import { EXIT, fail, note, type CommonOptions } from './context.ts';

export interface OpenWorkspace {
  stored: StoredWorkspace;
  state: WorkspaceState;
}

/** The workspace a command acts on, or exit with one line. */
export function chooseWorkspace(opts: CommonOptions, vault: UnlockedVault, name?: string): OpenWorkspace {
  const all: OpenWorkspace[] = [];
  let formatV1 = 0;
  for (const stored of listWorkspaces(opts.home, vault.dataKey)) {
    const r = replayLog(stored.entries);
    if (r.ok) all.push({ stored, state: withNames(r.value, stored.epochKeys) });
    else if (r.reason === 'log_format_v1') formatV1++;
  }
  if (all.length === 0 && formatV1 > 0) fail(describeRejection('log_format_v1'));
  if (all.length === 0) fail('this profile has no workspace yet (run `cloister workspace create NAME`)');
  if (name !== undefined) {
    const matches = all.filter((w) => w.state.name === name || w.stored.workspaceId === name);
    if (matches.length === 0) fail(`no workspace named ${name}`);
    if (matches.length > 1) fail(`several workspaces are named ${name}; use the id`);
    return matches[0]!;
  }
  if (all.length > 1) fail(`this profile has several workspaces; pick one with --workspace NAME (${all.map((w) => w.state.name).join(', ')})`);
  return all[0]!;
}

export interface IntentOutcome {
  intent: Intent;
  /** appended: in the chain now; pending: waiting for the relay; failed: no longer valid (with why). */
  status: 'appended' | 'pending' | 'failed';
  reason?: string;
  /** The workspace after the attempt. */
  ws: OpenWorkspace;
}

/**
 * Record a membership change as an intent (checked against our copy of the chain first, so a
 * change that can't work says so now), then sync once if the workspace has a relay. Offline, or
 * if the relay doesn't answer, the intent stays pending for the next sync.
 */
export async function recordIntent(opts: CommonOptions, vault: UnlockedVault, ws: OpenWorkspace, action: IntentAction): Promise<IntentOutcome> {
  const check = buildIntent(ws.state, deviceKeysOfVault(vault), ws.stored.epochKeys, action, Date.now());
  if (!check.ok) fail(`refused: ${describeRejection(check.reason)} (${check.reason})`);
  const intent = newIntent(action, Date.now());
  saveWorkspace(opts.home, vault.dataKey, { ...ws.stored, intents: [...(ws.stored.intents ?? []), intent] });
  if (ws.stored.meta.relay) {
    const s = await openRecordSession({ home: opts.home, vault, workspace: ws.stored.workspaceId });
    if (s.ok) {
      try {
        const engine = new SyncEngine(syncSessionOf(s.value, vault, opts.home), { relayUrl: ws.stored.meta.relay, timeoutMs: 15_000 });
        await engine.syncOnce().catch(() => undefined);
        await engine.stop().catch(() => undefined);
      } finally {
        await s.value.close().catch(() => undefined);
      }
    }
  }
  const after = reopen(opts, vault, ws.stored.workspaceId) ?? ws;
  const now = after.stored.intents?.find((i) => i.id === intent.id);
  if (!now) return { intent, status: 'appended', ws: after };
  return { intent: now, status: now.status, ...(now.reason ? { reason: now.reason } : {}), ws: after };
}

function reopen(opts: CommonOptions, vault: UnlockedVault, workspaceId: string): OpenWorkspace | undefined {
  const stored = loadWorkspace(opts.home, vault.dataKey, workspaceId);
  if (!stored.ok) return undefined;
  const r = replayLog(stored.value.entries);
  return r.ok ? { stored: stored.value, state: withNames(r.value, stored.value.epochKeys) } : undefined;
}

/** Say what became of an intent (stderr), for commands that record one. */
export function noteIntent(o: IntentOutcome, what: string): void {
  if (o.status === 'appended') note(`${what}: done (log index ${o.ws.state.order.length - 1})`);
  else if (o.status === 'pending') note(`${what}: pending; it reaches the relay at the next sync (cloister status lists pending changes)`);
  else note(`${what}: not possible any more: ${o.reason && Object.hasOwn(WORKSPACE_REJECTIONS, o.reason) ? describeRejection(o.reason as WorkspaceRejection) : o.reason} (${o.reason})`);
}

/** The current epoch key, or exit: a device without it cannot rotate or invite. */
export function currentKey(ws: OpenWorkspace): EpochKey {
  const k = ws.stored.epochKeys.get(ws.state.epoch);
  if (!k) fail(`this device does not hold the key for epoch ${ws.state.epoch} yet (sync first)`);
  return k;
}

/** `--display-name` checked (1 to 100 characters, no control characters), or exit with a usage error. */
export function checkDisplayName(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const name = cleanDisplayName(raw);
  if (name === undefined) fail(`--display-name must be 1 to ${MAX_DISPLAY_NAME} characters without control characters`, EXIT.usage);
  return name;
}

/** "30m", "24h", "7d", "2w", "3600s" or plain milliseconds → milliseconds. */
export function parseDuration(s: string): number | undefined {
  const m = /^(\d+)\s*(ms|s|m|h|d|w)?$/.exec(s.trim());
  if (!m) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[(m[2] ?? 'ms') as 'ms'];
  const v = Number(m[1]) * unit;
  return Number.isSafeInteger(v) && v > 0 ? v : undefined;
}
