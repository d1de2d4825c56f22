// Crypto figures: vault unlock at the default Argon2id parameters, AEAD throughput, Ed25519 for the
// implementation in use and for noble side by side, and Argon2id WASM vs pure JS at one setting
// (the evidence behind DESIGN → Performance). Runs in about 10 s on a 2-core machine.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { argon2id as nobleArgon2id } from '@noble/hashes/argon2.js';
import { openBytes, sealBytes } from '../../crypto/aead.ts';
import { DEFAULT_KDF, deriveKek, type KdfParams } from '../../crypto/argon2.ts';
import { randomBytes } from '../../crypto/bytes.ts';
import { DOMAIN } from '../../crypto/domains.ts';
import { ED25519_IMPL, generateSigningKey, signRaw, verifyRaw } from '../../crypto/ed25519.ts';
import { asKey, type DataKey } from '../../crypto/keys.ts';
import { createVault } from '../../identity/vault/createVault.ts';
import { unlockVault } from '../../identity/vault/unlockVault.ts';
import { median, opsPerSecond, round, timeMs } from './measure.ts';
import type { BenchSuite, Figures } from './suite.ts';

const UNLOCK_RUNS = 5;
/** The setting DESIGN compares the two Argon2id implementations at. */
const ARGON_COMPARE: KdfParams = { alg: 'argon2id', m_kib: 64 * 1024, t: 3, p: 1 };

export const cryptoBench: BenchSuite = {
  name: 'crypto',
  description: 'vault unlock, AEAD, Ed25519, Argon2id (WASM vs JS)',
  async run(ctx): Promise<Figures> {
    const home = mkdtempSync(join(tmpdir(), 'cloister-bench-'));
    try {
      ctx.log(`  vault unlock x${UNLOCK_RUNS} at m=${DEFAULT_KDF.m_kib} KiB, t=${DEFAULT_KDF.t}, p=${DEFAULT_KDF.p}`);
      await createVault(home, 'bench password', { kdf: DEFAULT_KDF });
      const unlocks: number[] = [];
      for (let i = 0; i < UNLOCK_RUNS; i++) {
        unlocks.push(await timeMs(async () => {
          const r = await unlockVault(home, 'bench password', { kdf: DEFAULT_KDF });
          if (!r.ok) throw new Error(`bench vault did not unlock: ${r.reason}`);
        }));
      }

      ctx.log('  AEAD (XChaCha20-Poly1305 + key commitment)');
      const key = asKey<DataKey>(randomBytes(32));
      const m100 = randomBytes(100);
      const m1k = randomBytes(1024);
      const sealed100 = sealBytes(key, m100, DOMAIN.storage);
      const aead = {
        aead_seal_ops_per_s_100b: opsPerSecond(() => sealBytes(key, m100, DOMAIN.storage)),
        aead_open_ops_per_s_100b: opsPerSecond(() => {
          if (!openBytes(key, sealed100, DOMAIN.storage).ok) throw new Error('open failed');
        }),
        aead_seal_ops_per_s_1k: opsPerSecond(() => sealBytes(key, m1k, DOMAIN.storage)),
      };

      ctx.log(`  Ed25519 (${ED25519_IMPL} and noble)`);
      const { secretKey, publicKey } = generateSigningKey();
      const msg = randomBytes(256);
      const sig = signRaw(secretKey, msg);
      const verifyWith = (impl: 'node' | 'noble') => () => {
        if (!verifyRaw(publicKey, msg, sig, impl)) throw new Error('verify failed');
      };
      const ed = {
        ed25519_impl: ED25519_IMPL,
        ed25519_sign_ops_per_s: opsPerSecond(() => signRaw(secretKey, msg, ED25519_IMPL)),
        ed25519_verify_ops_per_s: opsPerSecond(verifyWith(ED25519_IMPL)),
        ed25519_noble_sign_ops_per_s: opsPerSecond(() => signRaw(secretKey, msg, 'noble')),
        ed25519_noble_verify_ops_per_s: opsPerSecond(verifyWith('noble')),
      };

      ctx.log(`  Argon2id WASM vs pure JS at m=${ARGON_COMPARE.m_kib} KiB, t=${ARGON_COMPARE.t}`);
      const salt = randomBytes(16);
      const wasm: number[] = [];
      for (let i = 0; i < 3; i++) wasm.push(await timeMs(() => deriveKek('bench password', salt, ARGON_COMPARE)));
      const noble = await timeMs(() =>
        nobleArgon2id('bench password', salt, { m: ARGON_COMPARE.m_kib, t: ARGON_COMPARE.t, p: ARGON_COMPARE.p, dkLen: 32 }),
      );

      return {
        unlock_ms: round(median(unlocks)),
        unlock_ms_runs: unlocks.map((x) => round(x)),
        argon2id: { m_kib: DEFAULT_KDF.m_kib, t: DEFAULT_KDF.t, p: DEFAULT_KDF.p },
        ...aead,
        ...ed,
        argon2id_compare: { m_kib: ARGON_COMPARE.m_kib, t: ARGON_COMPARE.t, p: ARGON_COMPARE.p },
        argon2id_wasm_ms: round(median(wasm)),
        argon2id_noble_ms: round(noble),
      };
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  },
};
