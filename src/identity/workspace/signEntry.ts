// Sign a membership entry: the body is encoded canonically once and the device key signs exactly
// those bytes under DOMAIN.membership; the same bytes are what every replica stores and hashes.
import { toBase64url } from '../../crypto/bytes.ts';
import { DOMAIN } from '../../crypto/domains.ts';
import { sign, verify } from '../../crypto/ed25519.ts';
import type { BoxSecretKey, DeviceSigningKey, PublicKey } from '../../crypto/keys.ts';
import { encodeBody, encodeEntry, entryIdOf, type Entry, type EntryBody } from './entry.ts';

/** The keys a device needs to act in a workspace (a subset of the unlocked vault). */
export interface DeviceKeys {
  userId: string;
  deviceId: string;
  signingKey: DeviceSigningKey;
  signingPub: PublicKey;
  boxKey: BoxSecretKey;
  boxPub: PublicKey;
  userSigningPub?: PublicKey;
  name?: string;
}

export interface SignedEntry {
  id: string;
  bytes: Uint8Array;
}

export function signEntry(keys: Pick<DeviceKeys, 'signingKey'>, body: EntryBody): SignedEntry {
  const bodyBytes = encodeBody(body);
  const signature = sign(keys.signingKey, DOMAIN.membership, bodyBytes);
  return { id: entryIdOf(bodyBytes), bytes: encodeEntry(bodyBytes, signature) };
}

// Replays re-check the same entries often; a verified (id, key, signature) triple is remembered.
const verified = new Set<string>();

export function verifyEntrySignature(entry: Entry, signingPub: PublicKey): boolean {
  const cacheKey = `${entry.id}.${toBase64url(signingPub)}.${toBase64url(entry.signature)}`;
  if (verified.has(cacheKey)) return true;
  const good = verify(signingPub, DOMAIN.membership, entry.bodyBytes, entry.signature);
  if (good) {
    if (verified.size > 50_000) verified.clear();
    verified.add(cacheKey);
  }
  return good;
}
