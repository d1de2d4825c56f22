// Keyed-hash names for storage keys: file and key names reveal no document ids, chunk kinds or hashes.
// Component i of a stored name is HMAC(nameKey, encoded path[0..i]) truncated to 16 bytes (22 base64url
// chars), so a prefix of a key maps to a prefix of its name (loadRange still works) while equal
// components under different parents (e.g. "snapshot" in two documents) get unrelated names.
import type { StorageKey } from '@automerge/automerge-repo';
import { ByteWriter, toBase64url } from '../../crypto/bytes.ts';
import { hmacSha256, keyFingerprint } from '../../crypto/sha256.ts';
import type { StorageNameKey } from '../../crypto/keys.ts';

export const NAME_BYTES = 16;
export const NAME_CHARS = 22; // base64url of 16 bytes, no padding

/** Canonical, unambiguous encoding of a key path: u32 count, then u32-length-prefixed UTF-8 components. */
export function encodeKeyPath(key: readonly string[]): Uint8Array {
  const w = new ByteWriter().u32(key.length);
  for (const part of key) w.string(part);
  return w.finish();
}

// Names of key prefixes ([docId], [docId, "incremental"], …) recur on every save and load of a
// document, so they are remembered per name key (a few thousand; cleared when full). The last
// component (usually a chunk hash) is computed each time.
const PREFIX_CACHE_MAX = 8_192;
const prefixNames = new WeakMap<StorageNameKey, { check: string; names: Map<string, string> }>();

function componentName(nameKey: StorageNameKey, prefix: readonly string[]): string {
  return toBase64url(hmacSha256(nameKey, encodeKeyPath(prefix)).subarray(0, NAME_BYTES));
}

/** The stored name of `key`, component by component. */
export function hashStorageKey(nameKey: StorageNameKey, key: StorageKey): StorageKey {
  // A wiped or reused key array starts a fresh cache (checked by fingerprint: no copy of the key is kept).
  const check = keyFingerprint(nameKey);
  let entry = prefixNames.get(nameKey);
  if (!entry || entry.check !== check) prefixNames.set(nameKey, (entry = { check, names: new Map() }));
  const cache = entry.names;
  const out: string[] = [];
  for (let i = 1; i < key.length; i++) {
    // JSON of the prefix is unambiguous (components are strings), like encodeKeyPath.
    const id = JSON.stringify(key.slice(0, i));
    let name = cache.get(id);
    if (name === undefined) {
      if (cache.size >= PREFIX_CACHE_MAX) cache.clear();
      cache.set(id, (name = componentName(nameKey, key.slice(0, i))));
    }
    out.push(name);
  }
  if (key.length > 0) out.push(componentName(nameKey, key));
  return out;
}

export function sameKey(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((part, i) => part === b[i]);
}

export function startsWithKey(key: readonly string[], prefix: readonly string[]): boolean {
  return prefix.length <= key.length && prefix.every((part, i) => part === key[i]);
}
