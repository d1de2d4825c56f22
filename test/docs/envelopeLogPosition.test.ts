// DESIGN → Fork detection in the data plane: every envelope header names the membership-log index and
// head its author had; a reader behind (shorter chain) holds it as curable, a reader with another
// entry at that index refuses it as a forked log.
import * as A from '@automerge/automerge';
import { generateAutomergeUrl, parseAutomergeUrl } from '@automerge/automerge-repo';
import { describe, expect, it } from 'vitest';
import { randomBytes, toBase64url } from '../../src/crypto/bytes.ts';
import { openEnvelope } from '../../src/docs/envelope/openEnvelope.ts';
import { ENVELOPE_REJECTION_CODES } from '../../src/docs/rejections.ts';
import { decodeEnvelope, decodeEnvelopeHeader, encodeEnvelopeHeader, ENVELOPE_VERSION, type EnvelopeHeader } from '../../src/protocol/envelope.ts';
import { FixtureAuthority, MapSeqView, makeDevice, sealAs, someChanges } from './fixtures.ts';
import { openSession } from './sessionFixtures.ts';

/** The fixture membership plus a chain of entry ids the test extends (what LiveWorkspace reads from state.order). */
class ChainAuthority extends FixtureAuthority {
  chain: string[] = [];
  logEntryAt(index: number): string | undefined {
    return this.chain[index];
  }
}

const entryId = () => randomBytes(32);
const newDocId = () => parseAutomergeUrl(generateAutomergeUrl()).documentId;

describe('envelope log position (data-plane fork detection)', () => {
  const alice = makeDevice('alice');
  const bob = makeDevice('bob');

  it('the header round-trips logIndex and logHead, and a header cut anywhere in them is malformed', () => {
    const logHead = entryId();
    const h: EnvelopeHeader = {
      version: ENVELOPE_VERSION, workspaceId: 'ws', docId: 'd', deviceId: 'dev', epoch: 3, seq: 7, leaseId: 'l',
      claimedTime: 1_700_000_000_000, sessionNonce: new Uint8Array(16).fill(9), logIndex: 0xffff_fffe, logHead,
    };
    const bytes = encodeEnvelopeHeader(h);
    expect(ENVELOPE_VERSION).toBe(2);
    expect(decodeEnvelopeHeader(bytes)).toEqual({ ok: true, value: h });
    for (let n = bytes.length - 36; n < bytes.length; n++) expect(decodeEnvelopeHeader(bytes.subarray(0, n)).ok).toBe(false);
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);
    expect(decodeEnvelopeHeader(longer).ok).toBe(false);
    expect(() => encodeEnvelopeHeader({ ...h, logHead: new Uint8Array(31) })).toThrow(RangeError);
    expect(() => encodeEnvelopeHeader({ ...h, logIndex: -1 })).toThrow(RangeError);
    // and through a whole sealed envelope
    const env = sealAs(new FixtureAuthority().add(alice), alice, 'doc-1', 1, someChanges(alice.actor, 1), { logIndex: 5, logHead });
    const d = decodeEnvelope(env.bytes);
    expect(d.ok && d.value.header.logIndex).toBe(5);
    expect(d.ok && toBase64url(d.value.header.logHead)).toBe(toBase64url(logHead));
  });

  it('an envelope naming a log index the reader lacks is log_position_unknown, and opens once its chain reaches it', () => {
    const auth = new ChainAuthority().add(alice).add(bob);
    const ids = [entryId(), entryId(), entryId()];
    auth.chain = ids.slice(0, 2).map(toBase64url);
    const env = sealAs(auth, alice, 'doc-1', 1, someChanges(alice.actor, 2), { logIndex: 2, logHead: ids[2]! });
    const behind = openEnvelope(env.bytes, auth, new MapSeqView());
    expect(behind).toMatchObject({ ok: false, reason: 'log_position_unknown' });
    expect(ENVELOPE_REJECTION_CODES).toContain('log_position_unknown');
    auth.chain = ids.map(toBase64url);
    expect(openEnvelope(env.bytes, auth, new MapSeqView()).ok).toBe(true);
    // an author behind the reader names an older index that the reader holds: fine
    const older = sealAs(auth, alice, 'doc-2', 1, someChanges(alice.actor, 1), { logIndex: 0, logHead: ids[0]! });
    expect(openEnvelope(older.bytes, auth, new MapSeqView()).ok).toBe(true);
  });

  it('an envelope naming a different head at an index the reader holds is log_fork', () => {
    const auth = new ChainAuthority().add(alice).add(bob);
    auth.chain = [entryId(), entryId()].map(toBase64url);
    const env = sealAs(auth, alice, 'doc-1', 1, someChanges(alice.actor, 2), { logIndex: 1, logHead: entryId() });
    const r = openEnvelope(env.bytes, auth, new MapSeqView());
    expect(r).toMatchObject({ ok: false, reason: 'log_fork' });
    expect(ENVELOPE_REJECTION_CODES).toContain('log_fork');
  });

  it('a forged log position cannot raise the alarm: the signature is checked first', () => {
    const auth = new ChainAuthority().add(alice).add(bob);
    auth.chain = [toBase64url(entryId())];
    const env = sealAs(auth, alice, 'doc-1', 1, someChanges(alice.actor, 1), { logIndex: 0, logHead: entryId() });
    const tampered = env.bytes.slice();
    tampered[tampered.length - 1]! ^= 1;
    expect(openEnvelope(tampered, auth, new MapSeqView())).toMatchObject({ ok: false, reason: 'bad_signature' });
  });

  it('a session quarantines an envelope from ahead of its chain as log_position_unknown and applies it after the chain catches up', async () => {
    const auth = new ChainAuthority().add(alice).add(bob);
    const ids = [entryId(), entryId()];
    auth.chain = [toBase64url(ids[0]!)];
    const b = await openSession(bob, auth);
    const docId = newDocId();
    const changes = A.getAllChanges(A.from({ title: 'from the future of the log' }, { actor: alice.actor }));
    const env = sealAs(auth, alice, docId, 1, changes, { logIndex: 1, logHead: ids[1]! });
    const first = await b.session.applyRemote([env.bytes]);
    expect(first.rejected.map(r => r.reason)).toEqual(['log_position_unknown']);
    expect((await b.session.quarantine.list()).map(q => q.reason)).toEqual(['log_position_unknown']);
    // nothing cured yet: still there
    expect(await b.session.retryCurable()).toBeUndefined();
    auth.chain = ids.map(toBase64url); // a membership-log sync brought entry 1
    const retried = await b.session.retryCurable();
    expect(retried?.applied).toHaveLength(1);
    expect(retried?.rejected).toEqual([]);
    expect(await b.session.quarantine.list()).toEqual([]);
    await b.session.close();
  });

  it('a session quarantines an envelope naming another entry at a held index as log_fork, and a retry does not cure it', async () => {
    const auth = new ChainAuthority().add(alice).add(bob);
    auth.chain = [toBase64url(entryId())];
    const b = await openSession(bob, auth);
    const changes = A.getAllChanges(A.from({ title: 'from a forked log' }, { actor: alice.actor }));
    const env = sealAs(auth, alice, newDocId(), 1, changes, { logIndex: 0, logHead: entryId() });
    const r = await b.session.applyRemote([env.bytes]);
    expect(r.rejected.map(x => x.reason)).toEqual(['log_fork']);
    auth.chain.push(toBase64url(entryId()));
    expect(await b.session.retryCurable()).toBeUndefined();
    expect((await b.session.quarantine.list()).map(q => q.reason)).toEqual(['log_fork']);
    await b.session.close();
  });
});
