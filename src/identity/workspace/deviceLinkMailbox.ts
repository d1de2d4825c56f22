// The device-link mailbox: how a new device and an existing one of the same user talk through the
// relay with nothing but a one-time code between them. Both derive from the code (HKDF under
// INFO.invitationKey, purpose 'device-link', as invitations do) a rendezvous id, which is all the
// relay sees, and an AEAD key that seals every step. The associated data binds the mailbox id and the
// step, so the relay can neither read, forge, swap nor move a message; the enrolment step additionally
// carries the library's code-keyed signature over the new device's keys (deviceLink.ts).
import { openBytes, sealBytes } from '../../crypto/aead.ts';
import { ByteWriter, utf8 } from '../../crypto/bytes.ts';
import { DOMAIN, INFO } from '../../crypto/domains.ts';
import { deriveSubkey } from '../../crypto/hkdf.ts';
import type { Key } from '../../crypto/keys.ts';
import { fail, ok, type Result } from '../../crypto/result.ts';
import { z } from 'zod';
import { decodeCode, deriveCodeKeys } from './invitation.ts';
import type { WorkspaceRejection } from './rejections.ts';

/** The steps, in order: the new device's request, the approver's offer, the new device's enrolment, the approver's answer. */
export type LinkStep = 'request' | 'offer' | 'enrol' | 'done';

export interface LinkMailbox {
  /** The rendezvous id the relay stores the steps under (a hash of a code-derived public key). */
  boxId: string;
  key: Key<'AeadKey'>;
}

/** The mailbox a device-link code names, or why the code is not one. */
export function linkMailboxOf(code: string): Result<LinkMailbox, 'invitation_code_invalid'> {
  const bytes = decodeCode(code);
  const keys = deriveCodeKeys(code, 'device-link');
  if (!bytes.ok || !keys.ok) return fail('invitation_code_invalid');
  return ok({ boxId: keys.value.id, key: deriveSubkey<Key<'AeadKey'>>(bytes.value, INFO.invitationKey, utf8('device-link/mailbox')) });
}

const ad = (boxId: string, step: LinkStep) => new ByteWriter().string(boxId).string(step).finish();

const b64 = z.string().regex(/^[A-Za-z0-9_-]{1,200}$/);
const devicePublic = z.object({ deviceId: z.string().min(1).max(128), signingPub: b64, boxPub: b64 });

/** What each step carries (checked after opening: a peer with the code is still only a peer). */
export const LINK_STEPS = {
  /** New device: "this is me" (so the approver can say which device it is adding). */
  request: z.object({ device: devicePublic }),
  /** Approver: the user the device joins and the workspaces it will have. */
  offer: z.object({
    userId: z.string().min(1).max(128),
    workspaces: z.array(z.object({ workspaceId: z.string().min(1).max(128), name: z.string().max(500), relay: z.string().max(500), relayPub: b64.optional() })).max(64),
  }),
  /** New device: one DeviceLinkRequest per workspace (its own enrolment signature plus the code proof). */
  enrol: z.object({
    requests: z.array(z.object({
      workspaceId: z.string(), userId: z.string(), device: devicePublic, deviceSig: b64, linkProof: b64,
    })).max(64),
  }),
  /** Approver: per workspace, the log index of the add_device entry, or why it was not added. */
  done: z.object({ workspaces: z.array(z.object({ workspaceId: z.string(), index: z.number().int().optional(), refused: z.string().max(500).optional() })).max(64) }),
} as const;
export type LinkMessage<S extends LinkStep> = z.output<(typeof LINK_STEPS)[S]>;

/** Seal one step for the mailbox (a fresh nonce inside sealBytes). */
export function sealLinkMessage<S extends LinkStep>(mb: LinkMailbox, step: S, msg: LinkMessage<S>): Uint8Array {
  return sealBytes(mb.key, utf8(JSON.stringify(msg)), DOMAIN.deviceLinkMailbox, ad(mb.boxId, step));
}

/** Open one step from the mailbox: it must be sealed under this code, for this mailbox and step, and well formed. */
export function openLinkMessage<S extends LinkStep>(mb: LinkMailbox, step: S, bytes: Uint8Array): Result<LinkMessage<S>, WorkspaceRejection> {
  const opened = openBytes(mb.key, bytes, DOMAIN.deviceLinkMailbox, ad(mb.boxId, step));
  if (!opened.ok) return fail('link_message_unopenable', opened.reason);
  let raw: unknown;
  try {
    raw = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(opened.value));
  } catch {
    return fail('link_message_unopenable', 'not JSON');
  }
  const parsed = LINK_STEPS[step].safeParse(raw);
  if (!parsed.success) return fail('link_message_unopenable', parsed.error.issues[0]?.message?.slice(0, 200));
  return ok(parsed.data as LinkMessage<S>);
}
