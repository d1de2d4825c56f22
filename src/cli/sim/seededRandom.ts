// Seed-exact runs (docs/SIM.md → Seeds): while a simulation runs, every randomBytes call (vault salts
// and data keys, device and epoch keys, AEAD nonces, session nonces and so Automerge actor ids,
// document ids) draws from a ChaCha20 keystream keyed by the seed, and nonces whose value never
// matters (randomNonce) from a second one, so the same command gives the same keys, documents and
// report. One pair of streams per process or worker thread: runs in one thread are sequential. The
// simulated clock's constants live here too: seeds and clocks together make a run exact.
import { chacha20 } from '@noble/ciphers/chacha.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { replaceRandomSourceForSimulation, utf8 } from '../../crypto/bytes.ts';

const BLOCK = 64 * 1024;

/**
 * The simulated clock's start (2030-01-01 UTC) and its step per op. Every clock in a run (the relay's,
 * each replica's, change timestamps) reads this clock, never the system's, so a run is the same on any
 * day; the expired-lease and clock-skew faults offset it.
 */
export const SIM_EPOCH_MS = Date.UTC(2030, 0, 1);
export const SIM_MS_PER_OP = 1000;

/** A deterministic byte stream: ChaCha20 under SHA-256("cloister-sim-random" ‖ seed), read in order. */
export function seededStream(seed: number, label = ''): (n: number) => Uint8Array {
  const key = sha256(utf8(`cloister-sim-random\u0000${seed >>> 0}\u0000${label}`));
  let counter = 0;
  let buf = new Uint8Array(0);
  let at = 0;
  const refill = () => {
    const nonce = new Uint8Array(12);
    new DataView(nonce.buffer).setUint32(0, counter++, true);
    buf = chacha20(key, nonce, new Uint8Array(BLOCK));
    at = 0;
  };
  return (n: number) => {
    const out = new Uint8Array(n);
    let off = 0;
    while (off < n) {
      if (at >= buf.length) refill();
      const take = Math.min(n - off, buf.length - at);
      out.set(buf.subarray(at, at + take), off);
      at += take;
      off += take;
    }
    return out;
  };
}

/** Run `fn` with randomBytes seeded; the system CSPRNG comes back afterwards, even on a throw. */
export async function withSeededRandom<T>(seed: number, fn: () => Promise<T>): Promise<T> {
  const restore = replaceRandomSourceForSimulation(seededStream(seed), seededStream(seed, 'nonces'));
  try {
    return await fn();
  } finally {
    restore();
  }
}

/**
 * The relay's wall-clock budgets (per-device token buckets, the scheduler's time slices) would make a
 * run depend on the machine's speed and load; a simulation sets them out of reach. Abuse limits are
 * tested elsewhere (test/relay/abuse.test.ts); here they are not the subject.
 */
export const SIM_RELAY_LIMITS = {
  pullBurst: 1e9,
  pullPerSecond: 1e9,
  logReadBurst: 1e9,
  logReadPerSecond: 1e9,
  logAppendBurst: 1e9,
  logAppendPerSecond: 1e9,
  preAuthBurst: 1e9,
  preAuthPerSecond: 1e9,
  schedulerSliceMs: 1e9,
} as const;
