// Advisory back-off: after three wrong passwords, eve waits 1 s, 2 s, 4 s … before the next try.
// Alice's correct password resets it. (Advisory: deleting the counter file bypasses it; see docs/VAULT.md.)
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BACKOFF_FILE, backoffDelayMs, readBackoff } from '../../../src/identity/vault/backoff.ts';
import { createVault } from '../../../src/identity/vault/createVault.ts';
import { recoverVault } from '../../../src/identity/vault/recoverVault.ts';
import { unlockVault } from '../../../src/identity/vault/unlockVault.ts';
import { FAST, removeTempHomes, tempHome } from './helpers.ts';

afterAll(removeTempHomes);

/** A fake clock and sleep: sleeping advances the clock and records how long we were made to wait. */
function fakeTime() {
  let t = 1_000_000;
  const waits: number[] = [];
  return {
    waits,
    now: () => t,
    sleep: async (ms: number) => {
      waits.push(ms);
      t += ms;
    },
  };
}

describe('advisory back-off', () => {
  it('the schedule: three free attempts, then doubling from 1 s, capped at 5 minutes', () => {
    expect([0, 1, 2, 3, 4, 5, 6].map(backoffDelayMs)).toEqual([0, 0, 0, 1000, 2000, 4000, 8000]);
    expect(backoffDelayMs(100)).toBe(5 * 60_000);
  });

  it('eve\'s fourth and later guesses wait, and alice\'s correct password clears the counter', async () => {
    const home = tempHome();
    await createVault(home, 'alice', FAST);
    const time = fakeTime();
    const opts = { ...FAST, now: time.now, sleep: time.sleep };
    for (let i = 0; i < 5; i++) expect((await unlockVault(home, `eve-${i}`, opts)).ok).toBe(false);
    expect(time.waits).toEqual([1000, 2000]);
    expect(readBackoff(home).failures).toBe(5);
    expect((await unlockVault(home, 'alice', opts)).ok).toBe(true); // waits 4 s first, then succeeds
    expect(time.waits).toEqual([1000, 2000, 4000]);
    expect(existsSync(join(home, BACKOFF_FILE))).toBe(false);
  });

  it('time already passed since the last failure counts towards the wait', async () => {
    const home = tempHome();
    await createVault(home, 'alice', FAST);
    const time = fakeTime();
    const opts = { ...FAST, now: time.now, sleep: time.sleep };
    for (let i = 0; i < 3; i++) await unlockVault(home, 'eve', opts);
    await time.sleep(600); // eve waits 0.6 s by herself
    time.waits.length = 0;
    await unlockVault(home, 'eve', opts);
    expect(time.waits).toEqual([400]);
  });

  it('wrong recovery keys count too', async () => {
    const home = tempHome();
    await createVault(home, 'alice', FAST);
    const other = await createVault(tempHome(), 'x', FAST);
    await recoverVault(home, other.recoveryKey, 'eve', FAST);
    expect(readBackoff(home).failures).toBe(1);
  });

  it('a damaged counter file counts as no failures rather than locking alice out', async () => {
    const home = tempHome();
    await createVault(home, 'alice', FAST);
    writeFileSync(join(home, BACKOFF_FILE), 'not json');
    expect(readBackoff(home)).toEqual({ failures: 0, lastFailureAt: 0 });
    expect((await unlockVault(home, 'alice', FAST)).ok).toBe(true);
  });
});
