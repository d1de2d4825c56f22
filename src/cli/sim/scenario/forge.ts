// Forged envelopes for scenario `forge` steps, pushed by a real member over her own authenticated
// connection (like src/cli/sim/malicious.ts, but with the kind named by the scenario, not drawn).
import * as A from '@automerge/automerge';
import { newDocumentId } from '../../../docs/newDocumentId.ts';
import { forgedDoc } from '../malicious.ts';
import type { PublicKey } from '../../../crypto/keys.ts';
import { actorFor, newSessionNonce } from '../../../docs/actor.ts';
import { sealEnvelope } from '../../../docs/envelope/sealEnvelope.ts';
import type { OpenReplica, SimUser } from '../profiles.ts';

export type ForgeKind = 'bad_signature' | 'wrong_device';

/**
 * bad_signature: a valid envelope of the author's own, one ciphertext byte flipped after signing.
 * wrong_device: an envelope naming another member's device (and actor), signed with the author's key.
 * Both go to a fresh document, so whoever ends up holding that document took a forgery.
 */
export function forgeEnvelope(kind: ForgeKind, author: SimUser, open: OpenReplica, workspaceId: string, victim: SimUser, claimedTime: number): { docId: string; bytes: Uint8Array } {
  const d = author.vault.device;
  const live = open.s.live;
  const epoch = live.epoch;
  const docId: string = newDocumentId();
  const key = live.documentKey(epoch, docId);
  if (!key) throw new Error(`${author.name} holds no key for the current epoch`);
  const nonce = newSessionNonce();
  const log = live.logPosition();
  const v = victim.vault.device;
  const impersonate = kind === 'wrong_device';
  const actor = actorFor((impersonate ? v.signingPub : d.signingPub) as PublicKey, nonce);
  const doc = forgedDoc({ title: `forged ${kind}`, notes: `forged ${kind}` }, actor, claimedTime);
  const sealed = sealEnvelope(
    {
      workspaceId,
      docId,
      deviceId: impersonate ? v.deviceId : d.deviceId,
      epoch,
      seq: 1,
      leaseId: open.s.lease.leaseId(),
      claimedTime,
      sessionNonce: nonce,
      logIndex: log.index,
      logHead: log.head,
      changes: A.getAllChanges(doc),
    },
    key,
    d.signingKey,
  );
  const bytes = sealed.bytes.slice();
  if (kind === 'bad_signature') bytes[bytes.length - 80]! ^= 0x01; // inside the ciphertext, covered by the signature
  return { docId, bytes };
}
