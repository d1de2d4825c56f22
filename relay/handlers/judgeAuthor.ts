// The author checks a push and a snapshot share (DESIGN → Relay → Checks on every push), in order: the
// header names the authenticated device, the workspace exists here, the device is in its log, the
// signature verifies under its key, the key epoch exists, the device is a current member with write
// rights, and the log position it names is on the relay's chain. Same order, same reason codes.
import { toBase64url } from '../../src/crypto/bytes.ts';
import type { PublicKey } from '../../src/crypto/keys.ts';
import type { RelayContext } from '../context.ts';
import { defenceOn } from '../defences.ts';

export type AuthorRejection =
  | 'wrong_device' | 'unknown_workspace' | 'unknown_device' | 'bad_signature' | 'unknown_epoch'
  | 'not_a_member' | 'device_revoked' | 'no_write_permission' | 'log_position_unknown';

/** What of a signed header the checks read (an envelope's or a snapshot's). */
export interface AuthoredHeader {
  workspaceId: string;
  deviceId: string;
  epoch: number;
  logIndex: number;
  logHead: Uint8Array;
}

export type AuthorJudgement = { ok: true; state: unknown } | { ok: false; reason: AuthorRejection; detail?: string };

/** Is `h` written by `deviceId`, a current writer of its workspace, at a log position the relay has? `verifies` checks the signature under a key. */
export async function judgeAuthor(
  ctx: RelayContext, deviceId: string, h: AuthoredHeader, verifies: (signingPub: PublicKey) => boolean,
): Promise<AuthorJudgement> {
  const on = (d: Parameters<typeof defenceOn>[1]) => defenceOn(ctx.defencesOff, d);
  const no = (reason: AuthorRejection, detail?: string): AuthorJudgement => ({ ok: false, reason, ...(detail ? { detail } : {}) });
  if (h.deviceId !== deviceId && on('relay.device')) return no('wrong_device');
  const state = await ctx.workspaces.state(h.workspaceId);
  if (state === undefined) return no('unknown_workspace');
  const info = ctx.model.deviceInfo(state, h.deviceId);
  if (!info) return no('unknown_device');
  if (on('relay.signature') && !verifies(info.signingPub)) return no('bad_signature');
  // Nothing can be written under an epoch the log has not reached (its key does not exist yet).
  if (h.epoch > ctx.model.epochOf(state)) return no('unknown_epoch', `epoch ${h.epoch}, workspace at ${ctx.model.epochOf(state)}`);
  if (on('relay.membership')) {
    const judged = ctx.removalJudgement === 'causal' && !ctx.model.isActiveDevice(state, h.deviceId) ? authorsLog(ctx, state, h) : state;
    if (!ctx.model.isActiveDevice(judged, h.deviceId)) return no(info.revoked ? 'device_revoked' : 'not_a_member');
    if (!ctx.model.canWrite(judged, h.deviceId)) return no('no_write_permission');
  }
  // DESIGN → Fork detection in the data plane: the author's log position must be on our chain.
  if (ctx.model.entryIdAt(state, h.logIndex) !== toBase64url(h.logHead)) return no('log_position_unknown', `index ${h.logIndex}`);
  return { ok: true, state };
}

/**
 * Causal removal judgement (sim only): the log as the author had it, when the header names an entry
 * of this chain (logHead at logIndex); else the log as it is now. A removed member can name an old
 * head forever, which is why the product judges at push.
 */
function authorsLog(ctx: RelayContext, state: unknown, h: { logIndex: number; logHead: Uint8Array }): unknown {
  if (ctx.model.entryIdAt(state, h.logIndex) !== toBase64url(h.logHead)) return state;
  return ctx.model.prefix(state, h.logIndex + 1) ?? state;
}
