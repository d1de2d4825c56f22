// The workspace side of a CLI profile: the vault's keys as workspace device keys, picking a stored
// workspace (the only one, or --workspace NAME|ID), appending our own entries and saving the result.
import type { UnlockedVault } from '../identity/vault/types.ts';
import type { EpochKey } from '../crypto/keys.ts';
import { appendEntry, logEntries, replayLog } from '../identity/workspace/log.ts';
import { describeRejection } from '../identity/workspace/rejections.ts';
import type { WorkspaceState } from '../identity/workspace/state.ts';
import { listWorkspaces, saveWorkspace, type StoredWorkspace } from '../identity/workspace/store.ts';
import { fail, type CommonOptions } from './context.ts';

export interface OpenWorkspace {
  stored: StoredWorkspace;
  state: WorkspaceState;
}

/** The workspace a command acts on, or exit with one line. */
export function chooseWorkspace(opts: CommonOptions, vault: UnlockedVault, name?: string): OpenWorkspace {
  const all: OpenWorkspace[] = [];
  for (const stored of listWorkspaces(opts.home, vault.dataKey)) {
    const r = replayLog(stored.entries, Date.now());
    if (r.ok) all.push({ stored, state: r.value });
  }
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

/** Append our own entry, remember any new epoch key, save; exit with the reason if refused. */
export function appendAndSave(opts: CommonOptions, vault: UnlockedVault, ws: OpenWorkspace, entry: Uint8Array, newKey?: { epoch: number; key: EpochKey }, meta?: Record<string, string>): OpenWorkspace {
  const r = appendEntry(ws.state, entry, Date.now());
  if (!r.ok) fail(`refused: ${describeRejection(r.reason)} (${r.reason})`);
  const epochKeys = new Map(ws.stored.epochKeys);
  if (newKey) epochKeys.set(newKey.epoch, newKey.key);
  const stored: StoredWorkspace = { workspaceId: ws.stored.workspaceId, entries: logEntries(r.value), epochKeys, meta: meta ?? ws.stored.meta };
  saveWorkspace(opts.home, vault.dataKey, stored);
  return { stored, state: r.value };
}

/** The current epoch key, or exit: a device without it cannot rotate or invite. */
export function currentKey(ws: OpenWorkspace): EpochKey {
  const k = ws.stored.epochKeys.get(ws.state.epoch);
  if (!k) fail(`this device does not hold the key for epoch ${ws.state.epoch} yet (sync first)`);
  return k;
}

/** "30m", "24h", "7d", "2w", "3600s" or plain milliseconds → milliseconds. */
export function parseDuration(s: string): number | undefined {
  const m = /^(\d+)\s*(ms|s|m|h|d|w)?$/.exec(s.trim());
  if (!m) return undefined;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[(m[2] ?? 'ms') as 'ms'];
  const v = Number(m[1]) * unit;
  return Number.isSafeInteger(v) && v > 0 ? v : undefined;
}
