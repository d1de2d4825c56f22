import * as A from '@automerge/automerge';
import { describe, expect, it } from 'vitest';
import { toHex, utf8 } from '../../src/crypto/bytes.ts';
import { ENVELOPE_REJECTION_CODES } from '../../src/docs/rejections.ts';
import { FixtureAuthority, makeDevice, sealAs, someChanges } from './fixtures.ts';
import { openSession, outboxOf } from './sessionFixtures.ts';

const alice = makeDevice('alice');
const bob = makeDevice('bob');
const eve = makeDevice('eve');
const auth = new FixtureAuthority().add(alice).add(bob);

const contains = (hay: Uint8Array, needle: Uint8Array): boolean => Buffer.from(hay).includes(Buffer.from(needle));

describe('quarantine', () => {
  it("eve's envelope and a tampered one of alice's are quarantined with their reasons, never applied, and can be exported", async () => {
    const a = await openSession(alice, auth);
    const b = await openSession(bob, auth);
    const id = await a.records.create({ title: 'Q' });
    const good = await outboxOf(a);
    const tampered = good[0]!.slice();
    tampered[tampered.length - 70]! ^= 1; // inside the ciphertext
    const fromEve = sealAs(auth, eve, id, 1, someChanges(eve.actor, 1)).bytes;
    const garbage = utf8('not an envelope');
    const report = await b.session.applyRemote([tampered, fromEve, garbage, ...good]);
    expect(report.rejected.map(r => r.reason).sort()).toEqual(['bad_signature', 'envelope_malformed', 'unknown_device']);
    expect((await b.records.get(id))!.title).toBe('Q');
    const q = await b.session.quarantine.list();
    expect(q.map(e => e.reason).sort()).toEqual(['bad_signature', 'envelope_malformed', 'unknown_device']);
    for (const e of q) expect(ENVELOPE_REJECTION_CODES).toContain(e.reason);
    const exported = await b.session.quarantine.export();
    expect(exported.find(e => e.reason === 'unknown_device')!.description).toMatch(/not known/);
    expect(await b.session.quarantine.countsByReason()).toEqual({ bad_signature: 1, envelope_malformed: 1, unknown_device: 1 });
    await a.session.close();
    await b.session.close();
  });

  it("the session's state storage holds no record plaintext, doc id or change hash in names or bytes", async () => {
    const a = await openSession(alice, auth);
    const b = await openSession(bob, auth);
    const id = await a.records.create({ title: 'Plaintext-Canary-Title', notes: 'canary notes 12345' });
    await b.session.applyRemote(await outboxOf(a));
    await b.session.applyRemote([sealAs(auth, eve, id, 1, someChanges(eve.actor, 1)).bytes]);
    const hashes = A.getAllChanges((await b.session.open<unknown>(id))!.doc()).map(c => A.decodeChange(c).hash);
    expect(hashes.length).toBeGreaterThan(0);
    await a.session.close();
    await b.session.close();
    for (const profile of [a.profile, b.profile]) {
      for (const { key, data } of [...profile.stateStorage.entries(), ...profile.repoStorage.entries()]) {
        const name = key.join('/');
        for (const secret of ['Plaintext-Canary', 'canary notes', id, ...hashes]) {
          expect(name.includes(secret), `${secret} in name`).toBe(false);
          expect(contains(data, utf8(secret)), `${secret} in bytes`).toBe(false);
        }
        for (const h of hashes) expect(contains(data, Buffer.from(h, 'hex')), 'raw change hash in bytes').toBe(false);
        expect(toHex(data).includes(hashes[0]!)).toBe(false);
      }
    }
  });
});
