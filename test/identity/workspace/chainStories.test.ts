// Stories about the relay-sequenced membership chain (DESIGN → Membership log (normative)): every
// entry is judged at the head it names, so an entry built on an old copy is stale, and rebuilt at
// the head it is judged by the state as it is now. Library level, and through a real relay where
// the story is about what the relay stores.
import { afterEach, describe, expect, it } from 'vitest';
import { randomBytes } from '../../../src/crypto/bytes.ts';
import { generateSigningKey } from '../../../src/crypto/ed25519.ts';
import { asKey, type EpochKey, type SigningSecretKey } from '../../../src/crypto/keys.ts';
import { countersign, encodeLink } from '../../../src/identity/workspace/chainLink.ts';
import { createWorkspace } from '../../../src/identity/workspace/createWorkspace.ts';
import { signDeviceEnrolment } from '../../../src/identity/workspace/deviceLink.ts';
import { addDevice, revokeDevice } from '../../../src/identity/workspace/devices.ts';
import type { Role } from '../../../src/identity/workspace/entry.ts';
import { buildIntent } from '../../../src/identity/workspace/intents.ts';
import { buildJoin, createInvitation, revokeInvitation } from '../../../src/identity/workspace/invitations.ts';
import { appendEntry, appendLink, replayLog } from '../../../src/identity/workspace/log.ts';
import { removeMember, setPolicy, setRole } from '../../../src/identity/workspace/members.ts';
import { isActiveDevice, memberOf } from '../../../src/identity/workspace/selectors.ts';
import type { DeviceKeys } from '../../../src/identity/workspace/signEntry.ts';
import type { WorkspaceState } from '../../../src/identity/workspace/state.ts';
import { LIMITS } from '../../../src/identity/workspace/validateEntry.ts';
import { identityMembership } from '../../../relay/identityMembership.ts';
import { SqliteStore } from '../../../relay/store/SqliteStore.ts';
import { appendAtHead, pullChain } from '../../../src/docs/sync/chainSync.ts';
import { RelayRequestError, type RelayClient } from '../../../src/docs/sync/relayClient.ts';
import { connect, publishWorkspace, startTestRelay, type TestRelay } from '../../relay/helpers.ts';
import { integrationTimeouts } from '../../timeouts.ts';
import { DAY, NOW, device, keysOf, must, rejects } from './fixtures.ts';

integrationTimeouts();

function admit(state: WorkspaceState, admin: DeviceKeys, joiner: DeviceKeys, role: Role): WorkspaceState {
  const inv = createInvitation(state, admin, keysOf(state, admin).get(state.epoch)!, { role, expiresAt: NOW + DAY, now: NOW });
  state = must(state, inv.entry.bytes);
  const join = buildJoin(state, inv.code, joiner, NOW);
  if (!join.ok) throw new Error(join.reason);
  return must(state, join.value.entry.bytes);
}

/** alice founds the workspace; bob joins as an admin. */
function aliceAndAdminBob() {
  const alice = device('alice');
  const bob = device('bob');
  const { state } = createWorkspace(alice, 'Team', { now: NOW });
  return { alice, bob, state: admit(state, alice, bob, 'admin') };
}

const reasonOf = (r: { ok: true } | { ok: false; reason: string }): string => (r.ok ? 'accepted' : r.reason);

/** A key nobody was given: what a removed member would have to invent to build a rotation at the head. */
const madeUpKeys = (state: WorkspaceState) => new Map([[state.epoch, asKey<EpochKey>(randomBytes(32))]]);

/** A new device for `owner`'s user, enrolled by `owner`, as an add_device entry at the head. */
function addDeviceEntry(state: WorkspaceState, owner: DeviceKeys): { bytes: Uint8Array; device: DeviceKeys } {
  const d = device(owner.userId);
  const nd = { deviceId: d.deviceId, signingPub: d.signingPub, boxPub: d.boxPub };
  const sig = signDeviceEnrolment(d.signingKey, state.workspaceId, owner.userId, nd);
  return { bytes: addDevice(state, owner, keysOf(state, owner).get(state.epoch)!, nd, sig, NOW).bytes, device: d };
}

describe('a chain judges every entry at its index', () => {
  it('a demoted admin’s backdated removal is refused: stale on the old head, not permitted at the new one', () => {
    const { alice, bob, state: s0 } = aliceAndAdminBob();
    // Bob, still an admin on his copy, prepares alice's removal…
    const backdated = removeMember(s0, bob, keysOf(s0, bob), 'alice', NOW).entry.bytes;
    expect(reasonOf(appendEntry(s0, backdated, NOW))).toBe('accepted'); // it was valid where he built it
    // …but alice demotes him first.
    const s1 = must(s0, setRole(s0, alice, 'bob', 'writer', NOW).bytes);
    rejects(s1, backdated, 'log_stale');
    // Rebuilt at the head he is a writer, and writers don't remove members.
    rejects(s1, removeMember(s1, bob, keysOf(s1, bob), 'alice', NOW).entry.bytes, 'entry_not_permitted');
    const intent = buildIntent(s1, bob, keysOf(s1, bob), { kind: 'remove_member', member: 'alice' }, NOW);
    expect(reasonOf(intent)).toBe('entry_not_permitted');
    expect(memberOf(s1, 'alice')?.removed).toBe(false);
  });

  it('a removed founder’s backdated mutual removal is refused: stale on her old copy, author inactive at the head', () => {
    const { alice, bob, state: s0 } = aliceAndAdminBob();
    // Alice, on her copy, removes bob; bob, on the relay's head, removes alice first.
    const hers = removeMember(s0, alice, keysOf(s0, alice), 'bob', NOW).entry.bytes;
    const s1 = must(s0, removeMember(s0, bob, keysOf(s0, bob), 'alice', NOW).entry.bytes);
    rejects(s1, hers, 'log_stale');
    // At the head she is no longer a member: even with a key for the current epoch, she may not append.
    rejects(s1, removeMember(s1, alice, madeUpKeys(s1), 'bob', NOW).entry.bytes, 'entry_author_inactive');
    rejects(s1, setPolicy(s1, alice, { maxOfflineMs: DAY, leasePolicy: 'reject' }, NOW).bytes, 'entry_author_inactive');
    expect(memberOf(s1, 'bob')?.removed).toBe(false);
    expect(isActiveDevice(s1, alice.deviceId)).toBe(false);
  });

  it('a used invitation does not admit a backdated join: stale on the old head, invitation_used at the new one', () => {
    const alice = device('alice');
    let { state } = createWorkspace(alice, 'Team', { now: NOW });
    const inv = createInvitation(state, alice, keysOf(state, alice).get(0)!, { role: 'writer', expiresAt: NOW + DAY, now: NOW });
    const s0 = must(state, inv.entry.bytes);
    const bob = device('bob');
    const carol = device('carol');
    const carolsJoin = buildJoin(s0, inv.code, carol, NOW);
    if (!carolsJoin.ok) throw new Error(carolsJoin.reason);
    const bobsJoin = buildJoin(s0, inv.code, bob, NOW);
    if (!bobsJoin.ok) throw new Error(bobsJoin.reason);
    state = must(s0, bobsJoin.value.entry.bytes);
    rejects(state, carolsJoin.value.entry.bytes, 'log_stale');
    const rebuilt = buildJoin(state, inv.code, carol, NOW);
    if (!rebuilt.ok) throw new Error(rebuilt.reason);
    rejects(state, rebuilt.value.entry.bytes, 'invitation_used');
    expect(memberOf(state, 'carol')).toBeUndefined();
  });

  it('a revoked invitation does not admit a backdated join: stale on the old head, invitation_revoked at the new one', () => {
    const alice = device('alice');
    const { state: s } = createWorkspace(alice, 'Team', { now: NOW });
    const inv = createInvitation(s, alice, keysOf(s, alice).get(0)!, { role: 'writer', expiresAt: NOW + DAY, now: NOW });
    const s0 = must(s, inv.entry.bytes);
    const carol = device('carol');
    const backdated = buildJoin(s0, inv.code, carol, NOW);
    if (!backdated.ok) throw new Error(backdated.reason);
    const s1 = must(s0, revokeInvitation(s0, alice, inv.invitationId, NOW).bytes);
    rejects(s1, backdated.value.entry.bytes, 'log_stale');
    const rebuilt = buildJoin(s1, inv.code, carol, NOW);
    if (!rebuilt.ok) throw new Error(rebuilt.reason);
    rejects(s1, rebuilt.value.entry.bytes, 'invitation_revoked');
    expect(memberOf(s1, 'carol')).toBeUndefined();
  });

  it('an expired invitation is refused by the relay’s clock, whatever time the join claims', () => {
    const alice = device('alice');
    const relay = generateSigningKey<SigningSecretKey>();
    const model = identityMembership();
    const { state: s } = createWorkspace(alice, 'Team', { now: NOW });
    const expiresAt = NOW + 3600_000;
    const inv = createInvitation(s, alice, keysOf(s, alice).get(0)!, { role: 'writer', expiresAt, now: NOW });
    const s0 = must(s, inv.entry.bytes);
    // Carol's clock says a minute before expiry; the relay's says five minutes after (within the skew allowed).
    const join = buildJoin(s0, inv.code, device('carol'), expiresAt - 60_000);
    if (!join.ok) throw new Error(join.reason);
    expect(reasonOf(model.sequence(s0, join.value.entry.bytes, expiresAt + 5 * 60_000, relay.secretKey))).toBe('invitation_expired');
    // The same join, sequenced while the relay's clock is still before expiry, is admitted.
    expect(reasonOf(model.sequence(s0, join.value.entry.bytes, expiresAt - 2 * 60_000, relay.secretKey))).toBe('accepted');
  });

  it('a rejoin under an old user id is refused (member_was_removed) and the old devices stay inactive', () => {
    const { alice, bob: bobLaptop, state: s0 } = aliceAndAdminBob();
    let state = must(s0, removeMember(s0, alice, keysOf(s0, alice), 'bob', NOW).entry.bytes);
    const inv = createInvitation(state, alice, keysOf(state, alice).get(state.epoch)!, { role: 'admin', expiresAt: NOW + DAY, now: NOW });
    state = must(state, inv.entry.bytes);
    // A new device calling itself "bob", and bob's old laptop itself, both holding a fresh invitation.
    for (const who of [device('bob'), bobLaptop]) {
      const join = buildJoin(state, inv.code, who, NOW);
      if (!join.ok) throw new Error(join.reason);
      rejects(state, join.value.entry.bytes, 'member_was_removed');
    }
    expect(isActiveDevice(state, bobLaptop.deviceId)).toBe(false);
    expect(memberOf(state, 'bob')?.removed).toBe(true);
    expect(state.epochs.get(state.epoch)!.lockboxes.has(bobLaptop.deviceId)).toBe(false);
  });
});

describe('per-role limits', () => {
  it(`a writer’s ${LIMITS.entriesPerDay.writer + 1}st entry in a day is refused (limit_entries_per_day), and accepted a day later`, () => {
    const alice = device('alice');
    const bob = device('bob');
    let { state } = createWorkspace(alice, 'Team', { now: NOW });
    state = admit(state, alice, bob, 'writer');
    let authored = 1; // his join
    let spare: DeviceKeys | undefined;
    while (authored < LIMITS.entriesPerDay.writer) {
      // Add a device, then revoke it: two entries, never more than two devices.
      if (!spare) {
        const added = addDeviceEntry(state, bob);
        state = must(state, added.bytes);
        spare = added.device;
      } else {
        state = must(state, revokeDevice(state, bob, keysOf(state, bob), spare.deviceId, NOW).entry.bytes);
        spare = undefined;
      }
      authored++;
    }
    const next = addDeviceEntry(state, bob);
    rejects(state, next.bytes, 'limit_entries_per_day');
    // Alice (an admin, her own budget) is unaffected; bob may append again 24 hours on.
    must(state, setPolicy(state, alice, { maxOfflineMs: DAY, leasePolicy: 'hold' }, NOW).bytes);
    const later = addDevice(state, bob, keysOf(state, bob).get(state.epoch)!, { deviceId: next.device.deviceId, signingPub: next.device.signingPub, boxPub: next.device.boxPub },
      signDeviceEnrolment(next.device.signingKey, state.workspaceId, 'bob', next.device), NOW + DAY + 1);
    expect(reasonOf(appendEntry(state, later.bytes, NOW + DAY + 1))).toBe('accepted');
  });

  it(`a reader’s ${LIMITS.devicesPerUser.reader + 1}th device is refused (limit_devices), and fits once one is revoked`, () => {
    const alice = device('alice');
    const reader = device('rita');
    let { state } = createWorkspace(alice, 'Team', { now: NOW });
    state = admit(state, alice, reader, 'reader');
    const mine = [reader];
    while (mine.length < LIMITS.devicesPerUser.reader) {
      const added = addDeviceEntry(state, reader);
      state = must(state, added.bytes);
      mine.push(added.device);
    }
    rejects(state, addDeviceEntry(state, reader).bytes, 'limit_devices');
    state = must(state, revokeDevice(state, reader, keysOf(state, reader), mine[1]!.deviceId, NOW).entry.bytes);
    must(state, addDeviceEntry(state, reader).bytes);
  });
});

describe('countersignatures', () => {
  /** A team of two as a relay sequences it: every link countersigned by `relay`. */
  function sequenced(relay: SigningSecretKey) {
    const { alice, bob, state } = aliceAndAdminBob();
    const model = identityMembership();
    let s = model.emptyState(state.workspaceId);
    for (const id of state.order) {
      const r = model.sequence(s, state.applied.get(id)!.bytes, NOW, relay);
      if (!r.ok) throw new Error(r.reason);
      s = r.value.state;
    }
    return { alice, bob, state: s, links: [...s.links] };
  }

  it('a chain countersigned by the pinned relay key replays; one link signed by another key, or by none, fails it', () => {
    const relay = generateSigningKey<SigningSecretKey>();
    const other = generateSigningKey<SigningSecretKey>();
    const { links } = sequenced(relay.secretKey);
    const relayPub = relay.publicKey;
    expect(reasonOf(replayLog(links, { relayPub }))).toBe('accepted');

    const i = 2;
    const st = replayLog(links.slice(0, i + 1));
    if (!st.ok) throw new Error(st.reason);
    const entry = st.value.applied.get(st.value.order[i]!)!;
    const forged = encodeLink(entry.bytes, countersign(other.secretKey, entry));
    const bare = encodeLink(entry.bytes);
    const withLink = (l: Uint8Array) => [...links.slice(0, i), l, ...links.slice(i + 1)];

    const r1 = replayLog(withLink(forged), { relayPub });
    expect(r1.ok ? 'replayed' : `${r1.reason} ${r1.detail}`).toBe(`countersig_invalid index ${i}`);
    const r2 = replayLog(withLink(bare), { relayPub });
    expect(r2.ok ? 'replayed' : `${r2.reason} ${r2.detail}`).toBe(`entry_not_countersigned index ${i}`);
    // Without a pinned key (our own sealed store) the bare link is accepted; the forged one too, as bytes we wrote.
    expect(reasonOf(replayLog(withLink(bare)))).toBe('accepted');

    // Appending link by link: the same refusals, and the state is untouched.
    const before = replayLog(links.slice(0, i), { relayPub });
    if (!before.ok) throw new Error(before.reason);
    expect(reasonOf(appendLink(before.value, forged, NOW, relayPub))).toBe('countersig_invalid');
    expect(reasonOf(appendLink(before.value, bare, NOW, relayPub))).toBe('entry_not_countersigned');
    expect(reasonOf(appendLink(before.value, links[i]!, NOW, relayPub))).toBe('accepted');
    expect(before.value.order.length).toBe(i);
  });
});

describe('through a real relay', () => {
  let t: TestRelay | undefined;
  const clients: RelayClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await t?.stop();
    t = undefined;
  });

  async function storedLength(relay: TestRelay, workspaceId: string): Promise<number> {
    const store = new SqliteStore(relay.dbPath);
    try {
      return (await store.listLogEntries(workspaceId)).length;
    } finally {
      await store.close();
    }
  }

  it('a removed member’s log_append is refused and not stored, stale or rebuilt at the head', async () => {
    t = await startTestRelay();
    const alice = device('alice');
    const bob = device('bob');
    const now = Date.now();
    const ws = await publishWorkspace(t.relay, alice, [{ d: bob, role: 'admin' }], undefined, now);
    const relayPub = t.relay.relayPub;
    const a = await connect(t.relay, alice);
    const b = await connect(t.relay, bob);
    clients.push(a, b);
    const aliceCopy = (await pullChain(a, ws.workspaceId, undefined, relayPub, now)).state!;
    const bobsOldCopy = (await pullChain(b, ws.workspaceId, undefined, relayPub, now)).state!;

    // Bob prepares alice's removal on his copy; alice removes bob first.
    const backdated = removeMember(bobsOldCopy, bob, keysOf(bobsOldCopy, bob), 'alice', Date.now()).entry.bytes;
    const removed = await appendAtHead(a, ws.workspaceId, aliceCopy, relayPub, (s, at) => ({ ok: true, value: removeMember(s, alice, keysOf(s, alice), 'bob', at).entry.bytes }), Date.now);
    expect(reasonOf(removed)).toBe('accepted');
    const length = (await a.getLog(ws.workspaceId)).length;
    expect(await storedLength(t, ws.workspaceId)).toBe(length);

    // Stale: refused as such, nothing stored.
    const stale = await b.appendLog(ws.workspaceId, backdated).then(() => 'appended', (e: unknown) => (e instanceof RelayRequestError ? e.code : String(e)));
    expect(stale).toBe('log_stale');
    expect((await a.getLog(ws.workspaceId)).length).toBe(length);

    // Rebuilt at the head (bob reads the log, which anyone may): refused because he is no longer a member.
    const head = (await pullChain(b, ws.workspaceId, bobsOldCopy, relayPub, Date.now())).state!;
    expect(head.order.length).toBe(length);
    const selfPromotion = setRole(head, bob, 'bob', 'admin', Date.now()).bytes;
    const atHead = await b.appendLog(ws.workspaceId, selfPromotion).then(() => 'appended', (e: unknown) => (e instanceof RelayRequestError ? e.message : String(e)));
    expect(atHead).toMatch(/^log_rejected: entry_author_inactive/);
    const removal = removeMember(head, bob, madeUpKeys(head), 'alice', Date.now()).entry.bytes;
    const again = await appendAtHead(b, ws.workspaceId, bobsOldCopy, relayPub, () => ({ ok: true, value: removal }), Date.now);
    expect(reasonOf(again)).toBe('entry_author_inactive');

    expect((await a.getLog(ws.workspaceId)).length).toBe(length);
    expect(await storedLength(t, ws.workspaceId)).toBe(length);
    const replayed = replayLog(await a.getLog(ws.workspaceId), { relayPub });
    expect(replayed.ok && replayed.value.members.get('alice')?.removed).toBe(false);
    expect(replayed.ok && replayed.value.members.get('bob')?.removed).toBe(true);
  });
});
