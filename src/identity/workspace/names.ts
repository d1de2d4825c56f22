// Private names (DESIGN → Membership log → Names are private): the workspace's name and members'
// display names travel in the log sealed under a key derived from an epoch key, so the relay,
// which stores the log, sees ids, roles and keys only. Each sealed name is bound to its workspace
// and its slot ('workspace', or 'member:' + user id), so it can't be moved to another person.
import { openBytes, sealBytes } from '../../crypto/aead.ts';
import { ByteWriter, fromBase64url, fromUtf8, toBase64url, utf8 } from '../../crypto/bytes.ts';
import { DOMAIN, INFO } from '../../crypto/domains.ts';
import { deriveSubkey } from '../../crypto/hkdf.ts';
import type { EpochKey, Key } from '../../crypto/keys.ts';
import type { WorkspaceState } from './state.ts';

export interface SealedName {
  epoch: number;
  box: string;
}

export const workspaceSlot = 'workspace';
export const memberSlot = (userId: string): string => `member:${userId}`;

const nameKey = (epochKey: EpochKey, workspaceId: string) => deriveSubkey<Key<'AeadKey'>>(epochKey, INFO.nameKey, utf8(workspaceId));
const ad = (workspaceId: string, epoch: number, slot: string) => new ByteWriter().string(workspaceId).u32(epoch).string(slot).finish();

export function sealName(epochKey: EpochKey, workspaceId: string, epoch: number, slot: string, name: string): SealedName {
  return { epoch, box: toBase64url(sealBytes(nameKey(epochKey, workspaceId), utf8(name.normalize('NFC')), DOMAIN.sealedName, ad(workspaceId, epoch, slot))) };
}

/** The name, if this reader holds the epoch key and the box opens for this slot; else undefined. */
export function openName(epochKeys: ReadonlyMap<number, EpochKey>, workspaceId: string, slot: string, sealed: SealedName | undefined): string | undefined {
  if (!sealed) return undefined;
  const key = epochKeys.get(sealed.epoch);
  const box = fromBase64url(sealed.box);
  if (!key || !box) return undefined;
  const r = openBytes(nameKey(key, workspaceId), box, DOMAIN.sealedName, ad(workspaceId, sealed.epoch, slot));
  if (!r.ok) return undefined;
  try {
    // Names are typed without control or format characters (cleanDisplayName); one that has them was
    // crafted by a member holding the key: they are dropped, so no name can drive a terminal or flip text.
    return fromUtf8(r.value).replace(/[\p{Cc}\p{Cf}\u2028\u2029]/gu, '').slice(0, 200);
  } catch {
    return undefined;
  }
}

/** `state` with the names this reader can open filled in (`name` of the workspace and of members). */
export function withNames(state: WorkspaceState, epochKeys: ReadonlyMap<number, EpochKey>): WorkspaceState {
  const ws = state.workspaceId;
  const members = new Map(state.members);
  for (const [id, m] of members) {
    const name = openName(epochKeys, ws, memberSlot(id), m.sealedName);
    if (name !== undefined && name !== m.name) members.set(id, { ...m, name });
  }
  return { ...state, name: openName(epochKeys, ws, workspaceSlot, state.sealedName) ?? state.name, members };
}

/** Longest display name accepted from a person (names opened from the log are cut at 200). */
export const MAX_DISPLAY_NAME = 100;

/** A display name as typed, trimmed and NFC-normalised; undefined when empty, too long or holding control characters. */
export function cleanDisplayName(raw: string): string | undefined {
  const name = raw.normalize('NFC').trim();
  // eslint-disable-next-line no-control-regex
  if (name.length === 0 || name.length > MAX_DISPLAY_NAME || /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/.test(name)) return undefined;
  return name;
}
