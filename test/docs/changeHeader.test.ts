import * as A from '@automerge/automerge';
import fc from 'fast-check';
import { generateAutomergeUrl, parseAutomergeUrl } from '@automerge/automerge-repo';
import { describe, expect, it } from 'vitest';
import { changeHashOf } from '../../src/docs/envelope/changeHash.ts';
import { changeActorHex, readChangeHeader } from '../../src/docs/envelope/changeHeader.ts';
import { decodeChanges, encodeChanges } from '../../src/docs/envelope/changesCodec.ts';
import { FixtureAuthority, makeDevice, sealAs } from './fixtures.ts';
import { openSession } from './sessionFixtures.ts';

const SEED = 4242;
const newDocId = () => parseAutomergeUrl(generateAutomergeUrl()).documentId;

describe('reading change headers without decoding ops', () => {
  it(`agrees with Automerge's decodeChange on actor, seq and hash for small and large changes (seed ${SEED})`, () => {
    fc.assert(
      fc.property(fc.array(fc.string({ maxLength: 2000 }), { minLength: 1, maxLength: 8 }), texts => {
        let doc = A.init<{ t: string; n: number }>({ actor: 'ab'.repeat(16) });
        for (const [i, t] of texts.entries()) doc = A.change(doc, d => {
          d.t = t;
          d.n = i;
        });
        for (const c of A.getAllChanges(doc)) {
          const d = A.decodeChange(c);
          const h = readChangeHeader(c);
          if (h === 'unsupported') continue; // compressed chunk: openEnvelope refuses it (changes_compressed)
          expect(h).not.toBe('malformed');
          if (h === 'malformed') return;
          expect(changeActorHex(h)).toBe(d.actor);
          expect(h.seq).toBe(d.seq);
          expect(changeHashOf(c)).toBe(d.hash);
        }
      }),
      { seed: SEED, numRuns: 60 },
    );
  });

  it('refuses truncated and non-change bytes', () => {
    const c = A.getAllChanges(A.from({ a: 1 }))[0]!;
    for (let n = 0; n < c.length; n++) expect(readChangeHeader(c.subarray(0, n))).toBe('malformed');
    expect(readChangeHeader(new Uint8Array(20))).toBe('malformed');
  });

  it('the changes codec round-trips and refuses any truncation', () => {
    const changes = [new Uint8Array([1, 2, 3]), new Uint8Array(0), new Uint8Array(300).fill(7)];
    const body = encodeChanges(changes);
    expect(decodeChanges(body)).toEqual({ ok: true, value: changes });
    for (let n = 0; n < body.length; n++) expect(decodeChanges(body.subarray(0, n)).ok).toBe(false);
  });

  it("a member's change that Automerge refuses at apply is quarantined; the rest of the batch still applies", async () => {
    const alice = makeDevice('alice');
    const bob = makeDevice('bob');
    const auth = new FixtureAuthority().add(alice).add(bob);
    const b = await openSession(bob, auth);
    const good = A.getAllChanges(A.from({ title: 'ok' }, { actor: alice.actor }));
    const broken = A.getAllChanges(A.from({ other: 'x' }, { actor: alice.actor }))[0]!.slice();
    broken[broken.length - 3]! ^= 0xff; // in the columns: the header still reads, the checksum no longer matches
    expect(typeof readChangeHeader(broken)).toBe('object');
    const report = await b.session.applyRemote([
      sealAs(auth, alice, newDocId(), 1, [broken]).bytes,
      sealAs(auth, alice, newDocId(), 1, good).bytes,
    ]);
    expect(report.rejected.map(r => r.reason)).toEqual(['automerge_rejected']);
    expect(report.applied).toHaveLength(1);
    expect((await b.session.quarantine.list()).map(q => q.reason)).toEqual(['automerge_rejected']);
    await b.session.close();
  });
});
