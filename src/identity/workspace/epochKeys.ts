// Epoch keys: random per epoch, sealed to each current device (X25519 lockbox whose context binds
// workspace, epoch and recipient slot), each new key sealing the previous one (DOMAIN.epochChain) so
// members read all history, and a signed key-check value so a box holding a wrong key is detected.
import { openBytes, sealBytes } from '../../crypto/aead.ts';
import { ByteWriter, equalBytes, fromBase64url, randomBytes, toBase64url, utf8 } from '../../crypto/bytes.ts';
import { DOMAIN, INFO } from '../../crypto/domains.ts';
import { deriveSubkey } from '../../crypto/hkdf.ts';
import { hmacSha256 } from '../../crypto/sha256.ts';
import { asKey, type BoxSecretKey, type DocumentKey, type EpochKey, type PublicKey } from '../../crypto/keys.ts';
import { openLockbox, sealLockbox } from '../../crypto/lockbox.ts';
import { fail, ok, type Result } from '../../crypto/result.ts';
import type { Rotation } from './entry.ts';
import type { WorkspaceRejection } from './rejections.ts';
import type { WorkspaceState } from './state.ts';

export const newEpochKey = (): EpochKey => asKey<EpochKey>(randomBytes(32));

export const inviteSlot = (invitationId: string): string => `inv:${invitationId}`;

export function lockboxContext(workspaceId: string, epoch: number, slot: string): Uint8Array {
  return new ByteWriter().string(workspaceId).u32(epoch).string(slot).finish();
}

export function epochCheck(key: EpochKey, workspaceId: string, epoch: number): Uint8Array {
  return hmacSha256(key, new ByteWriter().string(DOMAIN.epochCheck).string(workspaceId).u32(epoch).finish());
}

export function sealEpochKey(recipientBoxPub: PublicKey, key: EpochKey, workspaceId: string, epoch: number, slot: string): string {
  return toBase64url(sealLockbox(recipientBoxPub, key, lockboxContext(workspaceId, epoch, slot)));
}

const chainAd = (workspaceId: string, epoch: number) => new ByteWriter().string(workspaceId).u32(epoch).finish();

/** Build a rotation to `epoch`: a fresh key sealed to each recipient, the previous key chained under it. */
export function makeRotation(
  workspaceId: string,
  epoch: number,
  previous: EpochKey,
  recipients: { slot: string; boxPub: PublicKey }[],
): { rotation: Rotation; key: EpochKey } {
  const key = newEpochKey();
  const lockboxes: Record<string, string> = {};
  for (const r of recipients) lockboxes[r.slot] = sealEpochKey(r.boxPub, key, workspaceId, epoch, r.slot);
  const chain = toBase64url(sealBytes(key, previous, DOMAIN.epochChain, chainAd(workspaceId, epoch)));
  const prev = toBase64url(epochCheck(previous, workspaceId, epoch - 1));
  return { rotation: { epoch, lockboxes, check: toBase64url(epochCheck(key, workspaceId, epoch)), prev, chain }, key };
}

/** Open one slot's lockbox for `epoch` and check the key against the signed commitment. */
export function openEpochSlot(
  state: WorkspaceState,
  epoch: number,
  slot: string,
  boxSecret: BoxSecretKey,
): Result<EpochKey, WorkspaceRejection> {
  const rec = state.epochs.get(epoch);
  const box = rec?.lockboxes.get(slot);
  if (!rec || !box) return fail('epoch_no_lockbox');
  const opened = openLockbox(boxSecret, box, lockboxContext(state.workspaceId, epoch, slot));
  if (!opened.ok || opened.value.length !== 32) return fail('epoch_lockbox_unopenable', opened.ok ? 'wrong length' : opened.reason);
  const key = asKey<EpochKey>(opened.value);
  if (!equalBytes(epochCheck(key, state.workspaceId, epoch), rec.check)) return fail('epoch_key_check_failed');
  return ok(key);
}

/** Walk the chain from `top` down to epoch 0, checking every key; fails if any link is broken. */
export function walkChain(state: WorkspaceState, top: number, topKey: EpochKey): Result<Map<number, EpochKey>, WorkspaceRejection> {
  const keys = new Map<number, EpochKey>([[top, topKey]]);
  let key = topKey;
  for (let e = top; e > 0; e--) {
    const rec = state.epochs.get(e);
    const prev = state.epochs.get(e - 1);
    if (!rec?.chain || !prev) return fail('epoch_chain_broken', `epoch ${e}`);
    const opened = openBytes(key, rec.chain, DOMAIN.epochChain, chainAd(state.workspaceId, e));
    if (!opened.ok || opened.value.length !== 32) return fail('epoch_chain_broken', `epoch ${e}`);
    key = asKey<EpochKey>(opened.value);
    if (!equalBytes(epochCheck(key, state.workspaceId, e - 1), prev.check)) return fail('epoch_key_check_failed', `epoch ${e - 1}`);
    keys.set(e - 1, key);
  }
  return ok(keys);
}

/** Does a rotation follow on from the state's current epoch (number and key)? */
export function rotationFits(state: WorkspaceState, r: Rotation): boolean {
  const current = state.epochs.get(state.epoch);
  const prev = fromBase64url(r.prev);
  return r.epoch === state.epoch + 1 && !!current && !!prev && equalBytes(prev, current.check);
}

/** Was a lockbox made for the key this state has for its epoch? */
export function lockboxFits(state: WorkspaceState, ref: { epoch: number; check: string }): boolean {
  const rec = state.epochs.get(ref.epoch);
  const check = fromBase64url(ref.check);
  return !!rec && !!check && equalBytes(check, rec.check);
}

/** Highest epoch in which `slot` has a lockbox, or undefined. */
export function latestSlotEpoch(state: WorkspaceState, slot: string): number | undefined {
  let best: number | undefined;
  for (const [e, rec] of state.epochs) if (rec.lockboxes.has(slot) && (best === undefined || e > best)) best = e;
  return best;
}

/**
 * Every epoch key this device can read: its newest lockbox, then the chain back to epoch 0.
 * A lockbox that opens to a key not matching the log's signed check value is refused.
 */
export function openEpochKeys(state: WorkspaceState, deviceId: string, boxSecret: BoxSecretKey): Result<Map<number, EpochKey>, WorkspaceRejection> {
  const top = latestSlotEpoch(state, deviceId);
  if (top === undefined) return fail('epoch_no_lockbox');
  const key = openEpochSlot(state, top, deviceId, boxSecret);
  if (!key.ok) return key;
  return walkChain(state, top, key.value);
}

/** documentKey(epochKey, docId) = HKDF(epochKey, INFO.documentKey, utf8(docId)) */
export function documentKey(epochKey: EpochKey, docId: string): DocumentKey {
  return deriveSubkey<DocumentKey>(epochKey, INFO.documentKey, utf8(docId));
}
