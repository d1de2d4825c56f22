// Opening a snapshot (src/docs/snapshots/): every way a snapshot can be wrong is refused with a stable
// reason, before Automerge sees anything it could choke on; provenance is kept only where the actor
// recomputes from the named device's key.
import * as A from '@automerge/automerge';
import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/crypto/bytes.ts';
import { documentKey } from '../../src/identity/workspace/epochKeys.ts';
import { boundedDocumentError } from '../../src/docs/snapshots/boundedDoc.ts';
import { openSnapshot } from '../../src/docs/snapshots/openSnapshot.ts';
import { sealSnapshot } from '../../src/docs/snapshots/sealSnapshot.ts';
import { decodeSnapshotBody, encodeSnapshotBody, type SnapshotProvenance } from '../../src/docs/snapshots/snapshotBody.ts';
import { FixtureAuthority, makeDevice, type TestDevice } from './fixtures.ts';

const DOC = '2kXmYAFHvQpQB2dCopQKGXxz8rTT'; // a valid automerge-repo document id
const alice = makeDevice('alice');
const bob = makeDevice('bob');
const rita = makeDevice('rita');
const eve = makeDevice('eve');
const auth = new FixtureAuthority().add(alice).add(bob).add(rita, 'reader');

function docBy(d: TestDevice, text: string): A.Doc<{ text: string }> {
  return A.from({ text }, { actor: d.actor });
}

function seal(o: { by?: TestDevice; doc?: A.Doc<unknown>; heads?: string[]; docBytes?: Uint8Array; provenance?: SnapshotProvenance[]; docId?: string } = {}): Uint8Array {
  const by = o.by ?? alice;
  const docId = o.docId ?? DOC;
  const doc = o.doc ?? docBy(alice, 'dose 5mg');
  return sealSnapshot(
    {
      workspaceId: auth.workspaceId, docId, deviceId: by.deviceId, epoch: 0, claimedTime: 1, logIndex: 0, logHead: new Uint8Array(32),
      covers: [{ deviceId: alice.deviceId, seq: 1 }],
      body: { heads: o.heads ?? A.getHeads(doc), doc: o.docBytes ?? A.save(doc), provenance: o.provenance ?? [] },
    },
    documentKey(auth.epochKeys.get(0)!, docId),
    by.signingKey,
  ).bytes;
}

describe('opening a snapshot', () => {
  it('an honest snapshot opens with its document and heads', () => {
    const doc = docBy(alice, 'dose 5mg');
    const r = openSnapshot(seal({ doc }), auth, DOC);
    expect(r.ok && (r.value.doc as { text: string }).text).toBe('dose 5mg');
    expect(r.ok && r.value.heads).toEqual([...A.getHeads(doc)].sort());
  });

  it('a snapshot signed by an outsider, a reader or with a flipped bit is refused', () => {
    expect(openSnapshot(seal({ by: eve }), auth)).toMatchObject({ ok: false, reason: 'unknown_device' });
    expect(openSnapshot(seal({ by: rita }), auth)).toMatchObject({ ok: false, reason: 'no_write_permission' });
    const bytes = seal();
    bytes[bytes.length - 100]! ^= 1;
    expect(openSnapshot(bytes, auth).ok).toBe(false);
    const forged = seal();
    forged[forged.length - 1]! ^= 1; // the signature
    expect(openSnapshot(forged, auth)).toMatchObject({ ok: false, reason: 'bad_signature' });
  });

  it('a snapshot whose signed heads are not its document heads, or for another document, is refused', () => {
    const doc = docBy(alice, 'dose 5mg');
    const other = A.change(A.clone(doc), d => (d.text = 'dose 50mg'));
    expect(openSnapshot(seal({ doc, heads: A.getHeads(other) }), auth)).toMatchObject({ ok: false, reason: 'snapshot_heads_mismatch' });
    expect(openSnapshot(seal(), auth, '2aNkhsQXEZ5TNo3DGSbvPMfei4Pi')).toMatchObject({ ok: false, reason: 'snapshot_malformed' });
  });

  it('document bytes Automerge would choke on are refused before it sees them: a DEFLATE bomb, several chunks, garbage', () => {
    const doc = docBy(alice, 'x'.repeat(2000));
    const saved = A.save(doc);
    expect(boundedDocumentError(saved)).toBeUndefined();
    // One column claiming 4 MiB of zeros in 4 KiB of DEFLATE, against a 1 MiB bound.
    expect(boundedDocumentError(withBombColumn(saved), 1024 * 1024)).toMatch(/inflate beyond/);
    const change = A.getLastLocalChange(A.change(doc, d => (d.text = 'y')))!;
    expect(boundedDocumentError(new Uint8Array([...saved, ...change]))).toBe('not exactly one chunk');
    expect(boundedDocumentError(change)).toBe('not a document chunk');
    expect(boundedDocumentError(new Uint8Array(64))).toBe('not an Automerge chunk');
    expect(openSnapshot(seal({ doc, docBytes: new Uint8Array([...saved, ...change]) }), auth)).toMatchObject({ ok: false, reason: 'snapshot_doc_malformed' });
  });

  it("provenance is kept only where the actor recomputes from the device's key, and the user comes from the reader's log", () => {
    const doc = docBy(alice, 'dose 5mg');
    const honest = { deviceId: alice.deviceId, seq: 1, claimedTime: 5, sessionNonce: toHex(alice.sessionNonce), seqs: [1] };
    const stranger = { deviceId: eve.deviceId, seq: 1, claimedTime: 5, sessionNonce: toHex(eve.sessionNonce), seqs: [1] };
    const r = openSnapshot(seal({ doc, provenance: [honest, stranger] }), auth);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.provenance).toHaveLength(1);
    expect(r.value.provenance[0]).toMatchObject({ deviceId: alice.deviceId, userId: 'alice', actor: alice.actor, viaSnapshot: alice.deviceId });
    expect(r.value.provenanceDropped).toBe(1);
  });

  it('a body that is cut short or carries trailing bytes is refused, never half-read', () => {
    const body = encodeSnapshotBody({ heads: [], doc: new Uint8Array([1, 2, 3]), provenance: [{ deviceId: 'd', seq: 1, claimedTime: 1, sessionNonce: '00'.repeat(16), seqs: [1, 2] }] });
    expect(decodeSnapshotBody(body).ok).toBe(true);
    for (let cut = 0; cut < body.length; cut++) expect(decodeSnapshotBody(body.subarray(0, cut)).ok).toBe(false);
    expect(decodeSnapshotBody(new Uint8Array([...body, 0])).ok).toBe(false);
  });
});

/** The saved document with its first DEFLATE column replaced by a bomb (the checksum no longer matters: we refuse first). */
function withBombColumn(saved: Uint8Array): Uint8Array {
  const bomb = deflateRawSync(Buffer.alloc(4 * 1024 * 1024));
  // Rebuild the chunk: same actors and heads, one op column flagged DEFLATE holding the bomb.
  let off = 9;
  const uleb = () => {
    let v = 0, mul = 1;
    for (;;) {
      const b = saved[off++]!;
      v += (b & 0x7f) * mul;
      if (!(b & 0x80)) return v;
      mul *= 128;
    }
  };
  uleb(); // length
  const start = off;
  const actors = uleb();
  for (let i = 0; i < actors; i++) {
    const len = uleb();
    off += len;
  }
  const heads = uleb();
  off += heads * 32;
  const prefix = saved.subarray(start, off);
  const enc = (n: number) => {
    const out: number[] = [];
    do {
      let b = n & 0x7f;
      n = Math.floor(n / 128);
      if (n) b |= 0x80;
      out.push(b);
    } while (n);
    return out;
  };
  const contents = new Uint8Array([...prefix, 0, 1, ...enc((1 << 4) | 0b1000 | 5), ...enc(bomb.length), ...bomb]);
  return new Uint8Array([...saved.subarray(0, 8), 0, ...enc(contents.length), ...contents]);
}
