// Stories for the password KDF: normalisation, parameter validation before any allocation, the OWASP
// floor, and agreement of the hash-wasm build with an independent Argon2id (noble). Uses MIN_KDF only.
import { argon2id as nobleArgon2id } from '@noble/hashes/argon2.js';
import { describe, expect, it, vi } from 'vitest';
import { toHex, utf8 } from '../../src/crypto/bytes.ts';
import {
  DEFAULT_KDF,
  MAX_KDF,
  MIN_KDF,
  SALT_BYTES,
  deriveKek,
  kdfNeedsUpgrade,
  normalizePassword,
  validateKdfParams,
  type KdfParams,
} from '../../src/crypto/argon2.ts';

// Count calls into hash-wasm's Argon2id, to prove refused parameters never reach the allocator.
const argonCalls = vi.hoisted(() => ({ n: 0 }));
vi.mock('hash-wasm', async (importOriginal) => {
  const real = await importOriginal<typeof import('hash-wasm')>();
  return {
    ...real,
    argon2id: (...args: Parameters<typeof real.argon2id>) => {
      argonCalls.n++;
      return real.argon2id(...args);
    },
  };
});

const salt = Uint8Array.from({ length: SALT_BYTES }, (_, i) => i);

describe('Argon2id key derivation', () => {
  it('passwords are NFKC-normalised: the ﬁ ligature and "fi" derive the same key', async () => {
    expect(normalizePassword('ﬁsh')).toBe('fish');
    const a = await deriveKek('ﬁsh and chips', salt, MIN_KDF);
    const b = await deriveKek('fish and chips', salt, MIN_KDF);
    expect(toHex(a)).toBe(toHex(b));
  });

  it('composed and decomposed accents (é vs e + ◌́) derive the same key; a different password does not', async () => {
    const composed = await deriveKek('caf\u00e9', salt, MIN_KDF);
    const decomposed = await deriveKek('cafe\u0301', salt, MIN_KDF);
    const other = await deriveKek('cafe', salt, MIN_KDF);
    expect(toHex(composed)).toBe(toHex(decomposed));
    expect(toHex(other)).not.toBe(toHex(composed));
  });

  it('the same password under another salt gives another key', async () => {
    const salt2 = salt.slice();
    salt2[0] = 0xff;
    expect(toHex(await deriveKek('pw', salt, MIN_KDF))).not.toBe(toHex(await deriveKek('pw', salt2, MIN_KDF)));
  });

  it('the hash-wasm Argon2id matches an independent implementation (noble) on the normalised password', async () => {
    const kek = await deriveKek('ﬁ correct horse', salt, MIN_KDF);
    const ref = nobleArgon2id(utf8('fi correct horse'), salt, { t: MIN_KDF.t, m: MIN_KDF.m_kib, p: MIN_KDF.p, dkLen: 32 });
    expect(toHex(kek)).toBe(toHex(ref));
  });

  it('a salt shorter than 16 bytes is refused', async () => {
    await expect(deriveKek('pw', salt.subarray(0, SALT_BYTES - 1), MIN_KDF)).rejects.toThrow(RangeError);
  });

  it('absurd KDF parameters are refused before allocation', async () => {
    const absurd: unknown[] = [
      { alg: 'argon2id', m_kib: 2 ** 40, t: 3, p: 1 },
      { alg: 'argon2id', m_kib: MIN_KDF.m_kib, t: 0, p: 1 },
      { alg: 'argon2id', m_kib: MIN_KDF.m_kib, t: 2, p: 0 },
      { alg: 'argon2id', m_kib: '19456', t: 2, p: 1 },
      { alg: 'argon2id', m_kib: MIN_KDF.m_kib, t: '2', p: 1 },
      { alg: 'argon2id', m_kib: Number.NaN, t: 2, p: 1 },
      { alg: 'argon2id', m_kib: Number.POSITIVE_INFINITY, t: 2, p: 1 },
      { alg: 'argon2id', m_kib: MIN_KDF.m_kib + 0.5, t: 2, p: 1 },
      { alg: 'argon2id', m_kib: MIN_KDF.m_kib, t: 2 ** 31, p: 1 },
      { alg: 'argon2id', m_kib: MIN_KDF.m_kib, t: 2, p: 1000 },
      { alg: 'argon2id', m_kib: MIN_KDF.m_kib, t: -2, p: 1 },
      { m_kib: MIN_KDF.m_kib, t: 2, p: 1 }, // missing alg
      { alg: 'argon2i', m_kib: MIN_KDF.m_kib, t: 2, p: 1 },
      { alg: 'argon2id', t: 2, p: 1 }, // missing m
      { alg: 'argon2id', m_kib: MAX_KDF.m_kib + 1, t: 2, p: 1 },
      { alg: 'argon2id', m_kib: MIN_KDF.m_kib, t: MAX_KDF.t + 1, p: 1 },
      { alg: 'argon2id', m_kib: MIN_KDF.m_kib, t: 2, p: MAX_KDF.p + 1 },
      null,
      undefined,
      'argon2id',
      42,
      [],
    ];
    for (const params of absurd) {
      const r = validateKdfParams(params);
      expect(r.ok, JSON.stringify(params)).toBe(false);
      if (!r.ok) expect(r.reason).toBe('kdf_params_invalid');
      const before = argonCalls.n;
      await expect(deriveKek('pw', salt, params as KdfParams)).rejects.toThrow(RangeError);
      expect(argonCalls.n, `argon2id ran for ${JSON.stringify(params)}`).toBe(before); // refused up front
    }
    // the counter does see real derivations
    const before = argonCalls.n;
    await deriveKek('pw', salt, MIN_KDF);
    expect(argonCalls.n).toBe(before + 1);
  });

  it('parameters below the OWASP minimum (m=19 MiB, t=2, p=1) are refused; the minimum itself and the maxima are accepted', () => {
    const below: KdfParams[] = [
      { alg: 'argon2id', m_kib: MIN_KDF.m_kib - 1, t: 2, p: 1 },
      { alg: 'argon2id', m_kib: 8 * 1024, t: 3, p: 1 },
      { alg: 'argon2id', m_kib: MIN_KDF.m_kib, t: 1, p: 1 },
    ];
    for (const p of below) expect(validateKdfParams(p).ok, JSON.stringify(p)).toBe(false);
    expect(validateKdfParams(MIN_KDF)).toEqual({ ok: true, value: MIN_KDF });
    expect(validateKdfParams(DEFAULT_KDF)).toEqual({ ok: true, value: DEFAULT_KDF });
    expect(validateKdfParams({ alg: 'argon2id', ...MAX_KDF }).ok).toBe(true);
    // extra fields are dropped, not carried along
    expect(validateKdfParams({ ...MIN_KDF, evil: 1 })).toEqual({ ok: true, value: MIN_KDF });
  });

  it('weaker-than-default parameters ask for an upgrade; the default does not', () => {
    expect(kdfNeedsUpgrade(MIN_KDF)).toBe(true);
    expect(kdfNeedsUpgrade({ ...DEFAULT_KDF, t: DEFAULT_KDF.t - 1 })).toBe(true);
    expect(kdfNeedsUpgrade(DEFAULT_KDF)).toBe(false);
    expect(kdfNeedsUpgrade({ ...DEFAULT_KDF, m_kib: DEFAULT_KDF.m_kib * 2 })).toBe(false);
  });
});
