// Keyed-hash names for storage keys: file and key names reveal no document ids, chunk kinds or hashes.
// Component i of a stored name is HMAC(nameKey, encoded path[0..i]) truncated to 16 bytes (22 base64url
// chars), so a prefix of a key maps to a prefix of its name (loadRange still works) while equal
// components under different parents (e.g. "snapshot" in two documents) get unrelated names.
import type { StorageKey } from '@automerge/automerge-repo';
import { ByteWriter, toBase64url } from '../../crypto/bytes.ts';
import { hmacSha256 } from '../../crypto/hkdf.ts';
import type { StorageNameKey } from '../../crypto/keys.ts';

export const NAME_BYTES = 16;
export const NAME_CHARS = 22; // base64url of 16 bytes, no padding

/** Canonical, unambiguous encoding of a key path: u32 count, then u32-length-prefixed UTF-8 components. */
export function encodeKeyPath(key: readonly string[]): Uint8Array {
  const w = new ByteWriter().u32(key.length);
  for (const part of key) w.string(part);
  return w.finish();
}

/** The stored name of `key`, component by component. */
export function hashStorageKey(nameKey: StorageNameKey, key: StorageKey): StorageKey {
  const out: string[] = [];
  for (let i = 1; i <= key.length; i++) out.push(toBase64url(hmacSha256(nameKey, encodeKeyPath(key.slice(0, i))).subarray(0, NAME_BYTES)));
  return out;
}

export function sameKey(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((part, i) => part === b[i]);
}

export function startsWithKey(key: readonly string[], prefix: readonly string[]): boolean {
  return prefix.length <= key.length && prefix.every((part, i) => part === key[i]);
}
