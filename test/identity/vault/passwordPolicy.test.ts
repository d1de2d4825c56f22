// The new-password policy the CLI and the web app share: zxcvbn-ts decides, with a length floor;
// refusals carry a stable reason code and the estimator's advice. Unlocking never consults it.
import { describe, expect, it } from 'vitest';
import {
  checkNewPassword,
  describePasswordRejection,
  PASSWORD_MIN_LENGTH,
  PASSWORD_MIN_SCORE,
  PASSWORD_REJECTION_TEXT,
} from '../../../src/identity/vault/passwordPolicy.ts';
import { STRONG_PASSWORD, strongPassword } from '../../passwords.ts';

describe('new-password policy', () => {
  it('accepts a passphrase of uncommon words, with the top score', async () => {
    const v = await checkNewPassword(STRONG_PASSWORD);
    expect(v).toMatchObject({ ok: true, score: 4 });
    for (const who of ['alice', 'bob', 'carol', 'alice phone']) expect((await checkNewPassword(strongPassword(who))).ok).toBe(true);
  });

  it('refuses the passwords people reach for first, as too weak, with the estimator\'s advice', async () => {
    for (const pw of ['password123', 'hunter2hunter2', 'Summer2024!!', 'a new password', 'qwertyuiop12']) {
      const v = await checkNewPassword(pw);
      expect(v.ok, pw).toBe(false);
      if (v.ok) continue;
      expect(v.reason, pw).toBe('password_too_weak');
      expect(v.score, pw).toBeLessThan(PASSWORD_MIN_SCORE);
      // zxcvbn gives advice below score 3; above it the reason's own words say what to do.
      if (v.score < 3) expect(v.feedback.warning !== undefined || v.feedback.suggestions.length > 0, pw).toBe(true);
    }
  });

  it('refuses a short password as too short even when it looks random, and an empty one as empty', async () => {
    const short = await checkNewPassword('Xq7#vR2!p');
    expect(short).toMatchObject({ ok: false, reason: 'password_too_short' });
    expect([...'Xq7#vR2!p'].length).toBe(PASSWORD_MIN_LENGTH - 1);
    expect(await checkNewPassword('')).toMatchObject({ ok: false, reason: 'password_empty' });
  });

  it('counts characters after NFKC, as the key derivation sees them', async () => {
    // Ten full-width letters normalise to ten ASCII ones: the length rule counts ten, not bytes.
    const v = await checkNewPassword('ｚｑｘｗｖｋｊｐｍｙ');
    expect(v.ok || v.reason !== 'password_too_short').toBe(true);
  });

  it('takes the person\'s own words into account', async () => {
    const base = 'florentine-drummond';
    const plain = await checkNewPassword(base);
    const withContext = await checkNewPassword(base, ['florentine', 'drummond']);
    expect(withContext.score).toBeLessThanOrEqual(plain.score);
    expect(withContext.ok).toBe(false);
  });

  it('says each refusal in one line of words, naming the estimator\'s warning', async () => {
    const v = await checkNewPassword('password123');
    expect(v.ok).toBe(false);
    if (v.ok) return;
    const line = describePasswordRejection(v);
    expect(line.startsWith(PASSWORD_REJECTION_TEXT.password_too_weak)).toBe(true);
    expect(line).toMatch(/common/i);
    expect(line).not.toMatch(/\n/);
  });
});
