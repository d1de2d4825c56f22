// Admission (DESIGN → Relay → Admission and quotas): who may create a workspace on this relay.
//   open  — anyone who authenticates (a laptop, `npm start`);
//   token — the first log_append of a new workspace carries a signup token the operator minted with
//           `cloister relay token create` (the store keeps only its SHA-256; each creation uses it once);
//   keys  — the authenticated device is on the operator's allowlist (`cloister relay allow DEVICE_ID`).
// Only creation is gated: every later write needs membership of an admitted workspace, which the push
// and log checks already require. Storage per workspace is bounded by the quota (quotaRefusal).
import { createHash } from 'node:crypto';
import { randomBytes, toBase64url } from '../src/crypto/bytes.ts';
import { fail, ok, type Result } from '../src/crypto/result.ts';
import type { RelayContext } from './context.ts';
import type { RelayStore, SignupTokenUse } from './store/RelayStore.ts';

export const ADMISSION_MODES = ['open', 'token', 'keys'] as const;
export type AdmissionMode = (typeof ADMISSION_MODES)[number];

/** Default per-workspace storage quota: 1 GiB of envelopes + held envelopes + log links. */
export const DEFAULT_QUOTA_BYTES = 1024 * 1024 * 1024;
/** /metrics counts workspaces at or above this share of the quota. */
export const QUOTA_WARN_RATIO = 0.8;

const TOKEN_PREFIX = 'cst_';

/** SHA-256 (hex) of a signup token: what the store keeps. Tokens carry 192 random bits, so a plain hash suffices. */
export const hashSignupToken = (token: string): string => createHash('sha256').update(token, 'utf8').digest('hex');

export interface MintedToken {
  /** Shown to the operator once; never stored. */
  token: string;
  usesLeft: number;
  expiresAt?: number;
}

/** Mint a signup token and store its hash. */
export async function mintSignupToken(store: RelayStore, opts: { uses: number; ttlMs?: number; now: number }): Promise<MintedToken> {
  const token = TOKEN_PREFIX + toBase64url(randomBytes(24));
  const expiresAt = opts.ttlMs === undefined ? undefined : opts.now + opts.ttlMs;
  await store.putSignupToken({ tokenHash: hashSignupToken(token), usesLeft: opts.uses, createdAt: opts.now, ...(expiresAt !== undefined ? { expiresAt } : {}) });
  return { token, usesLeft: opts.uses, ...(expiresAt !== undefined ? { expiresAt } : {}) };
}

export type AdmissionCode = 'admission_required' | 'admission_refused';
export interface AdmissionRefusal {
  code: AdmissionCode;
  message: string;
}

const TOKEN_REFUSED: Record<Exclude<SignupTokenUse, 'ok'>, string> = {
  unknown: 'signup token refused: this relay did not issue it',
  used_up: 'signup token refused: it has been used up',
  expired: 'signup token refused: it has expired',
};

/**
 * Run a log_append under admission: when `workspaceId` has no log here yet (the append would create
 * it), the device must be admitted; a signup token's use is given back if the creation did not
 * happen (an invalid entry, or another creator won the race). Appends to existing workspaces pass.
 */
export async function withAdmission<T extends Result<{ appended: boolean }, string>>(
  ctx: RelayContext,
  deviceId: string,
  workspaceId: string,
  token: string | undefined,
  append: () => Promise<T>,
): Promise<Result<T, AdmissionCode>> {
  const mode = ctx.admission;
  if (mode === 'open' || (await ctx.workspaces.entries(workspaceId)) !== undefined) return ok(await append());
  if (mode === 'keys') {
    if (!(await ctx.store.isDeviceAllowed(deviceId)))
      return refuse(ctx, deviceId, 'admission_refused', `this relay admits listed devices only: ask its operator to run "cloister relay allow ${deviceId}"`);
    return ok(await append());
  }
  if (token === undefined)
    return refuse(ctx, deviceId, 'admission_required', 'this relay needs a signup token to create a workspace (cloister workspace create --signup-token TOKEN)');
  const hash = hashSignupToken(token);
  const use = await ctx.store.useSignupToken(hash, ctx.now());
  if (use !== 'ok') return refuse(ctx, deviceId, 'admission_refused', TOKEN_REFUSED[use]);
  let created = false;
  try {
    const r = await append();
    created = r.ok && r.value.appended;
    return ok(r);
  } finally {
    if (!created) await ctx.store.refundSignupToken(hash);
    else ctx.log.info({ device: deviceId, workspace: workspaceId }, 'workspace created with a signup token');
  }
}

function refuse(ctx: RelayContext, deviceId: string, code: AdmissionCode, message: string): Result<never, AdmissionCode> {
  ctx.log.info({ device: deviceId, reason: code }, 'workspace creation refused');
  return fail(code, message);
}

/** The quota check for a push of `size` bytes: a message if it would take the workspace past its quota. */
export async function quotaRefusal(ctx: RelayContext, workspaceId: string, size: number): Promise<string | undefined> {
  const quota = ctx.limits.quotaBytes;
  if (!quota) return undefined; // 0: no quota
  // Envelopes queued for a group commit count too: a batch cannot overshoot the quota.
  const used = (await ctx.store.workspaceUsage(workspaceId)) + (ctx.store.groupCommit?.queuedBytes(workspaceId) ?? 0);
  if (used + size <= quota) return undefined;
  return `the workspace's storage quota is full (${used} of ${quota} bytes used); ask the relay operator for more`;
}
