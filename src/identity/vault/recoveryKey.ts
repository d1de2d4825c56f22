// The recovery key as a person sees it: 256 random bits plus a 24-bit typo check, written in
// Crockford base32 (no I, L, O, U; case-insensitive) as 14 groups of 4 characters joined by dashes.
// Parsing forgives case, spaces and the look-alikes Crockford allows (O→0, I/L→1).
import { sha256 } from '../../crypto/sha256.ts';
import { concat, equalBytes, utf8 } from '../../crypto/bytes.ts';
import { decodeCrockford, encodeCrockford, normalizeCrockford } from '../../crypto/base32.ts';
import { asKey, type RecoveryKey } from '../../crypto/keys.ts';
import { fail, ok, type Result } from '../../crypto/result.ts';

const KEY_BYTES = 32;
const CHECK_BYTES = 3; // 32 + 3 bytes = 280 bits = exactly 56 base32 characters
const GROUP = 4;
// Not secret and not a domain for signing or encryption: only a checksum, so it stays local.
const CHECK_LABEL = utf8('cloister/recovery-key-check/v1');

function checkOf(key: Uint8Array): Uint8Array {
  return sha256(concat(CHECK_LABEL, key)).subarray(0, CHECK_BYTES);
}

/** Format a 32-byte recovery key for display, e.g. `7Q2M-0ZKD-…` (14 groups of 4). */
export function formatRecoveryKey(key: RecoveryKey): string {
  const text = encodeCrockford(concat(key, checkOf(key)));
  return text.match(new RegExp(`.{1,${GROUP}}`, 'g'))!.join('-');
}

/** Parse what a person typed back. A typo is caught by the check bytes, so it isn't mistaken for a wrong key. */
export function parseRecoveryKey(text: string): Result<RecoveryKey, 'recovery_key_malformed'> {
  const clean = normalizeCrockford(text);
  const want = ((KEY_BYTES + CHECK_BYTES) * 8) / 5;
  if (clean.length !== want) return fail('recovery_key_malformed', `expected ${want} characters, got ${clean.length}`);
  const out = decodeCrockford(clean, KEY_BYTES + CHECK_BYTES);
  if (!out) return fail('recovery_key_malformed', 'unexpected character');
  const key = out.slice(0, KEY_BYTES);
  if (!equalBytes(checkOf(key), out.subarray(KEY_BYTES))) return fail('recovery_key_malformed', 'check digits do not match');
  return ok(asKey<RecoveryKey>(key));
}
