// Stories about epoch keys: who can open what after removals, revocations and new devices.
import { describe, expect, it } from 'vitest';
import { equalBytes, randomBytes } from '../../../src/crypto/bytes.ts';
import { asKey, type EpochKey } from '../../../src/crypto/keys.ts';
import { header, nextRotation } from '../../../src/identity/workspace/buildCommon.ts';
import { createWorkspace } from '../../../src/identity/workspace/createWorkspace.ts';
import { buildDeviceLinkRequest, createDeviceLinkCode, verifyDeviceLinkRequest } from '../../../src/identity/workspace/deviceLink.ts';
import { addDevice, revokeDevice } from '../../../src/identity/workspace/devices.ts';
import { documentKey, makeRotation, openEpochKeys, openEpochSlot, sealEpochKey } from '../../../src/identity/workspace/epochKeys.ts';
import { buildJoin, createInvitation } from '../../../src/identity/workspace/invitations.ts';
import { removeMember, rotateKey } from '../../../src/identity/workspace/members.ts';
import { currentEpoch, isActiveDevice } from '../../../src/identity/workspace/selectors.ts';
import { signEntry, type DeviceKeys } from '../../../src/identity/workspace/signEntry.ts';
import type { WorkspaceState } from '../../../src/identity/workspace/state.ts';
import type { Role } from '../../../src/identity/workspace/entry.ts';
import { DAY, NOW, device, keysOf, must, rejects } from './fixtures.ts';

function admit(state: WorkspaceState, admin: DeviceKeys, joiner: DeviceKeys, role: Role): WorkspaceState {
  const inv = createInvitation(state, admin, keysOf(state, admin).get(state.epoch)!, { role, expiresAt: NOW + DAY, now: NOW });
  state = must(state, inv.entry.bytes);
  const join = buildJoin(state, inv.code, joiner, NOW);
  if (!join.ok) throw new Error(join.reason);
  return must(state, join.value.entry.bytes);
}

function team() {
  const alice = device('alice');
  const bob = device('bob');
  const carol = device('carol');
  let { state } = createWorkspace(alice, 'Team', { now: NOW });
  state = admit(state, alice, bob, 'writer');
  state = admit(state, alice, carol, 'writer');
  return { alice, bob, carol, state };
}

const same = (a: EpochKey | undefined, b: EpochKey | undefined) => !!a && !!b && equalBytes(a, b);

describe('epoch keys', () => {
  it('a removed member cannot open the new epoch’s lockboxes', () => {
    const { alice, bob, state: s0 } = team();
    const state = must(s0, removeMember(s0, alice, keysOf(s0, alice), 'bob', NOW).entry.bytes);
    expect(currentEpoch(state)).toBe(1);
    const bobKeys = openEpochKeys(state, bob.deviceId, bob.boxKey);
    expect(bobKeys.ok && [...bobKeys.value.keys()]).toEqual([0]);
    // No slot of the new epoch opens with bob's key, whoever it was addressed to.
    for (const slot of state.epochs.get(1)!.lockboxes.keys()) {
      expect(openEpochSlot(state, 1, slot, bob.boxKey).ok).toBe(false);
    }
    expect(state.epochs.get(1)!.lockboxes.has(bob.deviceId)).toBe(false);
  });

  it('remaining members read both the old and the new epochs', () => {
    const { alice, carol, state: s0 } = team();
    const before = keysOf(s0, carol).get(0);
    const state = must(s0, removeMember(s0, alice, keysOf(s0, alice), 'bob', NOW).entry.bytes);
    const carolKeys = keysOf(state, carol);
    const aliceKeys = keysOf(state, alice);
    expect([...carolKeys.keys()].sort()).toEqual([0, 1]);
    expect(same(carolKeys.get(0), before)).toBe(true);
    expect(same(carolKeys.get(1), aliceKeys.get(1))).toBe(true);
    expect(same(carolKeys.get(0), carolKeys.get(1))).toBe(false);
  });

  it('revoking a device rotates the key and the revoked device reads nothing new', () => {
    const { bob, carol, state: s0 } = team();
    const { entry } = revokeDevice(s0, bob, keysOf(s0, bob), bob.deviceId, NOW);
    const state = must(s0, entry.bytes);
    expect(isActiveDevice(state, bob.deviceId)).toBe(false);
    expect(currentEpoch(state)).toBe(1);
    const bobKeys = openEpochKeys(state, bob.deviceId, bob.boxKey);
    expect(bobKeys.ok && [...bobKeys.value.keys()]).toEqual([0]);
    expect([...keysOf(state, carol).keys()].sort()).toEqual([0, 1]);
  });

  it('a revoked device can no longer append, even for its own user', () => {
    const { alice, state: s0 } = team();
    const phone = device('alice');
    const code = createDeviceLinkCode();
    const req = buildDeviceLinkRequest(code, s0.workspaceId, 'alice', phone);
    if (!req.ok) throw new Error(req.reason);
    const checked = verifyDeviceLinkRequest(code, s0.workspaceId, 'alice', req.value);
    if (!checked.ok) throw new Error(checked.reason);
    let state = must(s0, addDevice(s0, alice, keysOf(s0, alice).get(0)!, checked.value.device, checked.value.deviceSig, NOW).bytes);
    state = must(state, revokeDevice(state, alice, keysOf(state, alice), phone.deviceId, NOW).entry.bytes);
    rejects(state, rotateKey(state, phone, keysOf(state, alice), NOW).entry.bytes, "entry_author_inactive");
    expect(isActiveDevice(state, alice.deviceId)).toBe(true);
  });

  it('a member cannot revoke another member’s device, an admin can', () => {
    const { alice, bob, carol, state } = team();
    rejects(state, revokeDevice(state, carol, keysOf(state, carol), bob.deviceId, NOW).entry.bytes, 'entry_not_permitted');
    must(state, revokeDevice(state, alice, keysOf(state, alice), bob.deviceId, NOW).entry.bytes);
  });

  it('a device added later reads every epoch', () => {
    const { alice, state: s0 } = team();
    let state = must(s0, rotateKey(s0, alice, keysOf(s0, alice), NOW).entry.bytes);
    state = must(state, removeMember(state, alice, keysOf(state, alice), 'bob', NOW).entry.bytes);
    expect(currentEpoch(state)).toBe(2);

    const laptop = device('alice');
    const code = createDeviceLinkCode();
    const req = buildDeviceLinkRequest(code, state.workspaceId, 'alice', laptop);
    expect(req.ok).toBe(true);
    const checked = verifyDeviceLinkRequest(code, state.workspaceId, 'alice', req.ok ? req.value : (undefined as never));
    if (!checked.ok) throw new Error(checked.reason);
    const aliceKeys = keysOf(state, alice);
    state = must(state, addDevice(state, alice, aliceKeys.get(2)!, checked.value.device, checked.value.deviceSig, NOW).bytes);

    const laptopKeys = keysOf(state, laptop);
    expect([...laptopKeys.keys()].sort()).toEqual([0, 1, 2]);
    for (const e of [0, 1, 2]) expect(same(laptopKeys.get(e), aliceKeys.get(e))).toBe(true);
  });

  it('a device-link request answered with the wrong code is refused', () => {
    const laptop = device('alice');
    const req = buildDeviceLinkRequest(createDeviceLinkCode(), 'ws', 'alice', laptop);
    if (!req.ok) throw new Error(req.reason);
    const r = verifyDeviceLinkRequest(createDeviceLinkCode(), 'ws', 'alice', req.value);
    expect(r.ok ? 'accepted' : r.reason).toBe('device_link_invalid');
  });

  it('a device cannot be added without its own enrolment signature', () => {
    const { alice, state } = team();
    const laptop = device('alice');
    const dev = { deviceId: laptop.deviceId, signingPub: laptop.signingPub, boxPub: laptop.boxPub };
    const e = addDevice(state, alice, keysOf(state, alice).get(0)!, dev, randomBytes(64), NOW);
    rejects(state, e.bytes, 'device_proof_invalid');
  });

  it('a member joining after rotations reads every epoch', () => {
    const { alice, state: s0 } = team();
    let state = must(s0, rotateKey(s0, alice, keysOf(s0, alice), NOW).entry.bytes);
    state = must(state, rotateKey(state, alice, keysOf(state, alice), NOW).entry.bytes);
    const dave = device('dave');
    state = admit(state, alice, dave, 'reader');
    expect([...keysOf(state, dave).keys()].sort()).toEqual([0, 1, 2]);
  });

  it('an invitation created before a rotation still admits with the newest key', () => {
    const { alice, state: s0 } = team();
    const inv = createInvitation(s0, alice, keysOf(s0, alice).get(0)!, { role: 'writer', expiresAt: NOW + DAY, now: NOW });
    let state = must(s0, inv.entry.bytes);
    state = must(state, rotateKey(state, alice, keysOf(state, alice), NOW).entry.bytes);
    const dave = device('dave');
    const join = buildJoin(state, inv.code, dave, NOW);
    if (!join.ok) throw new Error(join.reason);
    state = must(state, join.value.entry.bytes);
    expect([...keysOf(state, dave).keys()].sort()).toEqual([0, 1]);
  });

  it('document keys are HKDF(epoch key, doc id): distinct per document and per epoch', () => {
    const k1 = asKey<EpochKey>(randomBytes(32));
    const k2 = asKey<EpochKey>(randomBytes(32));
    expect(equalBytes(documentKey(k1, 'doc-a'), documentKey(k1, 'doc-a'))).toBe(true);
    expect(equalBytes(documentKey(k1, 'doc-a'), documentKey(k1, 'doc-b'))).toBe(false);
    expect(equalBytes(documentKey(k1, 'doc-a'), documentKey(k2, 'doc-a'))).toBe(false);
  });
});

describe('forged lockboxes', () => {
  it('eve, who is not a member, cannot publish a rotation', () => {
    const { state } = team();
    const eve = device('eve');
    const fake = new Map([[0, asKey<EpochKey>(randomBytes(32))]]);
    rejects(state, rotateKey(state, eve, fake, NOW).entry.bytes, 'entry_author_unknown');
  });

  it('a lockbox forged and addressed to another device is rejected by its recipient', () => {
    // mallory is an admin: her rotation is valid as an entry, but the box for bob holds another key.
    const { alice, bob, carol, state: s0 } = team();
    const mallory = alice;
    const { rotation } = nextRotation(s0, keysOf(s0, mallory), () => false);
    const otherKey = asKey<EpochKey>(randomBytes(32));
    rotation.lockboxes[bob.deviceId] = sealEpochKey(bob.boxPub, otherKey, s0.workspaceId, 1, bob.deviceId);
    const state = must(s0, signEntry(mallory, { ...header(s0, mallory, NOW), kind: 'rotate_key', rotation }).bytes);
    const bobKeys = openEpochKeys(state, bob.deviceId, bob.boxKey);
    expect(bobKeys.ok ? 'accepted' : bobKeys.reason).toBe('epoch_key_check_failed');
    expect([...keysOf(state, carol).keys()].sort()).toEqual([0, 1]);
  });

  it('a lockbox for bob copied into carol’s slot does not open for carol', () => {
    const { alice, bob, carol, state: s0 } = team();
    const { rotation } = nextRotation(s0, keysOf(s0, alice), () => false);
    rotation.lockboxes[carol.deviceId] = rotation.lockboxes[bob.deviceId]!;
    const state = must(s0, signEntry(alice, { ...header(s0, alice, NOW), kind: 'rotate_key', rotation }).bytes);
    const carolKeys = openEpochKeys(state, carol.deviceId, carol.boxKey);
    expect(carolKeys.ok ? 'accepted' : carolKeys.reason).toBe('epoch_lockbox_unopenable');
    expect(keysOf(state, bob).has(1)).toBe(true);
  });

  it('a rotation sealing the new key to a removed member is rejected', () => {
    const { alice, bob, state: s0 } = team();
    const { rotation } = nextRotation(s0, keysOf(s0, alice), () => false); // still includes bob
    const e = signEntry(alice, { ...header(s0, alice, NOW), kind: 'remove_member', member: 'bob', rotation });
    rejects(s0, e.bytes, 'rotation_unexpected_lockbox');
    expect(bob.deviceId in rotation.lockboxes).toBe(true);
  });

  it('a rotation leaving out a current device is rejected', () => {
    const { alice, carol, state: s0 } = team();
    const { rotation } = nextRotation(s0, keysOf(s0, alice), (d) => d === carol.deviceId);
    rejects(s0, signEntry(alice, { ...header(s0, alice, NOW), kind: 'rotate_key', rotation }).bytes, 'rotation_missing_lockbox');
  });

  it('a rotation that skips an epoch is rejected', () => {
    const { alice, state: s0 } = team();
    const recipients = [...s0.devices.values()].map((d) => ({ slot: d.deviceId, boxPub: d.boxPub }));
    const { rotation } = makeRotation(s0.workspaceId, 5, keysOf(s0, alice).get(0)!, recipients);
    rejects(s0, signEntry(alice, { ...header(s0, alice, NOW), kind: 'rotate_key', rotation }).bytes, 'rotation_wrong_epoch');
  });
});
