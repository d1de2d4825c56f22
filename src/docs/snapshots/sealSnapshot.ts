// Seal one document's state as a snapshot (docs/SNAPSHOTS.md): the body (heads, save() bytes,
// provenance) is sealed under the document key with the encoded header as associated data, and the
// whole is signed by the author device.
import { seal } from '../../crypto/aead.ts';
import { DOMAIN } from '../../crypto/domains.ts';
import type { DeviceSigningKey, DocumentKey } from '../../crypto/keys.ts';
import { encodeSnapshot, encodeSnapshotHeader, SNAPSHOT_VERSION, type SnapshotHeader } from '../../protocol/snapshot.ts';
import { encodeSnapshotBody, snapshotIdOf, type SnapshotBody } from './snapshotBody.ts';

export type SealSnapshotInput = Omit<SnapshotHeader, 'version' | 'snapshotId'> & { body: SnapshotBody };

export function sealSnapshot(input: SealSnapshotInput, documentKey: DocumentKey, signingKey: DeviceSigningKey): { bytes: Uint8Array; header: SnapshotHeader } {
  const { body, ...fields } = input;
  const covers = [...fields.covers].sort((a, b) => (a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0));
  const header: SnapshotHeader = { ...fields, covers, version: SNAPSHOT_VERSION, snapshotId: snapshotIdOf(documentKey, body.heads) };
  const headerBytes = encodeSnapshotHeader(header);
  const sealed = seal(documentKey, encodeSnapshotBody({ ...body, heads: [...body.heads].sort() }), DOMAIN.snapshotBody, headerBytes);
  return { bytes: encodeSnapshot(headerBytes, sealed, signingKey), header };
}
