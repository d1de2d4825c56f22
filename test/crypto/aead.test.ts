// Stories for seal/open: key commitment, tamper evidence, truncation, domain and AD binding, nonce freshness.
import { describe, expect, it } from 'vitest';
import {
  COMMITMENT_BYTES,
  NONCE_BYTES,
  TAG_BYTES,
  decodeSealed,
  encodeSealed,
  open,
  openBytes,
  rawXChaCha20Poly1305,
  seal,
  sealBytes,
} from '../../src/crypto/aead.ts';
import { concat, ByteWriter, randomBytes, toHex, utf8 } from '../../src/crypto/bytes.ts';
import { DOMAIN } from '../../src/crypto/domains.ts';
import { hmacSha256 } from '../../src/crypto/sha256.ts';
import { asKey, type AeadKey } from '../../src/crypto/keys.ts';

const newKey = () => asKey<AeadKey>(randomBytes(32));
const alicesSecret = utf8('alice: the meeting moved to Thursday');

describe('seal and open', () => {
  it('alice seals and opens her own message', () => {
    const key = newKey();
    const opened = openBytes(key, sealBytes(key, alicesSecret, DOMAIN.storage, utf8('doc-1')), DOMAIN.storage, utf8('doc-1'));
    expect(opened).toEqual({ ok: true, value: alicesSecret });
  });

  it('an empty plaintext seals to exactly header + tag and opens to empty', () => {
    const key = newKey();
    const bytes = sealBytes(key, new Uint8Array(), DOMAIN.storage);
    expect(bytes.length).toBe(1 + NONCE_BYTES + COMMITMENT_BYTES + TAG_BYTES);
    expect(openBytes(key, bytes, DOMAIN.storage)).toEqual({ ok: true, value: new Uint8Array() });
  });

  it('a ciphertext cannot be opened under a second key: the commitment refuses it as aead_wrong_key', () => {
    const alice = newKey();
    const eve = newKey();
    const bytes = sealBytes(alice, alicesSecret, DOMAIN.storage);
    expect(openBytes(eve, bytes, DOMAIN.storage)).toEqual({ ok: false, reason: 'aead_wrong_key' });
  });

  it('the commitment is HMAC(key, domain ‖ nonce): eve holding a second key can pass it, but then Poly1305 refuses', () => {
    // Eve knows key b and computes b's honest commitment for alice's nonce. The commitment check passes,
    // so decryption is attempted under b and fails authentication: both layers must agree on the key.
    const a = newKey();
    const b = newKey();
    const sealedA = seal(a, alicesSecret, DOMAIN.storage);
    expect(open(b, sealedA, DOMAIN.storage)).toEqual({ ok: false, reason: 'aead_wrong_key' });
    const commitmentB = hmacSha256(b, concat(utf8(DOMAIN.commitment), sealedA.nonce));
    expect(open(b, { ...sealedA, commitment: commitmentB }, DOMAIN.storage)).toEqual({ ok: false, reason: 'aead_auth_failed' });
    // And alice's own commitment is exactly that construction under her key.
    expect(toHex(hmacSha256(a, concat(utf8(DOMAIN.commitment), sealedA.nonce)))).toBe(toHex(sealedA.commitment));
    // A commitment moved to another nonce is refused: it is bound to the nonce.
    const other = seal(a, alicesSecret, DOMAIN.storage);
    expect(open(a, { ...sealedA, commitment: other.commitment }, DOMAIN.storage)).toEqual({ ok: false, reason: 'aead_wrong_key' });
  });

  it('flipping any single bit of a sealed message is rejected', () => {
    const key = newKey();
    const bytes = sealBytes(key, utf8('short secret'), DOMAIN.vault, utf8('ad'));
    let rejected = 0;
    for (let i = 0; i < bytes.length; i++) {
      for (let bit = 0; bit < 8; bit++) {
        const tampered = bytes.slice();
        tampered[i]! ^= 1 << bit;
        const r = openBytes(key, tampered, DOMAIN.vault, utf8('ad'));
        expect(r.ok, `byte ${i} bit ${bit}`).toBe(false);
        if (!r.ok) expect(['aead_malformed', 'aead_wrong_key', 'aead_auth_failed']).toContain(r.reason);
        rejected++;
      }
    }
    expect(rejected).toBe(bytes.length * 8);
  });

  it('sealed bytes truncated at every length are rejected without throwing', () => {
    const key = newKey();
    const bytes = sealBytes(key, alicesSecret, DOMAIN.storage);
    for (let n = 0; n < bytes.length; n++) {
      const r = openBytes(key, bytes.subarray(0, n), DOMAIN.storage);
      expect(r.ok, `prefix of ${n} bytes`).toBe(false);
    }
    // and bytes appended to the end are refused too
    expect(openBytes(key, concat(bytes, Uint8Array.of(0)), DOMAIN.storage).ok).toBe(false);
  });

  it('decodeSealed refuses a wrong version byte and anything shorter than header + tag', () => {
    const key = newKey();
    const bytes = sealBytes(key, alicesSecret, DOMAIN.storage);
    const v2 = bytes.slice();
    v2[0] = 2;
    expect(decodeSealed(v2)).toEqual({ ok: false, reason: 'aead_malformed' });
    expect(decodeSealed(bytes.subarray(0, 1 + NONCE_BYTES + COMMITMENT_BYTES + TAG_BYTES - 1)).ok).toBe(false);
    const d = decodeSealed(bytes);
    expect(d.ok && toHex(encodeSealed(d.value))).toBe(toHex(bytes));
  });

  it('open() refuses structurally wrong Sealed objects as aead_malformed', () => {
    const key = newKey();
    const s = seal(key, alicesSecret, DOMAIN.storage);
    expect(open(key, { ...s, nonce: s.nonce.subarray(1) }, DOMAIN.storage)).toEqual({ ok: false, reason: 'aead_malformed' });
    expect(open(key, { ...s, commitment: s.commitment.subarray(1) }, DOMAIN.storage)).toEqual({ ok: false, reason: 'aead_malformed' });
    expect(open(key, { ...s, ciphertext: s.ciphertext.subarray(0, TAG_BYTES - 1) }, DOMAIN.storage)).toEqual({ ok: false, reason: 'aead_malformed' });
  });

  it('a message sealed for one domain fails to open in another (aead_auth_failed)', () => {
    const key = newKey();
    const bytes = sealBytes(key, alicesSecret, DOMAIN.vault);
    expect(openBytes(key, bytes, DOMAIN.storage)).toEqual({ ok: false, reason: 'aead_auth_failed' });
    expect(openBytes(key, bytes, DOMAIN.lockbox)).toEqual({ ok: false, reason: 'aead_auth_failed' });
  });

  it('associated data from another document fails, and so does a missing one', () => {
    const key = newKey();
    const bytes = sealBytes(key, alicesSecret, DOMAIN.storage, utf8('doc-1'));
    expect(openBytes(key, bytes, DOMAIN.storage, utf8('doc-2'))).toEqual({ ok: false, reason: 'aead_auth_failed' });
    expect(openBytes(key, bytes, DOMAIN.storage)).toEqual({ ok: false, reason: 'aead_auth_failed' });
  });

  it('domain and AD are length-prefixed: shifting bytes between them does not collide', () => {
    // Raw concatenation would make ("…/v1", "xy") and ("…/v1x", "y") equal; ours must not.
    const key = newKey();
    const bytes = sealBytes(key, alicesSecret, DOMAIN.storage, utf8('ab'));
    expect(openBytes(key, bytes, DOMAIN.storage, utf8('a')).ok).toBe(false);
    expect(openBytes(key, bytes, DOMAIN.storage, utf8('abc')).ok).toBe(false);
  });

  it('the AEAD layer really authenticates domain ‖ version ‖ AD, not a bare AD', () => {
    // Decrypting with noble directly under the bare AD fails: the domain prefix is in the MAC.
    const key = newKey();
    const s = seal(key, alicesSecret, DOMAIN.storage, utf8('doc-1'));
    expect(() => rawXChaCha20Poly1305(key, s.nonce, utf8('doc-1')).decrypt(s.ciphertext)).toThrow();
    const full = new ByteWriter().string(DOMAIN.storage).u8(1).bytes(utf8('doc-1')).finish();
    expect(rawXChaCha20Poly1305(key, s.nonce, full).decrypt(s.ciphertext)).toEqual(alicesSecret);
  });

  it('nonces never repeat across 20k seals under one key (a cheap stand-in for 100k)', () => {
    const key = newKey();
    const seen = new Set<string>();
    const msg = utf8('same');
    for (let i = 0; i < 20_000; i++) seen.add(toHex(seal(key, msg, DOMAIN.storage).nonce));
    expect(seen.size).toBe(20_000);
  });

  it('commitments differ per nonce, so equal plaintexts under one key are unlinkable by the header', () => {
    const key = newKey();
    const a = seal(key, alicesSecret, DOMAIN.storage);
    const b = seal(key, alicesSecret, DOMAIN.storage);
    expect(toHex(a.commitment)).not.toBe(toHex(b.commitment));
    expect(toHex(a.ciphertext)).not.toBe(toHex(b.ciphertext));
  });
});
