// Back-off after failed unlock attempts. ADVISORY ONLY: the counter is a plain file beside the vault,
// so anyone holding the disk deletes it or copies the vault elsewhere and guesses at full speed; there
// the real defence is the Argon2id cost per guess. It slows guessing through this program on a device
// left unattended. Schedule: 3 free attempts, then 1 s, 2 s, 4 s, … capped at 5 minutes.
import { existsSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { utf8 } from '../../crypto/bytes.ts';
import { writeFileAtomic } from './atomicWrite.ts';

export const BACKOFF_FILE = 'vault.attempts';
const FREE_ATTEMPTS = 3;
const BASE_MS = 1000;
const CAP_MS = 5 * 60_000;

export interface BackoffState {
  failures: number;
  lastFailureAt: number; // ms since epoch
}

export interface BackoffOptions {
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  /** Told how long we wait and why, so a CLI can say so. */
  onWait?: (ms: number, failures: number) => void;
}

/** How long after the last failure the next attempt may start, given consecutive failures so far. */
export function backoffDelayMs(failures: number): number {
  if (failures < FREE_ATTEMPTS) return 0;
  return Math.min(CAP_MS, BASE_MS * 2 ** Math.min(failures - FREE_ATTEMPTS, 20));
}

/** The counter as stored; a missing or unreadable file counts as no failures (it is advisory). */
export function readBackoff(home: string): BackoffState {
  try {
    const v = JSON.parse(readFileSync(join(home, BACKOFF_FILE), 'utf8')) as Partial<BackoffState>;
    const failures = Number.isSafeInteger(v.failures) && v.failures! >= 0 ? v.failures! : 0;
    const lastFailureAt = Number.isFinite(v.lastFailureAt) ? v.lastFailureAt! : 0;
    return { failures, lastFailureAt };
  } catch {
    return { failures: 0, lastFailureAt: 0 };
  }
}

export async function waitBeforeAttempt(home: string, opts: BackoffOptions = {}): Promise<void> {
  const now = opts.now ?? Date.now;
  const { failures, lastFailureAt } = readBackoff(home);
  const remaining = lastFailureAt + backoffDelayMs(failures) - now();
  if (remaining <= 0) return;
  const ms = Math.min(remaining, CAP_MS);
  opts.onWait?.(ms, failures);
  await (opts.sleep ?? ((t: number) => new Promise<void>((r) => setTimeout(r, t))))(ms);
}

export function recordFailure(home: string, now: number = Date.now()): BackoffState {
  const state = { failures: readBackoff(home).failures + 1, lastFailureAt: now };
  writeFileAtomic(join(home, BACKOFF_FILE), utf8(JSON.stringify(state)));
  return state;
}

export function clearFailures(home: string): void {
  const p = join(home, BACKOFF_FILE);
  if (existsSync(p)) unlinkSync(p);
}
