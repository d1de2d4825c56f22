// Passwords the tests type as people would: strong enough for the new-password policy
// (src/identity/vault/passwordPolicy.ts), one place to change them if the policy tightens.
// Distinct per person, so a test can't pass by unlocking one profile with another's password.

/** A strong passphrase (zxcvbn score 4, the policy's minimum); the default for anyone. */
export const STRONG_PASSWORD = 'correct horse battery staple';

/** A strong, distinct passphrase for a named person ("alice", "bob", "alice phone"…). */
export function strongPassword(who: string): string {
  return `${who} walks the amber harbour lantern`;
}
