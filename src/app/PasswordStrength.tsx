// A strength meter under new-password inputs: zxcvbn-ts's score as an accessible <meter>, whether it
// meets the policy the CLI shares (src/identity/vault/passwordPolicy.ts), and the estimator's advice.
// The estimator loads on first use (a separate chunk), so the unlock page stays light.
import { useEffect, useId, useState } from 'react';
import {
  checkNewPassword,
  describePasswordRejection,
  PASSWORD_MIN_SCORE,
  PASSWORD_SCORE_TEXT,
  type PasswordVerdict,
} from '../identity/vault/passwordPolicy.ts';
import './vault.css';

/** The policy's verdict on `password`, kept up to date as it is typed; undefined while empty or loading. */
export function usePasswordVerdict(password: string, context: readonly string[] = []): { verdict?: PasswordVerdict; failed?: boolean } {
  const [state, setState] = useState<{ verdict?: PasswordVerdict; failed?: boolean }>({});
  const words = context.join('\u0000');
  useEffect(() => {
    if (password === '') return setState({});
    let live = true;
    checkNewPassword(password, words === '' ? [] : words.split('\u0000')).then(
      (verdict) => live && setState({ verdict }),
      () => live && setState({ failed: true }),
    );
    return () => {
      live = false;
    };
  }, [password, words]);
  return password === '' ? {} : state;
}

/** What to say when a new password is refused at submit; undefined when it may be used. */
export async function refusalOf(password: string, context: readonly string[] = []): Promise<string | undefined> {
  let v: PasswordVerdict;
  try {
    v = await checkNewPassword(password, context);
  } catch (e) {
    return `the password strength check could not load (${(e as Error).message}); reconnect and try again`;
  }
  return v.ok ? undefined : describePasswordRejection(v);
}

export function PasswordStrength({ password, verdict, failed }: { password: string; verdict?: PasswordVerdict; failed?: boolean }) {
  const labelId = useId();
  if (password === '') return null;
  if (failed) return <p className="strength muted" data-testid="password-strength">Strength unknown: the checker could not load.</p>;
  if (!verdict) return <p className="strength muted" data-testid="password-strength">Checking strength…</p>;
  const words = PASSWORD_SCORE_TEXT[verdict.score];
  const summary = verdict.ok ? `${words}: good to use` : `${words}: ${describePasswordRejection({ reason: verdict.reason })}`;
  const advice = [verdict.feedback.warning, ...verdict.feedback.suggestions].filter((s): s is string => !!s);
  return (
    <div className={`strength ${verdict.ok ? 'strength-ok' : 'strength-weak'}`} data-testid="password-strength" data-ok={verdict.ok} data-score={verdict.score}>
      <div className="strength-row">
        <span id={labelId}>Strength</span>
        <meter
          data-testid="strength-meter"
          aria-labelledby={labelId}
          aria-valuetext={summary}
          min={0}
          max={4}
          low={PASSWORD_MIN_SCORE - 1}
          high={PASSWORD_MIN_SCORE - 0.5}
          optimum={4}
          value={verdict.score}
        />
        <span data-testid="strength-words">{words}</span>
      </div>
      <p className="strength-verdict" data-testid="strength-verdict">
        {verdict.ok ? 'Strong enough.' : describePasswordRejection({ reason: verdict.reason })}
      </p>
      {advice.length > 0 && (
        <ul className="strength-advice" data-testid="strength-advice">
          {advice.map((a) => (
            <li key={a}>{a}</li>
          ))}
        </ul>
      )}
    </div>
  );
}
