// Small timing helpers shared by the benchmark suites.
/** Median of a non-empty list. */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Operations per second of `fn`, run for about `ms` after a short warm-up. */
export function opsPerSecond(fn: () => unknown, ms = 300): number {
  for (let i = 0; i < 20; i++) fn();
  let n = 0;
  const t0 = performance.now();
  let elapsed = 0;
  do {
    for (let i = 0; i < 16; i++) fn();
    n += 16;
    elapsed = performance.now() - t0;
  } while (elapsed < ms);
  return Math.round((n * 1000) / elapsed);
}

export async function timeMs(fn: () => Promise<unknown> | unknown): Promise<number> {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

export const round = (x: number, digits = 1): number => Math.round(x * 10 ** digits) / 10 ** digits;
