// Where the vault lives (`<home>/vault`) and how it is read and replaced on disk.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fail, type Result } from '../../crypto/result.ts';
import { removeStaleTemps, writeFileAtomic } from './atomicWrite.ts';
import type { VaultFailure } from './types.ts';
import { decodeVaultFile, type VaultFile } from './vaultFile.ts';

export const VAULT_FILE = 'vault';

export function vaultPath(home: string): string {
  return join(home, VAULT_FILE);
}

export function vaultExists(home: string): boolean {
  return existsSync(vaultPath(home));
}

export function readVaultFile(home: string): Result<VaultFile, VaultFailure> {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(readFileSync(vaultPath(home)));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return fail('vault_missing');
    return fail('vault_io', code ?? 'read failed');
  }
  return decodeVaultFile(bytes);
}

/** Replace the vault file atomically; the home directory is created (owner-only) if needed. */
export function writeVaultFile(home: string, bytes: Uint8Array): void {
  mkdirSync(home, { recursive: true, mode: 0o700 });
  writeFileAtomic(vaultPath(home), bytes, { mode: 0o600 });
  removeStaleTemps(vaultPath(home));
}
