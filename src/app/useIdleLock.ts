// Idle auto-lock: lock the vault after a set time with no pointer or keyboard activity in ANY tab of the
// app (tabs tell each other of activity over a BroadcastChannel), so keys don't sit in memory on an
// unattended screen. The idle time is a setting in localStorage (not secret), shared by the tabs.
import { useEffect, useRef, useSyncExternalStore } from 'react';

/** localStorage key: the idle time in seconds; "0" means never. Tests set a few seconds here. */
export const IDLE_LOCK_KEY = 'cloister.idleLockSeconds';
export const DEFAULT_IDLE_LOCK_SECONDS = 15 * 60;
/** The choices Settings offers, in seconds (0 = never). */
export const IDLE_LOCK_CHOICES = [5 * 60, 15 * 60, 30 * 60, 60 * 60, 0] as const;

const CHANGED = 'cloister:idle-lock-setting'; // same-tab notice; other tabs get the 'storage' event
const CHANNEL = 'cloister-activity';
const ACTIVITY_EVENTS = ['pointerdown', 'pointermove', 'keydown', 'wheel', 'touchstart'] as const;

/** The idle time in seconds (0 = never), from localStorage; the default when unset or unreadable. */
export function readIdleLockSeconds(): number {
  let raw: string | null = null;
  try {
    raw = localStorage.getItem(IDLE_LOCK_KEY);
  } catch {
    return DEFAULT_IDLE_LOCK_SECONDS; // storage blocked: keep the safe default
  }
  if (raw === null || raw.trim() === '') return DEFAULT_IDLE_LOCK_SECONDS;
  const n = Number(raw);
  return Number.isFinite(n) && n >= 0 ? n : DEFAULT_IDLE_LOCK_SECONDS;
}

/** Store the idle time (seconds, 0 = never) for every tab of the app. */
export function writeIdleLockSeconds(seconds: number): void {
  localStorage.setItem(IDLE_LOCK_KEY, String(seconds));
  window.dispatchEvent(new Event(CHANGED));
}

function subscribe(onChange: () => void): () => void {
  const onStorage = (e: StorageEvent) => {
    if (e.key === IDLE_LOCK_KEY || e.key === null) onChange();
  };
  window.addEventListener('storage', onStorage);
  window.addEventListener(CHANGED, onChange);
  return () => {
    window.removeEventListener('storage', onStorage);
    window.removeEventListener(CHANGED, onChange);
  };
}

/** The idle time in seconds (0 = never), following changes made in this tab or another. */
export function useIdleLockSeconds(): number {
  return useSyncExternalStore(subscribe, readIdleLockSeconds, () => DEFAULT_IDLE_LOCK_SECONDS);
}

// Activity is tracked from the first use of the hook in a tab, locked or not: typing a password in a
// locked tab is activity too, and every tab tells the others (at most about once a second).
let lastActivityAt = 0;
let tracking = false;

function trackActivity(): void {
  if (tracking || typeof window === 'undefined') return;
  tracking = true;
  const channel = typeof BroadcastChannel === 'function' ? new BroadcastChannel(CHANNEL) : undefined;
  let lastSent = 0;
  const onActivity = () => {
    const now = Date.now();
    lastActivityAt = now;
    if (now - lastSent >= 1000) {
      lastSent = now;
      channel?.postMessage({ activeAt: now });
    }
  };
  for (const ev of ACTIVITY_EVENTS) window.addEventListener(ev, onActivity, { capture: true, passive: true });
  channel?.addEventListener('message', (e: MessageEvent<unknown>) => {
    const at = (e.data as { activeAt?: unknown } | null)?.activeAt;
    if (typeof at === 'number') lastActivityAt = Math.max(lastActivityAt, Math.min(at, Date.now()));
  });
}

/**
 * Call `lock` once nobody has touched any tab of the app for `seconds` (0 or null: never), counting
 * from the later of the last activity and the moment locking became possible (the unlock). A changed
 * setting applies at once (a time shorter than the idle time so far locks now). Browsers throttle
 * hidden tabs' timers, so a background tab is checked again as soon as it is shown.
 */
export function useIdleLock(lock: () => void, seconds: number | null): void {
  const lockRef = useRef(lock);
  lockRef.current = lock;
  const enabledAt = useRef(0);
  const enabled = seconds !== null && seconds > 0;

  useEffect(trackActivity, []);

  useEffect(() => {
    if (enabled) enabledAt.current = Date.now();
  }, [enabled]);

  useEffect(() => {
    if (!enabled) return;
    const ms = seconds * 1000;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let done = false;
    const check = () => {
      if (done) return;
      clearTimeout(timer);
      const idle = Date.now() - Math.max(lastActivityAt, enabledAt.current);
      if (idle >= ms) {
        done = true;
        lockRef.current();
      } else {
        // Wake when the time would be up; activity meanwhile only moves the deadline, checked then.
        timer = setTimeout(check, Math.min(ms - idle + 25, 60_000));
      }
    };
    const onVisible = () => {
      if (document.visibilityState === 'visible') check();
    };
    document.addEventListener('visibilitychange', onVisible);
    check();
    return () => {
      done = true;
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', onVisible);
    };
  }, [enabled, seconds]);
}
