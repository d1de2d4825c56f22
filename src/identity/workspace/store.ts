// Each user's copy of a workspace (its log entries, the epoch keys it has opened, and small
// metadata such as the relay url) persisted under <home>/workspaces/, one file per workspace.
// Files are sealed under a subkey of the vault's data key, named by a keyed hash (no workspace id
// on disk), and the file name is bound into the AEAD, so files cannot be swapped. Node only.
import { mkdirSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import type { DataKey } from '../../crypto/keys.ts';
import { fail, type Result } from '../../crypto/result.ts';
import { writeFileAtomic } from '../vault/atomicWrite.ts';
import type { WorkspaceRejection } from './rejections.ts';
import { openStoredWorkspace, sealStoredWorkspace, workspaceStorageName, type StoredWorkspace } from './storeCodec.ts';

export type { StoredWorkspace };

const SUFFIX = '.ws';
const dirOf = (home: string) => join(home, 'workspaces');

/** The file name for a workspace: a keyed hash of its id, so names reveal nothing without the vault. */
export function workspaceFileName(dataKey: DataKey, workspaceId: string): string {
  return workspaceStorageName(dataKey, workspaceId) + SUFFIX;
}

export function saveWorkspace(home: string, dataKey: DataKey, ws: StoredWorkspace): void {
  const dir = dirOf(home);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const name = workspaceFileName(dataKey, ws.workspaceId);
  writeFileAtomic(join(dir, name), sealStoredWorkspace(dataKey, name, ws));
}

function openFile(home: string, dataKey: DataKey, name: string): Result<StoredWorkspace, WorkspaceRejection> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(join(dirOf(home), name)));
  } catch {
    return fail('store_missing');
  }
  return openStoredWorkspace(dataKey, name, bytes);
}

export function loadWorkspace(home: string, dataKey: DataKey, workspaceId: string): Result<StoredWorkspace, WorkspaceRejection> {
  const r = openFile(home, dataKey, workspaceFileName(dataKey, workspaceId));
  if (r.ok && r.value.workspaceId !== workspaceId) return fail('store_corrupt');
  return r;
}

/** Every workspace this vault can open in `home`; files it can't open are skipped. */
export function listWorkspaces(home: string, dataKey: DataKey): StoredWorkspace[] {
  let names: string[];
  try {
    names = readdirSync(dirOf(home)).filter((n) => n.endsWith(SUFFIX));
  } catch {
    return [];
  }
  const out: StoredWorkspace[] = [];
  for (const n of names.sort()) {
    const r = openFile(home, dataKey, n);
    if (r.ok && workspaceFileName(dataKey, r.value.workspaceId) === n) out.push(r.value);
  }
  return out;
}

export function deleteWorkspace(home: string, dataKey: DataKey, workspaceId: string): void {
  try {
    unlinkSync(join(dirOf(home), workspaceFileName(dataKey, workspaceId)));
  } catch {
    /* already gone */
  }
}

