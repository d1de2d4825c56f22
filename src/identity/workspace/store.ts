// Each user's copy of a workspace (its log entries, the epoch keys it has opened, and small
// metadata such as the relay url) persisted under <home>/workspaces/, one file per workspace.
// Files are sealed under a subkey of the vault's data key, named by a keyed hash (no workspace id
// on disk), and the file name is bound into the AEAD, so files cannot be swapped. Node only.
import { mkdirSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { openBytes, sealBytes } from '../../crypto/aead.ts';
import { ByteReader, ByteWriter, toBase64url, utf8 } from '../../crypto/bytes.ts';
import { DOMAIN, INFO } from '../../crypto/domains.ts';
import { deriveSubkey, hmacSha256 } from '../../crypto/hkdf.ts';
import { asKey, type DataKey, type EpochKey, type Key } from '../../crypto/keys.ts';
import { fail, ok, type Result } from '../../crypto/result.ts';
import { writeFileAtomic } from '../vault/atomicWrite.ts';
import type { WorkspaceRejection } from './rejections.ts';

export interface StoredWorkspace {
  workspaceId: string;
  entries: Uint8Array[];
  epochKeys: Map<number, EpochKey>;
  meta: Record<string, string>;
}

const FILE_VERSION = 1;
const SUFFIX = '.ws';

const storeKey = (dk: DataKey) => deriveSubkey<Key<'AeadKey'>>(dk, INFO.workspaceStoreKey, utf8('values'));
const nameKey = (dk: DataKey) => deriveSubkey<Key<'WorkspaceNameKey'>>(dk, INFO.workspaceStoreKey, utf8('names'));
const dirOf = (home: string) => join(home, 'workspaces');

/** The file name for a workspace: a keyed hash of its id, so names reveal nothing without the vault. */
export function workspaceFileName(dataKey: DataKey, workspaceId: string): string {
  const mac = hmacSha256(nameKey(dataKey), new ByteWriter().string(DOMAIN.workspaceStoreName).string(workspaceId).finish());
  return toBase64url(mac.subarray(0, 20)) + SUFFIX;
}

function encode(ws: StoredWorkspace): Uint8Array {
  const w = new ByteWriter().u8(FILE_VERSION).string(ws.workspaceId).u32(ws.entries.length);
  for (const e of ws.entries) w.bytes(e);
  const keys = [...ws.epochKeys].sort(([a], [b]) => a - b);
  w.u32(keys.length);
  for (const [epoch, key] of keys) w.u32(epoch).bytes(key);
  return w.string(JSON.stringify(ws.meta)).finish();
}

function decode(bytes: Uint8Array): StoredWorkspace | undefined {
  const r = new ByteReader(bytes);
  if (r.u8() !== FILE_VERSION) return undefined;
  const workspaceId = r.string();
  const n = r.u32();
  if (workspaceId === undefined || n === undefined) return undefined;
  const entries: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const e = r.bytes(1 << 20);
    if (!e) return undefined;
    entries.push(e.slice());
  }
  const k = r.u32();
  if (k === undefined) return undefined;
  const epochKeys = new Map<number, EpochKey>();
  for (let i = 0; i < k; i++) {
    const epoch = r.u32();
    const key = r.bytes(32);
    if (epoch === undefined || !key || key.length !== 32) return undefined;
    epochKeys.set(epoch, asKey<EpochKey>(key.slice()));
  }
  const metaText = r.string(1 << 20);
  if (metaText === undefined || r.remaining !== 0) return undefined;
  try {
    const meta = JSON.parse(metaText) as unknown;
    if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) return undefined;
    return { workspaceId, entries, epochKeys, meta: Object.fromEntries(Object.entries(meta).filter(([, v]) => typeof v === 'string')) as Record<string, string> };
  } catch {
    return undefined;
  }
}

export function saveWorkspace(home: string, dataKey: DataKey, ws: StoredWorkspace): void {
  const dir = dirOf(home);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const name = workspaceFileName(dataKey, ws.workspaceId);
  writeFileAtomic(join(dir, name), sealBytes(storeKey(dataKey), encode(ws), DOMAIN.workspaceStore, utf8(name)));
}

function openFile(home: string, dataKey: DataKey, name: string): Result<StoredWorkspace, WorkspaceRejection> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(join(dirOf(home), name)));
  } catch {
    return fail('store_missing');
  }
  const opened = openBytes(storeKey(dataKey), bytes, DOMAIN.workspaceStore, utf8(name));
  if (!opened.ok) return fail(opened.reason === 'aead_wrong_key' ? 'store_wrong_key' : 'store_corrupt');
  const ws = decode(opened.value);
  return ws ? ok(ws) : fail('store_corrupt');
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

