// The one rule for NEW vault passwords (create, change, recover), shared by the CLI and the web app:
// at least PASSWORD_MIN_LENGTH characters and a zxcvbn-ts score of PASSWORD_MIN_SCORE (an estimated
// 10^10 guesses or more). Unlocking never consults it, so vaults made under an older rule still open.
// The estimator and its dictionaries (several MB) are imported lazily, on first use.
import type { ZxcvbnFactory } from '@zxcvbn-ts/core';

/** Characters (code points, after NFKC as the KDF sees them) a new password needs at least. */
export const PASSWORD_MIN_LENGTH = 10;
/**
 * The lowest zxcvbn score accepted. 4 means "≥ 10^10 estimated guesses"; 3 would let through
 * "Summer2024!!" and "a new password" (10^8 guesses, about 1.5 core-years of Argon2id at the default
 * parameters: cheap for someone who stole the disk). docs/VAULT.md → "Password policy".
 */
export const PASSWORD_MIN_SCORE = 4;

export type PasswordScore = 0 | 1 | 2 | 3 | 4;

/** Why a new password is refused; stable codes, each said in words here. */
export const PASSWORD_REJECTION_TEXT = {
  password_empty: 'the password must not be empty',
  password_too_short: `the password is too short: use at least ${PASSWORD_MIN_LENGTH} characters`,
  password_too_weak: 'the password is too easy to guess: use a longer passphrase of uncommon words',
} as const;

export type PasswordRejection = keyof typeof PASSWORD_REJECTION_TEXT;

/** The estimator's advice, in English, for a person choosing a password. */
export interface PasswordFeedback {
  warning: string | undefined;
  suggestions: string[];
}

export type PasswordVerdict =
  | { ok: true; score: PasswordScore; feedback: PasswordFeedback }
  | { ok: false; reason: PasswordRejection; score: PasswordScore; feedback: PasswordFeedback };

/** Words that make a password easier to guess here; callers add their own (a user id, a name). */
const CONTEXT_WORDS = ['cloister', 'vault', 'recovery', 'password'];

let estimator: Promise<ZxcvbnFactory> | undefined;

/** Load (once) and return the estimator. Call early to warm it; a failed load is retried next time. */
export function loadPasswordEstimator(): Promise<ZxcvbnFactory> {
  estimator ??= Promise.all([import('@zxcvbn-ts/core'), import('@zxcvbn-ts/language-common'), import('@zxcvbn-ts/language-en')]).then(
    ([core, common, en]) =>
      new core.ZxcvbnFactory({
        dictionary: { ...common.dictionary, ...en.dictionary },
        graphs: common.adjacencyGraphs,
        translations: en.translations,
      }),
    (e: unknown) => {
      estimator = undefined;
      throw e;
    },
  );
  return estimator;
}

/** Is this acceptable as a new vault password? `context` lists words the person would be guessed by. */
export async function checkNewPassword(password: string, context: readonly string[] = []): Promise<PasswordVerdict> {
  const normalized = password.normalize('NFKC'); // what Argon2id derives from (docs/VAULT.md)
  if (normalized.length === 0) return { ok: false, reason: 'password_empty', score: 0, feedback: { warning: undefined, suggestions: [] } };
  const zxcvbn = await loadPasswordEstimator();
  const r = zxcvbn.check(normalized, [...CONTEXT_WORDS, ...context.filter((w) => w !== '')]);
  const score = r.score as PasswordScore;
  const feedback = { warning: r.feedback.warning ?? undefined, suggestions: [...r.feedback.suggestions] };
  if ([...normalized].length < PASSWORD_MIN_LENGTH) return { ok: false, reason: 'password_too_short', score, feedback };
  if (score < PASSWORD_MIN_SCORE) return { ok: false, reason: 'password_too_weak', score, feedback };
  return { ok: true, score, feedback };
}

/** One line for a person: the reason in words, then the estimator's warning when it has one. */
export function describePasswordRejection(v: { reason: PasswordRejection; feedback?: PasswordFeedback }): string {
  const text = PASSWORD_REJECTION_TEXT[v.reason];
  const warning = v.feedback?.warning?.replace(/\.$/, '');
  return warning ? `${text} (${warning.charAt(0).toLowerCase()}${warning.slice(1)})` : text;
}

/** Words for a score, weakest to strongest, for meters and messages. */
export const PASSWORD_SCORE_TEXT = ['very weak', 'weak', 'fair', 'nearly strong enough', 'strong'] as const;
