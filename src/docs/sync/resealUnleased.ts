// Edits made before this device ever held a lease (e.g. right after `workspace create`, offline) are
// sealed with an empty lease id, which the relay can't accept. At the first sync, once a lease is in
// hand, such outbox envelopes — never pushed, since pushing needs a lease — are sealed again with the
// same seq, epoch, time and changes under that lease, and the own-device cursor takes the new hash.
// Envelopes that carry a real lease are never touched: a lapsed lease is the relay's to judge.
import { toHex } from '../../crypto/bytes.ts';
import { decodeEnvelope } from '../../protocol/envelope.ts';
import type { DocSession } from '../DocSession.ts';
import { openEnvelope } from '../envelope/openEnvelope.ts';
import { sealEnvelope } from '../envelope/sealEnvelope.ts';
import type { LiveWorkspace } from './LiveWorkspace.ts';

/** Returns how many envelopes were re-sealed. */
export async function resealUnleased(docs: DocSession, live: LiveWorkspace, leaseId: string): Promise<number> {
  if (!leaseId) return 0;
  const candidates = (await docs.outbox.pending()).filter(e => {
    const d = decodeEnvelope(e.bytes);
    return d.ok && d.value.header.leaseId === '';
  });
  if (candidates.length === 0) return 0;
  const { deviceId, signingKey } = docs.device;
  let n = 0;
  await docs.withLock(async () => {
    for (const e of candidates) {
      const opened = openEnvelope(e.bytes, live, docs.cursors, { skipSequence: true });
      if (!opened.ok) continue; // left as is: the push reports why
      const h = opened.value.header;
      const key = live.documentKey(h.epoch, h.docId);
      if (!key || h.deviceId !== deviceId) continue;
      const env = sealEnvelope(
        { workspaceId: h.workspaceId, docId: h.docId, deviceId, epoch: h.epoch, seq: h.seq, leaseId, claimedTime: h.claimedTime, sessionNonce: h.sessionNonce, logIndex: h.logIndex, logHead: h.logHead, changes: opened.value.changes },
        key,
        signingKey,
      );
      await docs.outbox.put(e.docId, e.seq, env.bytes);
      await docs.cursors.load([{ deviceId, docId: h.docId }]);
      docs.cursors.advance(deviceId, h.docId, h.seq, env.envelopeHash);
      await docs.cursors.save();
      // One chunk: the new envelope's entry and the old one's drop land together.
      await docs.provenance.putMany(h.docId, [{
        docId: h.docId, envelopeHash: env.envelopeHash, deviceId, userId: docs.device.userId, seq: h.seq, claimedTime: h.claimedTime,
        actor: opened.value.actor, seqs: opened.value.seqs, sessionNonce: toHex(h.sessionNonce),
      }], [opened.value.envelopeHash]);
      n++;
    }
  });
  return n;
}
