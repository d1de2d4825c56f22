// The idle-lock setting as stored in localStorage (seconds, 0 = never): what a person or a test writes
// there is read back, and anything unreadable falls back to the safe default rather than to "never".
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULT_IDLE_LOCK_SECONDS, IDLE_LOCK_KEY, readIdleLockSeconds } from '../../src/app/useIdleLock.ts';

function storageWith(value: string | null) {
  vi.stubGlobal('localStorage', { getItem: (k: string) => (k === IDLE_LOCK_KEY ? value : null) });
}

afterEach(() => vi.unstubAllGlobals());

describe('idle-lock setting', () => {
  it('is 15 minutes when nothing was chosen', () => {
    storageWith(null);
    expect(readIdleLockSeconds()).toBe(15 * 60);
    expect(DEFAULT_IDLE_LOCK_SECONDS).toBe(15 * 60);
  });

  it('reads a chosen time in seconds, "0" as never, and a test-sized few seconds as is', () => {
    for (const [raw, seconds] of [['300', 300], ['3600', 3600], ['0', 0], ['2', 2]] as const) {
      storageWith(raw);
      expect(readIdleLockSeconds(), raw).toBe(seconds);
    }
  });

  it('falls back to the default, never to "never", for garbage, a negative time or blocked storage', () => {
    for (const raw of ['', 'soon', '-5', 'NaN', 'Infinity']) {
      storageWith(raw);
      expect(readIdleLockSeconds(), raw).toBe(DEFAULT_IDLE_LOCK_SECONDS);
    }
    vi.stubGlobal('localStorage', { getItem: () => { throw new Error('SecurityError'); } });
    expect(readIdleLockSeconds()).toBe(DEFAULT_IDLE_LOCK_SECONDS);
  });
});
