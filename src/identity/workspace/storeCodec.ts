// The sealed form of one user's copy of a workspace (log entries, opened epoch keys, small metadata),
// shared by the Node file store and the browser's IndexedDB store. Sealed under a subkey of the
// vault's data key, with the storage name it is kept under as associated data, so values can't be
// swapped between names. Browser-safe: no I/O here.
import { openBytes, sealBytes } from '../../crypto/aead.ts';
import { ByteReader, ByteWriter, toBase64url, utf8 } from '../../crypto/bytes.ts';
import { DOMAIN, INFO } from '../../crypto/domains.ts';
import { deriveSubkey } from '../../crypto/hkdf.ts';
import { hmacSha256 } from '../../crypto/sha256.ts';
import { asKey, type DataKey, type EpochKey, type Key } from '../../crypto/keys.ts';
import { fail, ok, type Result } from '../../crypto/result.ts';
import { parseIntents, type Intent } from './intents.ts';

export interface StoredWorkspace {
  workspaceId: string;
  /** The membership chain: links (entry + relay countersignature) by index. */
  entries: Uint8Array[];
  epochKeys: Map<number, EpochKey>;
  meta: Record<string, string>;
  /** Membership changes made offline, waiting for the next sync (or failed there, with why). */
  intents?: Intent[];
}

/** 2 adds intents; 1 (no intents) still opens. */
const FILE_VERSION = 2;

const storeKey = (dk: DataKey) => deriveSubkey<Key<'AeadKey'>>(dk, INFO.workspaceStoreKey, utf8('values'));
const nameKey = (dk: DataKey) => deriveSubkey<Key<'WorkspaceNameKey'>>(dk, INFO.workspaceStoreKey, utf8('names'));

/** The storage name for a workspace: a keyed hash of its id, so names reveal nothing without the vault. */
export function workspaceStorageName(dataKey: DataKey, workspaceId: string): string {
  const mac = hmacSha256(nameKey(dataKey), new ByteWriter().string(DOMAIN.workspaceStoreName).string(workspaceId).finish());
  return toBase64url(mac.subarray(0, 20));
}

function encode(ws: StoredWorkspace): Uint8Array {
  const w = new ByteWriter().u8(FILE_VERSION).string(ws.workspaceId).u32(ws.entries.length);
  for (const e of ws.entries) w.bytes(e);
  const keys = [...ws.epochKeys].sort(([a], [b]) => a - b);
  w.u32(keys.length);
  for (const [epoch, key] of keys) w.u32(epoch).bytes(key);
  return w.string(JSON.stringify(ws.meta)).string(JSON.stringify(ws.intents ?? [])).finish();
}

function decode(bytes: Uint8Array): StoredWorkspace | undefined {
  const r = new ByteReader(bytes);
  const version = r.u8();
  if (version !== 1 && version !== FILE_VERSION) return undefined;
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
  const intentsText = version === 1 ? '[]' : r.string(1 << 20);
  if (metaText === undefined || intentsText === undefined || r.remaining !== 0) return undefined;
  try {
    const meta = JSON.parse(metaText) as unknown;
    if (typeof meta !== 'object' || meta === null || Array.isArray(meta)) return undefined;
    const intents = parseIntents(JSON.parse(intentsText));
    return { workspaceId, entries, epochKeys, meta: Object.fromEntries(Object.entries(meta).filter(([, v]) => typeof v === 'string')) as Record<string, string>, intents };
  } catch {
    return undefined;
  }
}

/** Seal a workspace for storage under `name`. */
export function sealStoredWorkspace(dataKey: DataKey, name: string, ws: StoredWorkspace): Uint8Array {
  return sealBytes(storeKey(dataKey), encode(ws), DOMAIN.workspaceStore, utf8(name));
}

/** Open what sealStoredWorkspace wrote under `name`; untrusted bytes give a reason, never a throw. */
export function openStoredWorkspace(dataKey: DataKey, name: string, bytes: Uint8Array): Result<StoredWorkspace, 'store_wrong_key' | 'store_corrupt'> {
  const opened = openBytes(storeKey(dataKey), bytes, DOMAIN.workspaceStore, utf8(name));
  if (!opened.ok) return fail(opened.reason === 'aead_wrong_key' ? 'store_wrong_key' : 'store_corrupt');
  const ws = decode(opened.value);
  return ws ? ok(ws) : fail('store_corrupt');
}
