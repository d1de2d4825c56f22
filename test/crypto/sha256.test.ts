// The native and noble paths of SHA-256, HMAC-SHA256, HKDF and Ed25519 public-key derivation give
// the same bytes: Node uses native, the browser noble, and stored names, commitments, ids and keys
// must match across them.
import { describe, expect, it } from 'vitest';
import { hkdf } from '@noble/hashes/hkdf.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { ed25519 } from '@noble/curves/ed25519.js';
import { fromHex, toHex, utf8 } from '../../src/crypto/bytes.ts';
import { INFO } from '../../src/crypto/domains.ts';
import { publicKeyOf } from '../../src/crypto/ed25519.ts';
import { deriveSubkey } from '../../src/crypto/hkdf.ts';
import { hmacSha256, sha256 } from '../../src/crypto/sha256.ts';
import { seededStream } from '../../src/cli/sim/seededRandom.ts';
import type { StorageNameKey } from '../../src/crypto/keys.ts';
import { hashStorageKey } from '../../src/docs/storage/storageNames.ts';

describe('native and noble hashing agree', () => {
  it('SHA-256 matches FIPS 180-4 examples on both paths', () => {
    for (const impl of ['node', 'noble'] as const) {
      expect(toHex(sha256(utf8('abc'), impl))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
      expect(toHex(sha256(new Uint8Array(0), impl))).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    }
  });

  it('HMAC-SHA256 matches RFC 4231 test case 2 on both paths', () => {
    for (const impl of ['node', 'noble'] as const)
      expect(toHex(hmacSha256(utf8('Jefe'), utf8('what do ya want for nothing?'), impl))).toBe('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  });

  it('every length from 0 to 300 bytes, keys short and long, gives the same hash and HMAC', () => {
    const seed = 1301;
    const bytes = seededStream(seed, 'sha256-differential');
    for (let len = 0; len <= 300; len++) {
      const msg = bytes(len);
      const key = bytes((len * 7) % 130);
      expect(toHex(sha256(msg, 'node')), `seed ${seed}, length ${len}`).toBe(toHex(nobleSha256(msg)));
      expect(toHex(hmacSha256(key, msg, 'node')), `seed ${seed}, length ${len}`).toBe(toHex(hmacSha256(key, msg, 'noble')));
    }
  });

  it('a key array that is wiped or reused is not answered from the imported-key cache', () => {
    const key = new Uint8Array(32).fill(9);
    const msg = utf8('stored name');
    const before = toHex(hmacSha256(key, msg));
    key.fill(0); // wiped, as a locked vault's keys are
    expect(toHex(hmacSha256(key, msg))).toBe(toHex(hmacSha256(key, msg, 'noble')));
    expect(toHex(hmacSha256(key, msg))).not.toBe(before);
  });

  it('storage names follow the name key, even when its array is wiped after use', () => {
    const nameKey = new Uint8Array(32).fill(5) as StorageNameKey;
    const key = ['doc-1', 'incremental', 'abc'];
    const first = hashStorageKey(nameKey, key);
    expect(hashStorageKey(nameKey, key)).toEqual(first); // the cached prefixes give the same names
    nameKey.fill(0);
    expect(hashStorageKey(nameKey, key)).toEqual(hashStorageKey(new Uint8Array(32) as StorageNameKey, key));
    expect(hashStorageKey(nameKey, key)[0]).not.toBe(first[0]);
  });

  it('a derived subkey is the RFC 5869 HKDF with no salt, whatever the context length', () => {
    const parent = fromHex('0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b')!;
    for (const contextLength of [0, 16, 1000, 2000]) {
      const context = new Uint8Array(contextLength).fill(7);
      const info = new Uint8Array([...utf8(INFO.documentKey), 0, ...context]);
      expect(toHex(deriveSubkey(parent, INFO.documentKey, context))).toBe(toHex(hkdf(nobleSha256, parent, undefined, info, 32)));
    }
  });

  it('an Ed25519 public key derived natively equals noble’s (RFC 8032 §7.1 test 1)', () => {
    const secret = fromHex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60')! as Parameters<typeof publicKeyOf>[0];
    expect(toHex(publicKeyOf(secret, 'node'))).toBe('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
    expect(toHex(publicKeyOf(secret, 'noble'))).toBe('d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
    for (let i = 0; i < 20; i++) {
      const s = ed25519.utils.randomSecretKey() as Parameters<typeof publicKeyOf>[0];
      expect(toHex(publicKeyOf(s, 'node'))).toBe(toHex(ed25519.getPublicKey(s)));
    }
  });
});
