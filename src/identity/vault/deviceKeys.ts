// The unlocked vault's keys in the shape the workspace library signs and opens lockboxes with.
import type { DeviceKeys } from '../workspace/signEntry.ts';
import type { UnlockedVault } from './types.ts';

export function deviceKeysOfVault(vault: UnlockedVault): DeviceKeys {
  return {
    userId: vault.userId,
    deviceId: vault.device.deviceId,
    signingKey: vault.device.signingKey,
    signingPub: vault.device.signingPub,
    boxKey: vault.device.boxKey,
    boxPub: vault.device.boxPub,
    userSigningPub: vault.user.signingPub,
  };
}
