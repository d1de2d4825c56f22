// The malicious member (mallory): a real member of the workspace who pushes forged envelopes over her
// own authenticated connection. Each forgery names the refusal it must meet: at the relay
// (bad_signature, wrong_device, seq_replay, not_a_member after her removal) or, for what the relay
// cannot see inside the ciphertext, at every replica (actor_mismatch).
import * as A from '@automerge/automerge';
import { newDocumentId } from '../../docs/newDocumentId.ts';
import type { PublicKey } from '../../crypto/keys.ts';
import { actorFor, newSessionNonce } from '../../docs/actor.ts';
import { sealEnvelope } from '../../docs/envelope/sealEnvelope.ts';
import { RelayClient, type RelayClientOptions } from '../../docs/sync/relayClient.ts';
import type { OpenReplica, SimUser } from './profiles.ts';
import type { Rng } from './rng.ts';

export type ForgeryKind = 'bad_signature' | 'wrong_device' | 'actor_mismatch' | 'seq_replay' | 'removed_member';

export interface ForgeryResult {
  kind: ForgeryKind;
  /** Where it must be refused, and with which reason. */
  expect: { at: 'relay' | 'replicas'; reason: string };
  /** What the relay answered: a rejection reason, 'acked' or 'acked_duplicate', or 'error: ...'. */
  relay: string;
  docId: string;
}

export interface Victim {
  deviceId: string;
  devicePub: PublicKey;
}

/** A one-change document by `actor`, stamped with the run's clock (A.from would read the system's). */
export function forgedDoc(init: Record<string, string>, actor: string, nowMs: number): A.Doc<Record<string, string>> {
  return A.change(A.init<Record<string, string>>({ actor }), { time: Math.floor(nowMs / 1000) }, d => Object.assign(d, init));
}

export class Mallory {
  /** Docs whose forged seq 1 the relay stored (actor_mismatch): targets for seq_replay. */
  readonly forgedDocs: string[] = [];
  removed = false;
  private client: RelayClient | undefined;

  constructor(
    readonly user: SimUser,
    readonly open: OpenReplica,
    readonly workspaceId: string,
    private readonly relayUrl: string,
    /** The run's simulated clock (claimed times). */
    private readonly now: () => number,
    /** Memory mode: the relay's in-process transport. */
    private readonly socket?: RelayClientOptions['WebSocket'],
  ) {}

  private async connection(): Promise<RelayClient> {
    if (this.client) return this.client;
    const d = this.user.vault.device;
    this.client = await RelayClient.connect({ url: this.relayUrl, signingKey: d.signingKey, devicePub: d.signingPub as PublicKey, workspaces: [this.workspaceId], timeoutMs: 10_000, ...(this.socket ? { WebSocket: this.socket } : {}) });
    return this.client;
  }

  private seal(o: { docId: string; seq: number; deviceId?: string; actorPub?: PublicKey; text: string }, leaseId: string): Uint8Array {
    const d = this.user.vault.device;
    const live = this.open.s.live;
    const epoch = live.epoch;
    const key = live.documentKey(epoch, o.docId);
    if (!key) throw new Error('mallory holds no key for the current epoch');
    const nonce = newSessionNonce();
    const log = live.logPosition();
    const actor = actorFor(o.actorPub ?? (d.signingPub as PublicKey), nonce);
    const doc = forgedDoc({ title: o.text, notes: o.text }, actor, this.now());
    const changes = A.getAllChanges(doc);
    return sealEnvelope(
      { workspaceId: this.workspaceId, docId: o.docId, deviceId: o.deviceId ?? d.deviceId, epoch, seq: o.seq, leaseId, claimedTime: this.now(), sessionNonce: nonce, logIndex: log.index, logHead: log.head, changes },
      key,
      d.signingKey,
    ).bytes;
  }

  /** Pick a forgery (seeded) and push it; returns what it must meet and what the relay said. */
  async forge(rng: Rng, victim: Victim): Promise<ForgeryResult> {
    const kinds: ForgeryKind[] = this.removed
      ? ['removed_member']
      : this.forgedDocs.length > 0
        ? ['bad_signature', 'wrong_device', 'actor_mismatch', 'seq_replay']
        : ['bad_signature', 'wrong_device', 'actor_mismatch'];
    const kind = rng.pick(kinds);
    const fresh = (): string => newDocumentId();
    const c = await this.connection();
    // a fresh lease each time (the relay's clock may have jumped), so forgeries meet their own refusal
    let leaseId = c.leases.get(this.workspaceId)?.lease.leaseId ?? '';
    if (!this.removed) {
      try {
        leaseId = (await c.renewLease(this.workspaceId)).leaseId;
      } catch {
        // keep the one from authentication
      }
    }
    let bytes: Uint8Array;
    let docId: string;
    let expect: ForgeryResult['expect'];
    switch (kind) {
      case 'bad_signature': {
        docId = fresh();
        bytes = this.seal({ docId, seq: 1, text: 'tampered' }, leaseId).slice();
        bytes[bytes.length - 80]! ^= 0x01; // inside the ciphertext, covered by the signature
        expect = { at: 'relay', reason: 'bad_signature' };
        break;
      }
      case 'wrong_device': {
        docId = fresh();
        bytes = this.seal({ docId, seq: 1, deviceId: victim.deviceId, actorPub: victim.devicePub, text: 'impersonated' }, leaseId);
        expect = { at: 'relay', reason: 'wrong_device' };
        break;
      }
      case 'actor_mismatch': {
        docId = fresh();
        bytes = this.seal({ docId, seq: 1, actorPub: victim.devicePub, text: 'written as someone else' }, leaseId);
        expect = { at: 'replicas', reason: 'actor_mismatch' };
        break;
      }
      case 'seq_replay': {
        docId = rng.pick(this.forgedDocs);
        bytes = this.seal({ docId, seq: 1, text: 'rewritten history' }, leaseId);
        expect = { at: 'relay', reason: 'seq_replay' };
        break;
      }
      case 'removed_member': {
        docId = fresh();
        bytes = this.seal({ docId, seq: 1, text: 'written after removal' }, leaseId);
        expect = { at: 'relay', reason: 'not_a_member' };
        break;
      }
    }
    let relay: string;
    try {
      const r = await c.push(bytes);
      relay = r.status === 'acked' ? (r.duplicate ? 'acked_duplicate' : 'acked') : r.status === 'held' ? 'held' : r.reason;
    } catch (e) {
      relay = `error: ${(e as Error).message}`;
      this.close();
    }
    if (kind === 'actor_mismatch' && relay === 'acked') this.forgedDocs.push(docId);
    return { kind, expect, relay, docId };
  }

  close(): void {
    try {
      this.client?.close();
    } catch {
      // already closed
    }
    this.client = undefined;
  }
}
