// Test fixtures: people with device keys, and a tiny driver that applies entries and fails loudly.
import { expect } from 'vitest';
import { generateSigningKey } from '../../../src/crypto/ed25519.ts';
import { deviceIdOf } from '../../../src/crypto/ids.ts';
import type { DeviceSigningKey, EpochKey } from '../../../src/crypto/keys.ts';
import { generateBoxKey } from '../../../src/crypto/lockbox.ts';
import { appendEntry } from '../../../src/identity/workspace/log.ts';
import type { DeviceKeys } from '../../../src/identity/workspace/signEntry.ts';
import type { WorkspaceState } from '../../../src/identity/workspace/state.ts';
import { openEpochKeys } from '../../../src/identity/workspace/epochKeys.ts';

/** Fixture time: the real clock at load, and passed explicitly to every identity-library call. */
export const NOW = Date.now();
export const DAY = 24 * 3600 * 1000;

export function device(userId: string, name?: string): DeviceKeys {
  const s = generateSigningKey<DeviceSigningKey>();
  const b = generateBoxKey();
  return {
    userId,
    deviceId: deviceIdOf(s.publicKey),
    signingKey: s.secretKey,
    signingPub: s.publicKey,
    boxKey: b.secretKey,
    boxPub: b.publicKey,
    ...(name ? { name } : {}),
  };
}

/** Append and expect success. */
export function must(state: WorkspaceState, bytes: Uint8Array, now = NOW): WorkspaceState {
  const r = appendEntry(state, bytes, now);
  if (!r.ok) throw new Error(`append rejected: ${r.reason} ${r.detail ?? ''}`);
  return r.value;
}

/** Append and expect a specific rejection. */
export function rejects(state: WorkspaceState, bytes: Uint8Array, reason: string, now = NOW): void {
  const r = appendEntry(state, bytes, now);
  expect(r.ok ? 'accepted' : r.reason).toBe(reason);
}

export function keysOf(state: WorkspaceState, keys: DeviceKeys): Map<number, EpochKey> {
  const r = openEpochKeys(state, keys.deviceId, keys.boxKey);
  if (!r.ok) throw new Error(`cannot open epoch keys: ${r.reason}`);
  return r.value;
}
