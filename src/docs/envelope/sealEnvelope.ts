// Seal a batch of this device's new changes for ONE document into a signed, encrypted envelope
// (DESIGN → Change envelope). One AEAD and one signature cover the whole batch; the encoded header
// is the AEAD's associated data, and the signature covers header ‖ nonce ‖ commitment ‖ ciphertext.
import { seal } from '../../crypto/aead.ts';
import { DOMAIN } from '../../crypto/domains.ts';
import type { DeviceSigningKey, DocumentKey } from '../../crypto/keys.ts';
import { ENVELOPE_VERSION, encodeEnvelope, encodeEnvelopeHeader, type EnvelopeHeader } from '../../protocol/envelope.ts';
import { encodeChanges } from './changesCodec.ts';
import { envelopeHashOf } from './envelopeHash.ts';

/** The header's fields (the version is ours to set) and the batch: raw Automerge changes, all made by
 * actorFor(device, sessionNonce); `seq` is assigned under the profile-wide lock. */
export type SealEnvelopeInput = Omit<EnvelopeHeader, 'version'> & { changes: readonly Uint8Array[] };

export interface SealedEnvelope {
  bytes: Uint8Array;
  header: EnvelopeHeader;
  envelopeHash: string;
}

export function sealEnvelope(input: SealEnvelopeInput, documentKey: DocumentKey, signingKey: DeviceSigningKey): SealedEnvelope {
  if (input.changes.length === 0) throw new RangeError('sealEnvelope needs at least one change');
  const { changes, ...fields } = input;
  const header: EnvelopeHeader = { ...fields, version: ENVELOPE_VERSION };
  const headerBytes = encodeEnvelopeHeader(header);
  const sealed = seal(documentKey, encodeChanges(changes), DOMAIN.envelopeBody, headerBytes);
  const bytes = encodeEnvelope(headerBytes, sealed, signingKey);
  return { bytes, header, envelopeHash: envelopeHashOf(bytes) };
}
