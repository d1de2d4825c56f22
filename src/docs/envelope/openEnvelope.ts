// Open an envelope from anyone, checking in this order (DESIGN → Change envelope): decode, signature,
// membership and write rights, decrypt, decode changes, actor binding, sequence continuity.
// Untrusted input never throws: every refusal is a stable reason from ../rejections.ts.
// A gap is not a refusal: the envelope is authentic and is returned with order 'gap' to be held.
import { open } from '../../crypto/aead.ts';
import { equalBytes, fromHex } from '../../crypto/bytes.ts';
import { DOMAIN } from '../../crypto/domains.ts';
import { fail, ok, type Result } from '../../crypto/result.ts';
import { decodeEnvelope, verifyEnvelopeSignature, type EnvelopeHeader } from '../../protocol/envelope.ts';
import { actorFor } from '../actor.ts';
import type { EnvelopeRejection } from '../rejections.ts';
import { logPositionRefusal, type EnvelopeAuthority, type EnvelopeDeviceInfo, type SeqView } from './authority.ts';
import { readChangeHeader } from './changeHeader.ts';
import { checkChangeChunks } from './checkChanges.ts';
import { decodeChanges } from './changesCodec.ts';
import { envelopeHashOf } from './envelopeHash.ts';

/** next: seq == last+1, apply it. gap: seq > last+1, hold it. duplicate: the same envelope again, a no-op. */
/** covered: at or below a seq a loaded snapshot stood in for (docs/SNAPSHOTS.md). */
export type EnvelopeOrder = 'next' | 'gap' | 'duplicate' | 'covered';

export interface OpenedEnvelope {
  header: EnvelopeHeader;
  device: EnvelopeDeviceInfo;
  /** Raw Automerge changes, in the order sealed. */
  changes: Uint8Array[];
  /** The one Automerge actor of every change: actorFor(device, header.sessionNonce). */
  actor: string;
  /** Each change's Automerge seq, same order (with the actor: who made which change, for history). */
  seqs: number[];
  envelopeHash: string;
  order: EnvelopeOrder;
}

export interface OpenEnvelopeOptions {
  /** Skip the sequence check (e.g. when re-opening an envelope already judged, from the outbox or pending store). */
  skipSequence?: boolean;
}

export function openEnvelope(
  bytes: Uint8Array,
  authority: EnvelopeAuthority,
  seqView: SeqView,
  options: OpenEnvelopeOptions = {},
): Result<OpenedEnvelope, EnvelopeRejection> {
  const decoded = decodeEnvelope(bytes);
  if (!decoded.ok) return decoded;
  const env = decoded.value;
  const h = env.header;
  if (h.workspaceId !== authority.workspaceId) return fail('wrong_workspace');

  const device = authority.deviceInfo(h.deviceId);
  if (!device) return fail('unknown_device');
  if (!verifyEnvelopeSignature(env, device.signingPub)) return fail('bad_signature');
  // DESIGN → Fork detection in the data plane: the author names the log position it had. Judged after
  // the signature, so only a member's signed claim can raise the alarm.
  const position = logPositionRefusal(authority, h.logIndex, h.logHead);
  if (position) return fail(position.reason, position.detail);
  const right = authority.canWriteDeviceAt ? authority.canWriteDeviceAt(h.deviceId, h.epoch) : authority.canWriteDevice(h.deviceId);
  if (right !== true) return fail(right);

  const key = authority.documentKey(h.epoch, h.docId);
  if (!key) return fail('unknown_epoch', `epoch ${h.epoch}`);
  const body = open(key, env.sealed, DOMAIN.envelopeBody, env.headerBytes);
  if (!body.ok) return fail('decrypt_failed', body.reason);

  const changes = decodeChanges(body.value);
  if (!changes.ok) return changes;
  if (changes.value.length === 0) return fail('changes_empty');
  const actor = actorFor(device.signingPub, h.sessionNonce);
  const actorBytes = fromHex(actor)!;
  const seqs: number[] = [];
  // Refuse anything but plain change chunks unread: decodeChange would inflate a compressed one.
  const chunks = checkChangeChunks(changes.value);
  if (!chunks.ok) return fail(chunks.reason, chunks.detail);
  for (const [i, c] of changes.value.entries()) {
    const head = readChangeHeader(c);
    if (typeof head !== 'object') return fail('changes_malformed', `change ${i}`);
    if (!equalBytes(head.actorBytes, actorBytes)) return fail('actor_mismatch', `change ${i}`);
    seqs.push(head.seq);
  }

  const envelopeHash = envelopeHashOf(bytes);
  let order: EnvelopeOrder = 'next';
  if (!options.skipSequence) {
    const last = seqView.lastSeq(h.deviceId, h.docId);
    if (h.seq <= last) {
      const known = seqView.envelopeHashAt(h.deviceId, h.docId, h.seq);
      // A seq a snapshot stood in for: its changes should be there already; the caller checks them.
      if (known === undefined && h.seq <= (seqView.coveredThrough?.(h.deviceId, h.docId) ?? 0)) order = 'covered';
      else if (known !== envelopeHash) return fail('seq_replay', `seq ${h.seq} <= ${last}`);
      else order = 'duplicate';
    } else if (h.seq > last + 1) order = 'gap';
  }
  return ok({ header: h, device, changes: changes.value, actor, seqs, envelopeHash, order });
}
