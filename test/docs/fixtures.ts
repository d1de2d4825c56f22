// In-test membership fixtures: alice and bob write, rita only reads, eve is no member, and mallory's
// device was revoked. Implements EnvelopeAuthority without the workspace library.
import * as A from '@automerge/automerge';
import { randomBytes } from '../../src/crypto/bytes.ts';
import { generateSigningKey } from '../../src/crypto/ed25519.ts';
import { deviceIdOf } from '../../src/crypto/ids.ts';
import { asKey, type DeviceSigningKey, type DocumentKey, type EpochKey, type PublicKey } from '../../src/crypto/keys.ts';
import { actorFor, newSessionNonce } from '../../src/docs/actor.ts';
import type { EnvelopeAuthority, EnvelopeDeviceInfo, SeqView, WriteRefusal } from '../../src/docs/envelope/authority.ts';
import { sealEnvelope } from '../../src/docs/envelope/sealEnvelope.ts';
import { documentKey } from '../../src/identity/workspace/epochKeys.ts';

export interface TestDevice {
  name: string;
  userId: string;
  deviceId: string;
  signingKey: DeviceSigningKey;
  signingPub: PublicKey;
  sessionNonce: Uint8Array;
  actor: string;
}

export function makeDevice(name: string, userId = name): TestDevice {
  const { secretKey, publicKey } = generateSigningKey<DeviceSigningKey>();
  const sessionNonce = newSessionNonce();
  return { name, userId, deviceId: deviceIdOf(publicKey), signingKey: secretKey, signingPub: publicKey, sessionNonce, actor: actorFor(publicKey, sessionNonce) };
}

export class FixtureAuthority implements EnvelopeAuthority {
  readonly devices = new Map<string, EnvelopeDeviceInfo & { role: 'admin' | 'writer' | 'reader'; removed: boolean }>();
  readonly epochKeys = new Map<number, EpochKey>([[0, asKey<EpochKey>(randomBytes(32))]]);
  constructor(readonly workspaceId = 'ws-test') {}

  add(d: TestDevice, role: 'admin' | 'writer' | 'reader' = 'writer'): this {
    this.devices.set(d.deviceId, { deviceId: d.deviceId, userId: d.userId, signingPub: d.signingPub, revoked: false, role, removed: false });
    return this;
  }
  revoke(d: TestDevice): this {
    this.devices.get(d.deviceId)!.revoked = true;
    return this;
  }
  deviceInfo(id: string): EnvelopeDeviceInfo | undefined {
    const d = this.devices.get(id);
    return d && { deviceId: d.deviceId, userId: d.userId, signingPub: d.signingPub, revoked: d.revoked };
  }
  canWriteDevice(id: string): true | WriteRefusal {
    const d = this.devices.get(id);
    if (!d || d.removed) return 'not_a_member';
    if (d.revoked) return 'device_revoked';
    return d.role === 'reader' ? 'no_write_permission' : true;
  }
  documentKey(epoch: number, docId: string): DocumentKey | undefined {
    const k = this.epochKeys.get(epoch);
    return k && documentKey(k, docId);
  }
}

/** A SeqView over a plain map, advanced by the test. */
export class MapSeqView implements SeqView {
  readonly applied = new Map<string, Map<number, string>>();
  lastSeq(deviceId: string, docId: string): number {
    const m = this.applied.get(`${deviceId}/${docId}`);
    return m ? Math.max(0, ...m.keys()) : 0;
  }
  envelopeHashAt(deviceId: string, docId: string, seq: number): string | undefined {
    return this.applied.get(`${deviceId}/${docId}`)?.get(seq);
  }
  record(deviceId: string, docId: string, seq: number, hash: string): void {
    const k = `${deviceId}/${docId}`;
    if (!this.applied.has(k)) this.applied.set(k, new Map());
    this.applied.get(k)!.set(seq, hash);
  }
}

/** Seal `changes` as `device` for `docId` at `seq` under the fixture's epoch 0. */
export function sealAs(auth: FixtureAuthority, device: TestDevice, docId: string, seq: number, changes: Uint8Array[], over: Partial<{ sessionNonce: Uint8Array; epoch: number; workspaceId: string; logIndex: number; logHead: Uint8Array }> = {}) {
  const epoch = over.epoch ?? 0;
  const key = documentKey(auth.epochKeys.get(0)!, docId);
  return sealEnvelope(
    {
      workspaceId: over.workspaceId ?? auth.workspaceId,
      docId,
      deviceId: device.deviceId,
      epoch,
      seq,
      leaseId: 'lease-1',
      claimedTime: 1_700_000_000_000 + seq,
      sessionNonce: over.sessionNonce ?? device.sessionNonce,
      logIndex: over.logIndex ?? 0,
      logHead: over.logHead ?? new Uint8Array(32),
      changes,
    },
    key,
    device.signingKey,
  );
}

/** n edits by `actor` on a fresh doc; returns every change (the first creates the doc). */
export function someChanges(actor: string, n: number): Uint8Array[] {
  let doc = A.from<{ text: string }>({ text: '' }, { actor });
  for (let i = 0; i < n; i++) doc = A.change(doc, d => A.splice(d, ['text'], i, 0, 'x'));
  return A.getAllChanges(doc);
}
