// Shared by the vault tests: throwaway homes and the cheapest KDF parameters Cloister allows.
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MIN_KDF } from '../../../src/crypto/argon2.ts';

export const FAST = { kdf: MIN_KDF };

const homes: string[] = [];
export function tempHome(): string {
  const h = mkdtempSync(join(tmpdir(), 'cloister-vault-'));
  homes.push(h);
  return h;
}
export function removeTempHomes(): void {
  for (const h of homes.splice(0)) rmSync(h, { recursive: true, force: true });
}

/** Every file under `dir`, recursively, with its bytes. */
export function allFiles(dir: string): { path: string; bytes: Buffer }[] {
  const out: { path: string; bytes: Buffer }[] = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...allFiles(p));
    else out.push({ path: p, bytes: readFileSync(p) });
  }
  return out;
}
