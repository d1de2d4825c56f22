// Reduce one already-validated entry into a new state. Unchanged records are shared with the old
// state; changed maps and records are copied, so earlier states stay valid snapshots. (The order
// and link arrays are copied per entry; a replay builds them once, see replayLog.)
import { b64bytes, type Entry, type Rotation } from './entry.ts';
import { equalBytes, fromBase64url } from '../../crypto/bytes.ts';
import { inviteSlot } from './epochKeys.ts';
import type { EpochRecord, WorkspaceState } from './state.ts';

function withRotation(epochs: Map<number, EpochRecord>, r: Rotation): Map<number, EpochRecord> {
  const next = new Map(epochs);
  next.set(r.epoch, {
    epoch: r.epoch,
    check: b64bytes(r.check),
    chain: b64bytes(r.chain),
    lockboxes: new Map(Object.entries(r.lockboxes).map(([slot, box]) => [slot, b64bytes(box)])),
  });
  return next;
}

/** Record a lockbox only under the epoch key it was made for (see lockboxFits). */
function withLockbox(epochs: Map<number, EpochRecord>, ref: { epoch: number; check: string; box: string }, slot: string): Map<number, EpochRecord> {
  const rec = epochs.get(ref.epoch);
  const check = fromBase64url(ref.check);
  if (!rec || !check || !equalBytes(check, rec.check)) return epochs;
  const epoch = ref.epoch;
  const box = ref.box;
  const next = new Map(epochs);
  next.set(epoch, { ...rec, lockboxes: new Map(rec.lockboxes).set(slot, b64bytes(box)) });
  return next;
}

function rotate(s: WorkspaceState, r: Rotation): WorkspaceState {
  s.epochs = withRotation(s.epochs, r);
  s.epoch = r.epoch;
  return s;
}

/**
 * `link` is the stored form of this position (the entry, with the relay's countersignature once it
 * has one). `extendInPlace` lets a replay, which never exposes intermediate states, grow the chain
 * arrays without copying them per entry.
 */
export function applyEntry(state: WorkspaceState, e: Entry, link: Uint8Array, extendInPlace = false): WorkspaceState {
  const b = e.body;
  const s: WorkspaceState = extendInPlace
    ? (state.applied.set(e.id, e), state.order.push(e.id), state.links.push(link), { ...state, head: e.id })
    : { ...state, applied: new Map(state.applied).set(e.id, e), order: [...state.order, e.id], links: [...state.links, link], head: e.id };
  const admittedAt = b.index;
  switch (b.kind) {
    case 'create': {
      const d = b.device;
      s.sealedName = { ...b.name };
      s.members = new Map([[b.founder.userId, {
        userId: b.founder.userId, role: 'admin', removed: false, devices: [d.deviceId], admittedAt,
        ...(b.founder.name ? { sealedName: { ...b.founder.name } } : {}),
        ...(b.founder.userSigningPub ? { userSigningPub: b64bytes(b.founder.userSigningPub) } : {}),
      }]]);
      s.devices = new Map([[d.deviceId, { deviceId: d.deviceId, userId: b.founder.userId, signingPub: b64bytes(d.signingPub), boxPub: b64bytes(d.boxPub), revoked: false }]]);
      s.epochs = new Map([[0, { epoch: 0, check: b64bytes(b.epoch0.check), lockboxes: new Map([[d.deviceId, b64bytes(b.epoch0.lockbox)]]) }]]);
      s.epoch = 0;
      s.policy = { ...b.policy };
      return s;
    }
    case 'invite': {
      const i = b.invitation;
      s.invitations = new Map(s.invitations).set(i.id, { id: i.id, pub: b64bytes(i.pub), boxPub: b64bytes(i.boxPub), role: i.role, expiresAt: i.expiresAt, maxUses: i.maxUses, uses: 0, revoked: false });
      s.epochs = withLockbox(s.epochs, b.lockbox, inviteSlot(i.id));
      return s;
    }
    case 'join': {
      const inv = s.invitations.get(b.invitation)!;
      const d = b.device;
      s.invitations = new Map(s.invitations).set(inv.id, { ...inv, uses: inv.uses + 1 });
      s.members = new Map(s.members).set(b.user.userId, {
        userId: b.user.userId, role: inv.role, removed: false, devices: [d.deviceId], admittedAt,
        ...(b.user.name ? { sealedName: { ...b.user.name } } : {}),
        ...(b.user.userSigningPub ? { userSigningPub: b64bytes(b.user.userSigningPub) } : {}),
      });
      s.devices = new Map(s.devices).set(d.deviceId, { deviceId: d.deviceId, userId: b.user.userId, signingPub: b64bytes(d.signingPub), boxPub: b64bytes(d.boxPub), revoked: false });
      s.epochs = withLockbox(s.epochs, b.lockbox, d.deviceId);
      return s;
    }
    case 'add_device': {
      const userId = s.devices.get(b.author)!.userId;
      const m = s.members.get(userId)!;
      const d = b.device;
      s.members = new Map(s.members).set(userId, { ...m, devices: [...m.devices, d.deviceId] });
      s.devices = new Map(s.devices).set(d.deviceId, { deviceId: d.deviceId, userId, signingPub: b64bytes(d.signingPub), boxPub: b64bytes(d.boxPub), revoked: false });
      s.epochs = withLockbox(s.epochs, b.lockbox, d.deviceId);
      return s;
    }
    case 'revoke_device': {
      const d = s.devices.get(b.device)!;
      s.devices = new Map(s.devices).set(d.deviceId, { ...d, revoked: true });
      return rotate(s, b.rotation);
    }
    case 'remove_member': {
      const m = s.members.get(b.member)!;
      s.members = new Map(s.members).set(m.userId, { ...m, removed: true });
      // Every device of a removed member is inactive from here on (isActive), for good: the user id can't join again.
      return rotate(s, b.rotation);
    }
    case 'set_role': {
      const m = s.members.get(b.member)!;
      s.members = new Map(s.members).set(m.userId, { ...m, role: b.role });
      return s;
    }
    case 'rotate_key':
      return rotate(s, b.rotation);
    case 'revoke_invitation': {
      const inv = s.invitations.get(b.invitation)!;
      s.invitations = new Map(s.invitations).set(inv.id, { ...inv, revoked: true });
      return s;
    }
    case 'set_policy':
      s.policy = { ...b.policy };
      return s;
    case 'set_name': {
      const m = s.members.get(s.devices.get(b.author)!.userId)!;
      const { name: _opened, ...rest } = m; // the old name no longer stands; withNames opens the new one
      s.members = new Map(s.members).set(m.userId, { ...rest, sealedName: { ...b.name } });
      return s;
    }
  }
}
