// Property: random membership intents from several admins (and a writer), some online and some
// offline, delivered through an in-process relay model that sequences and countersigns with the
// relay's own code (relay/identityMembership.ts). A client at an old head is told log_stale and
// rebuilds the intent on the current chain (as appendAtHead does); an intent that is no longer
// valid is reported, never dropped. DESIGN → Membership log (normative).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { generateSigningKey } from '../../../src/crypto/ed25519.ts';
import type { EpochKey, SigningSecretKey } from '../../../src/crypto/keys.ts';
import { collectEpochKeys } from '../../../src/docs/sync/chainSync.ts';
import { createWorkspace } from '../../../src/identity/workspace/createWorkspace.ts';
import type { Role } from '../../../src/identity/workspace/entry.ts';
import { buildIntent, inviteIntent, newIntent, type IntentAction } from '../../../src/identity/workspace/intents.ts';
import { buildJoin, createInvitation, newInvitation } from '../../../src/identity/workspace/invitations.ts';
import { appendLink, replayLog } from '../../../src/identity/workspace/log.ts';
import { WORKSPACE_REJECTIONS } from '../../../src/identity/workspace/rejections.ts';
import type { DeviceKeys } from '../../../src/identity/workspace/signEntry.ts';
import { emptyState, type WorkspaceState } from '../../../src/identity/workspace/state.ts';
import { identityMembership } from '../../../relay/identityMembership.ts';
import { integrationTimeouts } from '../../timeouts.ts';
import { DAY, NOW, device, keysOf } from './fixtures.ts';

integrationTimeouts();

const SEED = Number(process.env.CLOISTER_SEED ?? Date.now() % 2 ** 31);
const RUNS = 200;
const MAX_STEPS = 12;

const model = identityMembership();
const relayKey = generateSigningKey<SigningSecretKey>();
const relayPub = relayKey.publicKey;

/** The relay's sequencing, failing loudly: for building the shared prefix. */
function sequenceOrThrow(state: WorkspaceState, bytes: Uint8Array, now: number): WorkspaceState {
  const r = model.sequence(state, bytes, now, relayKey.secretKey);
  if (!r.ok) throw new Error(`prefix refused: ${r.reason} ${r.detail ?? ''}`);
  return r.value.state;
}

/** alice founds; bob and carol join as admins, dave as a writer, all through the relay model. Built once, shared (states are immutable). */
const founders = [device('alice'), device('bob'), device('carol'), device('dave')] as const;
const prefix: WorkspaceState = (() => {
  const [alice, ...others] = founders;
  const created = createWorkspace(alice, 'Team', { now: NOW });
  let s = sequenceOrThrow(emptyState(created.workspaceId), created.root, NOW);
  const roles: Role[] = ['admin', 'admin', 'writer'];
  others.forEach((d, i) => {
    const inv = createInvitation(s, alice, keysOf(s, alice).get(s.epoch)!, { role: roles[i]!, expiresAt: NOW + DAY, now: NOW });
    s = sequenceOrThrow(s, inv.entry.bytes, NOW);
    const join = buildJoin(s, inv.code, d, NOW);
    if (!join.ok) throw new Error(join.reason);
    s = sequenceOrThrow(s, join.value.entry.bytes, NOW);
  });
  return s;
})();

const KINDS = ['invite', 'remove_member', 'set_role', 'revoke_device', 'rotate_key', 'set_policy'] as const;
type Cmd =
  | { t: 'intent'; who: number; kind: (typeof KINDS)[number]; pick: number; role: Role }
  | { t: 'online'; who: number; online: boolean }
  | { t: 'sync'; who: number };

const cmdArb: fc.Arbitrary<Cmd> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant('intent' as const), who: fc.nat(), kind: fc.constantFrom(...KINDS), pick: fc.nat(), role: fc.constantFrom<Role>('admin', 'writer', 'reader') }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('online' as const), who: fc.nat(), online: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('sync' as const), who: fc.nat() }) },
);

interface Pending {
  id: string;
  action: IntentAction;
  /** For an invite: the code, handed to `joiner`, who joins as soon as the invite is in the chain. */
  code?: string;
  joiner?: DeviceKeys;
}

interface Client {
  keys: DeviceKeys;
  local: WorkspaceState;
  epochKeys: Map<number, EpochKey>;
  online: boolean;
  queue: Pending[];
}

const stats = { runs: 0, appended: 0, failed: 0, stale: 0, offlineQueued: 0, joins: 0, removals: 0, reasons: new Map<string, number>() };

class World {
  relay: WorkspaceState = prefix;
  now = NOW;
  clients: Client[];
  /** Every intent made (and every join an appended invite leads to), by id. */
  created = new Set<string>();
  appended = new Map<string, number>();
  failed = new Map<string, string>();
  private joiners = 0;

  constructor(online: boolean[]) {
    const replayed = replayLog(prefix.links, { relayPub });
    if (!replayed.ok) throw new Error(replayed.reason);
    this.clients = founders.map((keys, i) => ({ keys, local: replayed.value, epochKeys: keysOf(replayed.value, keys), online: online[i] ?? true, queue: [] }));
  }

  /** The relay: sequence at its head by its clock, or refuse with a reason. */
  private append(bytes: Uint8Array) {
    const r = model.sequence(this.relay, bytes, this.now, relayKey.secretKey);
    if (r.ok) this.relay = r.value.state;
    return r;
  }

  /** Bring a client's copy to the relay's head, verifying each link against the pinned relay key. */
  pull(c: Client): void {
    const len = c.local.order.length;
    expect(c.local.order[len - 1]).toBe(this.relay.order[len - 1]); // no fork
    for (let i = len; i < this.relay.links.length; i++) {
      const next = appendLink(c.local, this.relay.links[i]!, undefined, relayPub);
      if (!next.ok) throw new Error(`client refused the relay's link ${i}: ${next.reason} ${next.detail ?? ''}`);
      c.local = next.value;
    }
    c.epochKeys = collectEpochKeys(c.local, c.keys.deviceId, c.keys.boxKey, c.epochKeys);
  }

  private report(id: string, reason: string): void {
    expect(this.appended.has(id) || this.failed.has(id)).toBe(false);
    this.failed.set(id, reason);
    stats.failed++;
    stats.reasons.set(reason, (stats.reasons.get(reason) ?? 0) + 1);
  }

  /** Build on the client's copy, send; on log_stale (or a copy too old to build on) pull and rebuild at the head. */
  deliver(c: Client, p: Pending): void {
    for (let attempt = 0; attempt < 4; attempt++) {
      const built = buildIntent(c.local, c.keys, c.epochKeys, p.action, this.now);
      if (!built.ok) {
        if (c.local.head !== this.relay.head) {
          this.pull(c);
          continue;
        }
        return this.report(p.id, built.reason);
      }
      const r = this.append(built.value.entry.bytes);
      if (!r.ok) {
        if (r.reason === 'log_stale') {
          stats.stale++;
          this.pull(c);
          continue;
        }
        return this.report(p.id, r.reason);
      }
      const mine = appendLink(c.local, r.value.link, undefined, relayPub);
      if (!mine.ok) throw new Error(`the relay's link for our entry: ${mine.reason}`);
      c.local = mine.value;
      if (built.value.newKey) c.epochKeys.set(built.value.newKey.epoch, built.value.newKey.key);
      this.appended.set(p.id, r.value.index);
      stats.appended++;
      if (p.action.kind === 'remove_member') stats.removals++;
      if (p.code && p.joiner) this.join(p);
      return;
    }
    throw new Error(`intent ${p.id} made no progress in 4 attempts`);
  }

  /** The invitee reads the relay's chain (anyone may) and joins at its head; then it is a client too. */
  private join(p: Pending): void {
    const id = `${p.id}/join`;
    this.created.add(id);
    const join = buildJoin(this.relay, p.code!, p.joiner!, this.now);
    if (!join.ok) return this.report(id, join.reason);
    const r = this.append(join.value.entry.bytes);
    if (!r.ok) return this.report(id, r.reason);
    this.appended.set(id, r.value.index);
    stats.joins++;
    const replayed = replayLog(this.relay.links, { relayPub });
    if (!replayed.ok) throw new Error(replayed.reason);
    this.clients.push({ keys: p.joiner!, local: replayed.value, epochKeys: keysOf(replayed.value, p.joiner!), online: true, queue: [] });
  }

  /** What the person at client `c` asks for, resolved against what their copy shows them. */
  private intentFor(c: Client, cmd: Extract<Cmd, { t: 'intent' }>): Pending | undefined {
    const s = c.local;
    const members = [...s.members.values()].filter((m) => !m.removed);
    const devices = [...s.devices.values()].filter((d) => !d.revoked);
    const at = <T,>(xs: T[]): T | undefined => (xs.length ? xs[cmd.pick % xs.length] : undefined);
    let action: IntentAction;
    switch (cmd.kind) {
      case 'invite': {
        const inv = newInvitation({ role: cmd.role, expiresAt: this.now + DAY });
        const p = newIntent(inviteIntent(inv.terms), this.now);
        return { id: p.id, action: p.action, code: inv.code, joiner: device(`u${++this.joiners}`) };
      }
      case 'remove_member': {
        const m = at(members);
        if (!m) return undefined;
        action = { kind: 'remove_member', member: m.userId };
        break;
      }
      case 'set_role': {
        const m = at(members);
        if (!m) return undefined;
        action = { kind: 'set_role', member: m.userId, role: cmd.role };
        break;
      }
      case 'revoke_device': {
        const d = at(devices);
        if (!d) return undefined;
        action = { kind: 'revoke_device', device: d.deviceId };
        break;
      }
      case 'rotate_key':
        action = { kind: 'rotate_key' };
        break;
      case 'set_policy':
        action = { kind: 'set_policy', policy: { maxOfflineMs: ((cmd.pick % 30) + 1) * DAY, leasePolicy: cmd.pick % 2 ? 'hold' : 'reject' } };
        break;
    }
    const p = newIntent(action, this.now);
    return { id: p.id, action: p.action };
  }

  run(cmd: Cmd): void {
    this.now += 60_000;
    const c = this.clients[cmd.who % this.clients.length]!;
    switch (cmd.t) {
      case 'intent': {
        const p = this.intentFor(c, cmd);
        if (!p) return;
        this.created.add(p.id);
        if (c.online) this.deliver(c, p);
        else {
          c.queue.push(p);
          stats.offlineQueued++;
        }
        return;
      }
      case 'online':
        c.online = cmd.online;
        if (c.online) this.flush(c);
        return;
      case 'sync':
        if (c.online) this.pull(c);
        return;
    }
  }

  /** Deliver everything the client queued while offline, in order. */
  flush(c: Client): void {
    for (const p of c.queue.splice(0)) this.deliver(c, p);
  }

  /** Everyone comes online, delivers what they queued, and syncs. */
  settle(): void {
    for (let i = 0; i < this.clients.length; i++) {
      const c = this.clients[i]!;
      this.now += 60_000;
      c.online = true;
      this.flush(c);
    }
    for (const c of this.clients) this.pull(c);
  }
}

/** The properties, checked on the settled world. */
function check(w: World): void {
  // The relay's own chain replays under its key.
  const relayChain = replayLog(w.relay.links, { relayPub });
  if (!relayChain.ok) throw new Error(`the relay's chain does not replay: ${relayChain.reason} ${relayChain.detail ?? ''}`);
  const final = relayChain.value;

  // 1. Every client's chain, replayed from scratch under the pinned key, is the relay's: same order, same head.
  for (const c of w.clients) {
    const r = replayLog(c.local.links, { relayPub });
    if (!r.ok) throw new Error(`client ${c.keys.userId}: ${r.reason} ${r.detail ?? ''}`);
    expect(r.value.order).toEqual(final.order);
    expect(r.value.head).toBe(final.head);
  }

  // Removals, in chain order: who, at which index, and the first epoch created without them.
  const removed = new Map<string, { index: number; epoch: number; devices: Set<string> }>();
  let s = emptyState('');
  for (let i = 0; i < w.relay.links.length; i++) {
    const next = appendLink(s, w.relay.links[i]!, undefined, relayPub);
    if (!next.ok) throw new Error(next.reason);
    s = next.value;
    const body = s.applied.get(s.order[i]!)!.body;
    // 3. No entry authored by a removed member's device after the removal.
    const author = final.devices.get(body.author)?.userId;
    if (author !== undefined) expect(removed.has(author), `entry ${i} (${body.kind}) by removed ${author}`).toBe(false);
    if (body.kind === 'remove_member') removed.set(body.member, { index: i, epoch: s.epoch, devices: new Set(final.members.get(body.member)!.devices) });
  }

  // 2. No removed member's device holds a lockbox in any epoch created at or after their removal.
  for (const [user, r] of removed)
    for (const [epoch, rec] of final.epochs)
      if (epoch >= r.epoch) for (const slot of rec.lockboxes.keys()) expect(r.devices.has(slot), `${user}'s device ${slot} has a lockbox in epoch ${epoch}`).toBe(false);

  // 4. Every intent was appended or reported, never both, never lost; and nothing is left queued.
  for (const id of w.created) expect(w.appended.has(id) !== w.failed.has(id), `intent ${id}`).toBe(true);
  expect(w.appended.size + w.failed.size).toBe(w.created.size);
  for (const reason of w.failed.values()) expect(Object.hasOwn(WORKSPACE_REJECTIONS, reason), reason).toBe(true);
  expect(w.clients.every((c) => c.queue.length === 0)).toBe(true);
  // Appended intents sit at distinct indexes of the chain.
  expect(new Set(w.appended.values()).size).toBe(w.appended.size);
}

describe('membership chain under random intents, online and offline', () => {
  it(`every client ends on the relay's chain, removed members get no later keys and author nothing later, every intent is appended or reported (fast-check seed ${SEED}, ${RUNS} runs)`, () => {
    console.log(`chain property: seed ${SEED}, ${RUNS} runs (rerun with CLOISTER_SEED=${SEED})`);
    fc.assert(
      fc.property(fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }), fc.array(cmdArb, { minLength: 1, maxLength: MAX_STEPS }), (online, cmds) => {
        const w = new World(online);
        for (const cmd of cmds) w.run(cmd);
        w.settle();
        check(w);
        stats.runs++;
      }),
      { numRuns: RUNS, seed: SEED },
    );
    console.log(
      `chain property: ${stats.runs} runs, ${stats.appended} intents appended, ${stats.failed} reported (${[...stats.reasons].map(([k, v]) => `${k} ${v}`).join(', ')}), ` +
        `${stats.stale} log_stale rebuilds, ${stats.offlineQueued} queued offline, ${stats.joins} joins, ${stats.removals} removals`,
    );
    // The runs exercised what the properties are about.
    expect(stats.stale).toBeGreaterThan(0);
    expect(stats.failed).toBeGreaterThan(0);
    expect(stats.removals).toBeGreaterThan(0);
    expect(stats.offlineQueued).toBeGreaterThan(0);
  });
});
