// Open a snapshot from the relay (docs/SNAPSHOTS.md). A snapshot is trusted only as far as its author:
// it must be signed by a device of a CURRENT member with write rights (a removed member's old
// snapshots are refused), at a membership-log position the reader has, under a key the reader holds.
// Then its body must decrypt, parse, load as an Automerge document whose heads are exactly the signed
// heads, with nothing missing, and match its snapshot id. Provenance in it is kept only where the
// actor recomputes from the named device's key and session nonce; the user comes from the reader's
// own membership log, never from the snapshot.
import * as A from '@automerge/automerge';
import { isValidDocumentId } from '@automerge/automerge-repo';
import { open } from '../../crypto/aead.ts';
import { equalBytes, fromHex } from '../../crypto/bytes.ts';
import { DOMAIN } from '../../crypto/domains.ts';
import { fail, ok, type Result } from '../../crypto/result.ts';
import { decodeSnapshot, verifySnapshotSignature, type SnapshotHeader } from '../../protocol/snapshot.ts';
import { actorFor } from '../actor.ts';
import { logPositionRefusal, type EnvelopeAuthority } from '../envelope/authority.ts';
import { snapshotProvenanceHash, type Provenance } from '../provenance.ts';
import { boundedDocumentError } from './boundedDoc.ts';
import { decodeSnapshotBody, snapshotIdOf } from './snapshotBody.ts';

export type SnapshotRefusal =
  | 'snapshot_malformed' | 'snapshot_version_unsupported' | 'snapshot_too_large' | 'wrong_workspace' | 'unknown_device'
  | 'bad_signature' | 'log_position_unknown' | 'log_fork' | 'not_a_member' | 'device_revoked' | 'no_write_permission'
  | 'unknown_epoch' | 'decrypt_failed' | 'snapshot_body_malformed' | 'snapshot_doc_malformed' | 'snapshot_heads_mismatch'
  | 'snapshot_id_mismatch';

export interface OpenedSnapshot {
  header: SnapshotHeader;
  /** The document as the snapshot holds it. */
  doc: A.Doc<unknown>;
  /** The save() bytes as sent (what the reader imports). */
  docBytes: Uint8Array;
  heads: string[];
  /** Provenance whose actor binding checks out, with the reader's own idea of each device's user. */
  provenance: Provenance[];
  /** Provenance entries left out (unknown device, or an actor that does not recompute). */
  provenanceDropped: number;
}

export function openSnapshot(bytes: Uint8Array, authority: EnvelopeAuthority, expectDocId?: string): Result<OpenedSnapshot, SnapshotRefusal> {
  const d = decodeSnapshot(bytes);
  if (!d.ok) return d;
  const s = d.value;
  const h = s.header;
  if (h.workspaceId !== authority.workspaceId) return fail('wrong_workspace');
  if (!isValidDocumentId(h.docId) || (expectDocId !== undefined && h.docId !== expectDocId)) return fail('snapshot_malformed', 'doc id');
  const device = authority.deviceInfo(h.deviceId);
  if (!device) return fail('unknown_device');
  if (!verifySnapshotSignature(s, device.signingPub)) return fail('bad_signature');
  const position = logPositionRefusal(authority, h.logIndex, h.logHead);
  if (position) return fail(position.reason, position.detail);
  // Now, not "at its epoch": a snapshot stands in for other people's envelopes, so its author must still be trusted.
  const right = authority.canWriteDevice(h.deviceId);
  if (right !== true) return fail(right);
  const key = authority.documentKey(h.epoch, h.docId);
  if (!key) return fail('unknown_epoch', `epoch ${h.epoch}`);
  const plain = open(key, s.sealed, DOMAIN.snapshotBody, s.headerBytes);
  if (!plain.ok) return fail('decrypt_failed', plain.reason);
  const body = decodeSnapshotBody(plain.value);
  if (!body.ok) return body;
  if (!equalBytes(snapshotIdOf(key, body.value.heads), h.snapshotId)) return fail('snapshot_id_mismatch');

  const unbounded = boundedDocumentError(body.value.doc);
  if (unbounded) return fail('snapshot_doc_malformed', unbounded);
  let doc: A.Doc<unknown>;
  try {
    doc = A.load<unknown>(body.value.doc);
  } catch (e) {
    return fail('snapshot_doc_malformed', e instanceof Error ? e.message.slice(0, 200) : undefined);
  }
  const heads = [...A.getHeads(doc)].sort();
  const claimed = [...body.value.heads].sort();
  if (heads.length !== claimed.length || heads.some((x, i) => x !== claimed[i])) return fail('snapshot_heads_mismatch');
  if (A.getMissingDeps(doc, []).length > 0) return fail('snapshot_doc_malformed', 'missing dependencies');

  const provenance: Provenance[] = [];
  let provenanceDropped = 0;
  for (const p of body.value.provenance) {
    const dev = authority.deviceInfo(p.deviceId);
    const nonce = fromHex(p.sessionNonce);
    if (!dev || !nonce) {
      provenanceDropped++;
      continue;
    }
    const actor = actorFor(dev.signingPub, nonce);
    provenance.push({
      docId: h.docId,
      // Not an envelope this reader holds: keyed by the envelope's (device, seq) so a real envelope's record can sit beside it.
      envelopeHash: snapshotProvenanceHash(p.deviceId, p.seq),
      deviceId: p.deviceId, userId: dev.userId, seq: p.seq, claimedTime: p.claimedTime, actor, seqs: p.seqs,
      sessionNonce: p.sessionNonce, viaSnapshot: h.deviceId,
    });
  }
  return ok({ header: h, doc, docBytes: body.value.doc, heads, provenance, provenanceDropped });
}
