// The recovery key as a person copies it: 56 Crockford base32 characters in groups of 4, forgiving
// of case and look-alike letters, and a typo is caught rather than taken for a wrong key.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { asKey, type RecoveryKey } from '../../../src/crypto/keys.ts';
import { formatRecoveryKey, parseRecoveryKey } from '../../../src/identity/vault/recoveryKey.ts';

const SEED = 20261127;
const key = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => asKey<RecoveryKey>(b));

describe('recovery key text', () => {
  it('round-trips every key, in upper or lower case, with or without dashes', () => {
    fc.assert(
      fc.property(key, (k) => {
        const text = formatRecoveryKey(k);
        expect(text).toMatch(/^([0-9A-HJKMNP-TV-Z]{4}-){13}[0-9A-HJKMNP-TV-Z]{4}$/);
        for (const variant of [text, text.toLowerCase(), text.replace(/-/g, ''), text.replace(/-/g, ' ')]) {
          const p = parseRecoveryKey(variant);
          expect(p.ok && Buffer.from(p.value).equals(Buffer.from(k))).toBe(true);
        }
      }),
      { seed: SEED, numRuns: 200 },
    );
  });

  it('accepts the look-alikes Crockford allows: O for 0, I and L for 1', () => {
    const k = asKey<RecoveryKey>(new Uint8Array(32));
    const text = formatRecoveryKey(k); // all zeros → mostly "0"
    const p = parseRecoveryKey(text.replace(/0/g, 'O'));
    expect(p.ok).toBe(true);
  });

  it('a single changed character is caught as a typo (malformed), not taken for another key', () => {
    fc.assert(
      fc.property(key, fc.nat(55), fc.nat(31), (k, pos, sym) => {
        const chars = formatRecoveryKey(k).replace(/-/g, '').split('');
        const alphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
        const replacement = alphabet[sym]!;
        fc.pre(replacement !== chars[pos]);
        chars[pos] = replacement;
        const p = parseRecoveryKey(chars.join(''));
        expect(p.ok).toBe(false);
      }),
      { seed: SEED, numRuns: 500 },
    );
  });

  it('wrong length and foreign characters are refused with a reason', () => {
    expect(parseRecoveryKey('ABCD-EFGH')).toMatchObject({ ok: false, reason: 'recovery_key_malformed' });
    const text = formatRecoveryKey(asKey<RecoveryKey>(new Uint8Array(32).fill(7)));
    expect(parseRecoveryKey(text.replace(/.$/, 'U'))).toMatchObject({ ok: false, reason: 'recovery_key_malformed' });
  });
});
