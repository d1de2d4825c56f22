// The vault file is parsed strictly: eve's truncations, bit flips and hostile headers each give one
// clear line with a stable reason code, never a crash, and never an unlock.
import { readFileSync, writeFileSync } from 'node:fs';
import { sha256 } from '@noble/hashes/sha2.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveKek } from '../../../src/crypto/argon2.ts';
import { concat } from '../../../src/crypto/bytes.ts';
import { DOMAIN } from '../../../src/crypto/domains.ts';
import { createVault } from '../../../src/identity/vault/createVault.ts';
import { unwrap } from '../../../src/identity/vault/secrets.ts';
import { describeVaultFailure, VAULT_FAILURE_TEXT } from '../../../src/identity/vault/types.ts';
import { unlockVault } from '../../../src/identity/vault/unlockVault.ts';
import { decodeVaultFile, encodeHeader, VAULT_MAGIC, type VaultFile } from '../../../src/identity/vault/vaultFile.ts';
import { vaultPath } from '../../../src/identity/vault/store.ts';
import { FAST, removeTempHomes, tempHome } from './helpers.ts';

const PASSWORD = 'pw-for-the-fuzzer';
let original: Uint8Array;
let parsed: VaultFile;

beforeAll(async () => {
  const home = tempHome();
  await createVault(home, PASSWORD, FAST);
  original = new Uint8Array(readFileSync(vaultPath(home)));
  const d = decodeVaultFile(original);
  if (!d.ok) throw new Error('fixture vault does not decode');
  parsed = d.value;
});
afterAll(removeTempHomes);

/** Replace the trailing checksum, as an attacker who edits the file on purpose would. */
function withFreshChecksum(bytes: Uint8Array): Uint8Array {
  const body = bytes.subarray(0, bytes.length - 32);
  return concat(body, sha256(body));
}

function expectOneLineFailure(r: { ok: boolean; reason?: string; detail?: string }, allowed: string[]): void {
  expect(r.ok).toBe(false);
  if (r.ok) return;
  expect(allowed).toContain(r.reason);
  const line = describeVaultFailure(r as Parameters<typeof describeVaultFailure>[0]);
  expect(line).not.toMatch(/\n/);
  expect(line.length).toBeGreaterThan(0);
}

describe('vault file parsing', () => {
  it('a vault truncated at every byte offset is refused as vault_malformed, through unlockVault', async () => {
    const home = tempHome();
    for (let n = 0; n < original.length; n++) {
      writeFileSync(vaultPath(home), original.subarray(0, n));
      const r = await unlockVault(home, PASSWORD, FAST);
      expectOneLineFailure(r, ['vault_malformed']);
    }
  });

  it('a vault with any single bit flipped is refused with a stable reason, through unlockVault', async () => {
    const home = tempHome();
    const seen = new Set<string>();
    for (let bit = 0; bit < original.length * 8; bit++) {
      const bad = original.slice();
      bad[bit >> 3]! ^= 1 << (bit & 7);
      writeFileSync(vaultPath(home), bad);
      const r = await unlockVault(home, PASSWORD, FAST);
      expectOneLineFailure(r, ['vault_malformed', 'vault_version_unsupported']);
      if (!r.ok) seen.add(r.reason);
    }
    expect(seen.has('vault_malformed')).toBe(true);
    expect(seen.has('vault_version_unsupported')).toBe(true); // the version byte
  });

  it('a vault with trailing bytes appended is refused', () => {
    expect(decodeVaultFile(concat(original, Uint8Array.of(0)))).toMatchObject({ ok: false, reason: 'vault_malformed' });
  });

  it('the header is associated data: with the right KEK, flipping any header bit fails authentication', async () => {
    const kek = await deriveKek(PASSWORD, parsed.header.salt, parsed.header.kdf);
    expect(unwrap(kek, parsed.passwordWrap, DOMAIN.vault, parsed.headerBytes).ok).toBe(true);
    for (let bit = 0; bit < parsed.headerBytes.length * 8; bit++) {
      const header = parsed.headerBytes.slice();
      header[bit >> 3]! ^= 1 << (bit & 7);
      const r = unwrap(kek, parsed.passwordWrap, DOMAIN.vault, header);
      expect(r.ok, `header bit ${bit}`).toBe(false);
    }
  });

  it('every bit of the password wrap is covered by the AEAD (checksum fixed up)', async () => {
    const kek = await deriveKek(PASSWORD, parsed.header.salt, parsed.header.kdf);
    for (let bit = 0; bit < parsed.passwordWrap.length * 8; bit++) {
      const wrap = parsed.passwordWrap.slice();
      wrap[bit >> 3]! ^= 1 << (bit & 7);
      const r = unwrap(kek, wrap, DOMAIN.vault, parsed.headerBytes);
      expect(r.ok, `wrap bit ${bit}`).toBe(false);
    }
  });

  it('eve edits the header on purpose and fixes the checksum: the correct password still never unlocks it', async () => {
    const home = tempHome();
    const userIdAt = VAULT_MAGIC.length + 1 + 4; // first character of the user id
    const saltAt = parsed.headerBytes.length - 1; // last byte of the salt
    const tAt = VAULT_MAGIC.length + 1 + 4 + parsed.header.userId.length + 1 + 4 + 3; // low byte of t
    const cases: [number, number, string][] = [
      // Swap the first user-id character for another valid one ('A', or 'B' if it already is 'A'): the
      // user id is random, so a fixed bit mask could make it invalid (malformed) instead of tampered.
      [userIdAt, original[userIdAt]! ^ (original[userIdAt] === 0x41 ? 0x42 : 0x41), 'vault_tampered'],
      [saltAt, 1, 'wrong_password'], // different salt → different KEK
      [tAt, 1, 'wrong_password'], // t=2 → t=3: still valid parameters, different KEK
    ];
    for (const [at, mask, want] of cases) {
      const bad = original.slice();
      bad[at]! ^= mask;
      writeFileSync(vaultPath(home), withFreshChecksum(bad));
      const r = await unlockVault(home, PASSWORD, FAST);
      expect(r.ok === false && r.reason, `offset ${at}`).toBe(want);
    }
  });

  it('a header asking for absurd Argon2id memory or passes is refused before any allocation', async () => {
    const home = tempHome();
    for (const kdf of [
      { m_kib: 0xffffffff, t: 3, p: 1 }, // 4 TiB
      { m_kib: 2 ** 30, t: 3, p: 1 }, // 1 TiB (m = 2^40 bytes)
      { m_kib: 64 * 1024, t: 0xffffffff, p: 1 },
      { m_kib: 64 * 1024, t: 3, p: 0 },
      { m_kib: 1, t: 3, p: 1 }, // below the floor: refused too
    ]) {
      const header = encodeHeader({ ...parsed.header, kdf: { alg: 'argon2id', ...kdf } });
      const body = concat(header, original.subarray(parsed.headerBytes.length, original.length - 32));
      writeFileSync(vaultPath(home), concat(body, sha256(body)));
      // No timing assertion (benchmarks measure time); memory is the proof nothing was allocated, and
      // test/crypto/argon2.test.ts shows hash-wasm is never called for such parameters.
      const rss = process.memoryUsage().rss;
      const r = await unlockVault(home, PASSWORD, FAST);
      expect(process.memoryUsage().rss - rss).toBeLessThan(16 * 1024 * 1024);
      expect(r.ok === false && r.reason).toBe('kdf_params_invalid');
    }
  });

  it('a file that is not a vault at all is named as such', () => {
    const r = decodeVaultFile(new TextEncoder().encode('{"hello": "world"} and some more bytes'));
    expect(r).toEqual({ ok: false, reason: 'vault_malformed', detail: 'not a Cloister vault file' });
  });

  it('every reason code has words, and "wrong password" says nothing more', () => {
    expect(VAULT_FAILURE_TEXT.wrong_password).toBe('wrong password');
    expect(describeVaultFailure({ reason: 'wrong_password' })).toBe('wrong password');
  });
});
