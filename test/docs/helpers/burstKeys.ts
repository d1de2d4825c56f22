// Deterministic keys for the crash test, so the child process and the test agree without a vault.
import { sha256 } from '@noble/hashes/sha2.js';
import { concat, utf8 } from '../../../src/crypto/bytes.ts';
import { publicKeyOf } from '../../../src/crypto/ed25519.ts';
import { deviceIdOf } from '../../../src/crypto/ids.ts';
import { asKey, type DataKey, type DeviceSigningKey, type EpochKey } from '../../../src/crypto/keys.ts';
import type { EnvelopeAuthority } from '../../../src/docs/envelope/authority.ts';
import { documentKey } from '../../../src/identity/workspace/epochKeys.ts';

export function burstKeys(seed: string) {
  const k = (what: string) => sha256(concat(utf8(seed), utf8(what)));
  const signingKey = asKey<DeviceSigningKey>(k('sign'));
  const signingPub = publicKeyOf(signingKey);
  const deviceId = deviceIdOf(signingPub);
  const dataKey = asKey<DataKey>(k('data'));
  const epochKey = asKey<EpochKey>(k('epoch'));
  const authority: EnvelopeAuthority = {
    workspaceId: 'ws-burst',
    deviceInfo: id => (id === deviceId ? { deviceId, userId: 'alice', signingPub, revoked: false } : undefined),
    canWriteDevice: id => (id === deviceId ? true : 'not_a_member'),
    documentKey: (epoch, docId) => (epoch === 0 ? documentKey(epochKey, docId) : undefined),
  };
  return { dataKey, authority, device: { deviceId, userId: 'alice', signingKey, signingPub } };
}
