import { describe, expect, it } from 'vitest';
import type { StorageKey } from '@automerge/automerge-repo';
import { decodeEnvelope } from '../../src/protocol/envelope.ts';
import { EncryptedStorageAdapter } from '../../src/docs/storage/EncryptedStorageAdapter.ts';
import { FixtureAuthority, makeDevice } from './fixtures.ts';
import { newProfile, openSession } from './sessionFixtures.ts';

describe('sealing cost and sequence numbers', () => {
  it('alice seals 200 single-change envelopes without ever scanning her outbox (cost per seal stays flat)', async () => {
    const alice = makeDevice('alice');
    const auth = new FixtureAuthority().add(alice);
    const profile = newProfile();
    const ranges: string[] = [];
    const loadRange = profile.stateStorage.loadRange.bind(profile.stateStorage);
    profile.stateStorage.loadRange = (prefix: StorageKey) => {
      ranges.push(prefix.join('/'));
      return loadRange(prefix);
    };
    const a = await openSession(alice, auth, profile, 0);
    const { docId } = await a.session.create<{ n: number }>({ n: 0 });
    await a.session.flushDoc(docId);
    ranges.length = 0;
    const t0 = performance.now();
    for (let i = 1; i <= 200; i++) await a.session.change<{ n: number }>(docId, d => void (d.n = i));
    const ms = performance.now() - t0;
    expect(ranges.filter(r => r.includes('outbox'))).toEqual([]);
    const seqs = (await a.session.outbox.pending(docId)).map(e => e.seq);
    expect(seqs).toEqual(Array.from({ length: 201 }, (_, i) => i + 1));
    console.log(`200 single-change seals: ${ms.toFixed(0)} ms`);
    await a.session.close();
  });

  it('a crash between writing an envelope and its cursor: the next seal skips the orphan seq instead of reusing it', async () => {
    const alice = makeDevice('alice');
    const auth = new FixtureAuthority().add(alice);
    const profile = newProfile();
    const a = await openSession(alice, auth, profile, 0);
    const { docId } = await a.session.create<{ n: number }>({ n: 0 });
    await a.session.change<{ n: number }>(docId, d => void (d.n = 1));
    await a.session.close();
    // Roll the own-device cursor back one seq, as if the process died right after the outbox write.
    const state = await EncryptedStorageAdapter.open(profile.stateStorage, profile.dataKey);
    if (!state.ok) throw new Error(state.reason);
    const seqs = (await a.session.outbox.pending(docId)).map(e => e.seq);
    const last = seqs[seqs.length - 1]!;
    await state.value.save(['cloister-cursor', alice.deviceId, docId], new TextEncoder().encode(JSON.stringify({ last: last - 1 })));

    const b = await openSession(alice, auth, profile, 0);
    await b.session.open(docId);
    await b.session.change<{ n: number }>(docId, d => void (d.n = 2));
    const headers = (await b.session.outbox.pending(docId)).map(e => {
      const h = decodeEnvelope(e.bytes);
      if (!h.ok) throw new Error(h.reason);
      return h.value.header.seq;
    });
    expect(headers).toEqual([...seqs, last + 1]);
    await b.session.close();
  });

  it('an orphan the relay acked before its cursor was saved is taken into the cursor before it leaves the outbox, so its seq is never sealed again', async () => {
    const alice = makeDevice('alice');
    const auth = new FixtureAuthority().add(alice);
    const profile = newProfile();
    const a = await openSession(alice, auth, profile, 0);
    const { docId } = await a.session.create<{ n: number }>({ n: 0 });
    await a.session.change<{ n: number }>(docId, d => void (d.n = 1));
    await a.session.close();
    const state = await EncryptedStorageAdapter.open(profile.stateStorage, profile.dataKey);
    if (!state.ok) throw new Error(state.reason);
    const seqs = (await a.session.outbox.pending(docId)).map(e => e.seq);
    const last = seqs[seqs.length - 1]!;
    // The sealing process died after the outbox write, before the cursor save...
    await state.value.save(['cloister-cursor', alice.deviceId, docId], new TextEncoder().encode(JSON.stringify({ last: last - 1 })));

    // ...and another process of the profile pushed that envelope and got its ack.
    const b = await openSession(alice, auth, profile, 0);
    await b.session.open(docId);
    for (const seq of seqs) await b.session.retireFromOutbox(docId, seq);
    expect(await b.session.outbox.pending(docId)).toEqual([]);

    await b.session.change<{ n: number }>(docId, d => void (d.n = 2));
    const next = (await b.session.outbox.pending(docId)).map(e => e.seq);
    expect(next).toEqual([last + 1]);
    await b.session.close();
  });
});
