// Seed-exact runs (docs/SIM.md → Seeds): while a simulation runs, every randomBytes call (vault salts
// and data keys, device and epoch keys, AEAD nonces, session nonces and so Automerge actor ids,
// document ids, relay challenges and lease ids) draws from a ChaCha20 keystream keyed by the seed, so
// the same command gives the same keys, documents and report. One stream per process or worker
// thread: runs in one thread are sequential.
import { chacha20 } from '@noble/ciphers/chacha.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { replaceRandomSourceForSimulation, utf8 } from '../../crypto/bytes.ts';

const BLOCK = 64 * 1024;

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
