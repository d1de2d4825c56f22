// Fewer small state files per pull pass (docs/PERFORMANCE.md, cold_join): provenance is written as one
// chunk per document per pass, cursors as one record per (device, document) with their newest hashes
// inside, and the atomic file adapter remembers the directories it made. Who made each change, and
// every replay check, must read exactly as before, including from profiles written the old way.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { StorageKey } from '@automerge/automerge-repo';
import { afterAll, describe, expect, it } from 'vitest';
import { utf8 } from '../../src/crypto/bytes.ts';
import { AtomicFileStorageAdapter } from '../../src/docs/AtomicFileStorageAdapter.ts';
import { SeqCursors } from '../../src/docs/cursors.ts';
import { ProvenanceStore, snapshotProvenanceHash, type Provenance } from '../../src/docs/provenance.ts';
import { indexDocIdFor } from '../../src/docs/records/indexDocId.ts';
import { openSnapshot } from '../../src/docs/snapshots/openSnapshot.ts';
import { EncryptedStorageAdapter } from '../../src/docs/storage/EncryptedStorageAdapter.ts';
import { MemoryStorageAdapter } from '../../src/docs/storage/MemoryStorageAdapter.ts';
import { asKey, type DataKey } from '../../src/crypto/keys.ts';
import { randomBytes } from '../../src/crypto/bytes.ts';
import { FixtureAuthority, makeDevice, sealAs, someChanges } from './fixtures.ts';
import { newProfile, openSession, outboxOf } from './sessionFixtures.ts';

const DOC = '2kXmYAFHvQpQB2dCopQKGXxz8rTT';

async function encryptedState(): Promise<{ inner: MemoryStorageAdapter; state: EncryptedStorageAdapter }> {
  const inner = new MemoryStorageAdapter();
  const state = await EncryptedStorageAdapter.open(inner, asKey<DataKey>(randomBytes(32)));
  if (!state.ok) throw new Error(state.reason);
  return { inner, state: state.value };
}

const entry = (envelopeHash: string, seq: number, over: Partial<Provenance> = {}): Provenance => ({
  docId: DOC, envelopeHash, deviceId: 'dev-alice', userId: 'alice', seq, claimedTime: 1_000 + seq, actor: 'aa', seqs: [seq], ...over,
});

const hashesOf = (ps: Provenance[]) => ps.map(p => p.envelopeHash).sort();

describe('provenance in one chunk per document per pass', () => {
  it('history still names the device of every change after a cold join that wrote provenance in one chunk per document', async () => {
    const alice = makeDevice('alice');
    const carol = makeDevice('carol');
    const auth = new FixtureAuthority().add(alice).add(carol);
    const a = await openSession(alice, auth, newProfile(), 0);
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) ids.push(await a.records.create({ title: `record ${i}`, fields: { n: String(i) } }));
    const envelopes = await outboxOf(a);
    // The relay acked them all; alice then seals a snapshot of the index (as after her first sync).
    await a.session.retireManyFromOutbox((await a.session.outbox.pending()).map(e => ({ docId: e.docId, seq: e.seq })));
    const indexId = indexDocIdFor(auth.workspaceId);
    const sealed = await a.session.sealSnapshot(indexId);
    expect(sealed).toBeDefined();

    const profile = newProfile();
    const c = await openSession(carol, auth, profile, 0);
    const opened = openSnapshot(sealed!.bytes, c.session.authority, indexId);
    if (!opened.ok) throw new Error(opened.reason);
    expect((await c.session.adoptSnapshots([opened.value])).adopted).toEqual([indexId]);
    expect((await c.session.provenance.list(indexId)).every(p => p.viaSnapshot === alice.deviceId)).toBe(true);

    // Count the state files the pull pass writes (the inner adapter sees each save once).
    let saves = 0;
    const save = profile.stateStorage.save.bind(profile.stateStorage);
    profile.stateStorage.save = (key: StorageKey, data: Uint8Array) => {
      saves++;
      return save(key, data);
    };
    const report = await c.session.applyRemote(envelopes);
    expect(report.rejected).toEqual([]);
    profile.stateStorage.save = save;
    // Per record document: its "known" marker, one provenance chunk, one cursor record; plus the same for the index.
    expect(saves).toBeLessThanOrEqual(3 * (ids.length + 1));

    for (const id of ids) {
      const history = await c.records.history(id);
      expect(history.length).toBeGreaterThan(0);
      for (const h of history) expect(h).toMatchObject({ verified: true, deviceId: alice.deviceId, userId: alice.userId });
    }
    // The index: every envelope's verified entry, and the snapshot's claims about the same seqs dropped.
    const index = await c.session.provenance.list(indexId);
    expect(index.filter(p => p.viaSnapshot)).toEqual([]);
    expect(index.map(p => p.seq).sort((x, y) => x - y)).toEqual(Array.from({ length: ids.length }, (_, i) => i + 1));
    await a.session.close();
    await c.session.close();
  });

  it('a profile written with one provenance file per envelope still reads', async () => {
    const { state } = await encryptedState();
    // As the store wrote them before chunks: [prefix, doc, envelope hash] → one entry.
    for (const e of [entry('h1', 1), entry('h2', 2), entry(snapshotProvenanceHash('dev-alice', 3), 3, { viaSnapshot: 'dev-bob' })])
      await state.save(['cloister-provenance', DOC, e.envelopeHash], utf8(JSON.stringify(e)));
    const store = new ProvenanceStore(state);
    expect(hashesOf(await store.list(DOC))).toEqual(['h1', 'h2', 'snapshot:dev-alice:3']);
    // The verified envelope for seq 3 arrives: its entry and the drop of the snapshot's claim, in one chunk.
    await store.putMany(DOC, [entry('h3', 3)], [snapshotProvenanceHash('dev-alice', 3)]);
    expect(hashesOf(await store.list(DOC))).toEqual(['h1', 'h2', 'h3']);
    await store.remove(DOC, 'h1');
    expect(hashesOf(await store.list(DOC))).toEqual(['h2', 'h3']);
  });

  it('removing one envelope\'s provenance from a batched chunk leaves the others', async () => {
    const { inner, state } = await encryptedState();
    const store = new ProvenanceStore(state);
    await store.putMany(DOC, [entry('h1', 1), entry('h2', 2), entry('h3', 3)]);
    await store.putMany('2aNkhsQXEZ5TNo3DGSbvPMfei4Pi', [entry('other', 1, { docId: '2aNkhsQXEZ5TNo3DGSbvPMfei4Pi' })]);
    const namesBefore = [...(await inner.loadRange([])).map(c => c.key.join('/'))];
    await store.remove(DOC, 'h2');
    expect(hashesOf(await store.list(DOC))).toEqual(['h1', 'h3']);
    expect(hashesOf(await store.list('2aNkhsQXEZ5TNo3DGSbvPMfei4Pi'))).toEqual(['other']);
    // A removal is a new stored name, never a file rewritten in place: the record-summary cache stamps names.
    const namesAfter = (await inner.loadRange([])).map(c => c.key.join('/'));
    expect(namesAfter.length).toBe(namesBefore.length + 1);
    expect(namesAfter).toEqual(expect.arrayContaining(namesBefore));
  });

  it('a re-sealed envelope replaces its old entry in one write, and an entry is never dropped by the chunk that puts it', async () => {
    const { inner, state } = await encryptedState();
    const store = new ProvenanceStore(state);
    await store.put(entry('old', 4));
    const before = (await inner.loadRange([])).length;
    await store.putMany(DOC, [entry('new', 4)], ['old']);
    expect((await inner.loadRange([])).length).toBe(before + 1);
    expect(hashesOf(await store.list(DOC))).toEqual(['new']);
    await store.putMany(DOC, [entry('same', 5)], ['same']);
    expect(hashesOf(await store.list(DOC))).toEqual(['new', 'same']);
    await store.putMany(DOC, [], []);
    expect((await inner.loadRange([])).length).toBe(before + 2);
  });

  it('when two chunks name one envelope, the later one is shown (a second snapshot\'s claim about a seq)', async () => {
    const { state } = await encryptedState();
    const store = new ProvenanceStore(state);
    const h = snapshotProvenanceHash('dev-alice', 1);
    await store.putMany(DOC, [entry(h, 1, { viaSnapshot: 'dev-bob' })]);
    await store.putMany(DOC, [entry(h, 1, { viaSnapshot: 'dev-carol' })]);
    expect((await store.list(DOC)).map(p => p.viaSnapshot)).toEqual(['dev-carol']);
  });
});

describe('seq cursors keep their newest hashes in one record', () => {
  const alice = makeDevice('alice');
  const auth = new FixtureAuthority().add(alice);
  const changes = someChanges(alice.actor, 40);

  it('a pass that applies an envelope to each of many documents writes one cursor record each, and a re-delivery is still a duplicate', async () => {
    const profile = newProfile();
    const bob = makeDevice('bob');
    const b = await openSession(bob, auth.add(bob), profile, 0);
    const docs = ['2kXmYAFHvQpQB2dCopQKGXxz8rTT', '2aNkhsQXEZ5TNo3DGSbvPMfei4Pi'];
    const envs = docs.map(d => sealAs(auth, alice, d, 1, [changes[0]!]).bytes);
    expect((await b.session.applyRemote(envs)).applied).toHaveLength(2);
    await b.session.close();
    // A later process on the profile: the hashes come from the cursor records alone.
    const again = await openSession(bob, auth, profile, 0);
    const r = await again.session.applyRemote(envs);
    expect(r).toMatchObject({ applied: [], duplicates: 2, rejected: [] });
    // The same seq sealed again (a fresh AEAD nonce, so another envelope hash): a replay.
    const forged = sealAs(auth, alice, docs[0]!, 1, [changes[0]!]).bytes;
    expect((await again.session.applyRemote([forged])).rejected.map(x => x.reason)).toEqual(['seq_replay']);
    await again.session.close();
  });

  it('hashes that fall out of the record move to their own files first, and still tell a re-delivery from a replay', async () => {
    const { state } = await encryptedState();
    const cursors = new SeqCursors(state);
    for (let seq = 1; seq <= 40; seq++) {
      await cursors.load([{ deviceId: 'dev', docId: DOC }]);
      cursors.advance('dev', DOC, seq, `hash-${seq}`);
      await cursors.save();
    }
    const fresh = new SeqCursors(state);
    await fresh.load([1, 8, 9, 20, 40].map(seq => ({ deviceId: 'dev', docId: DOC, seq })));
    expect(fresh.lastSeq('dev', DOC)).toBe(40);
    for (const seq of [1, 8, 9, 20, 40]) expect(fresh.envelopeHashAt('dev', DOC, seq)).toBe(`hash-${seq}`);
    // The record holds only its newest hashes: bounded bytes however long the history.
    const record = JSON.parse(new TextDecoder().decode(await state.load(['cloister-cursor', 'dev', DOC]))) as { hashes: Record<string, string> };
    expect(Object.keys(record.hashes).length).toBeLessThanOrEqual(32);
    expect(await state.load(['cloister-seqhash', 'dev', DOC, String(8).padStart(16, '0')])).toBeDefined();
  });

  it('a cursor written before records held hashes still reads its hashes from their files', async () => {
    const { state } = await encryptedState();
    await state.save(['cloister-cursor', 'dev', DOC], utf8(JSON.stringify({ last: 3 })));
    for (const seq of [1, 2, 3]) await state.save(['cloister-seqhash', 'dev', DOC, String(seq).padStart(16, '0')], utf8(`hash-${seq}`));
    const cursors = new SeqCursors(state);
    await cursors.load([{ deviceId: 'dev', docId: DOC, seq: 2 }]);
    expect(cursors.envelopeHashAt('dev', DOC, 2)).toBe('hash-2');
    cursors.advance('dev', DOC, 4, 'hash-4');
    await cursors.save();
    const again = new SeqCursors(state);
    await again.load([1, 2, 3, 4].map(seq => ({ deviceId: 'dev', docId: DOC, seq })));
    expect([1, 2, 3, 4].map(seq => again.envelopeHashAt('dev', DOC, seq))).toEqual(['hash-1', 'hash-2', 'hash-3', 'hash-4']);
  });
});

describe('the atomic file adapter remembers the directories it made', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'cloister-atomic-'));
    dirs.push(d);
    return d;
  };

  it('a save after another process removed its directory makes the directory again', async () => {
    const dir = tmp();
    const mine = new AtomicFileStorageAdapter(dir);
    const other = new AtomicFileStorageAdapter(dir);
    await mine.save(['a', 'b', 'one'], utf8('1'));
    await other.removeRange(['a']);
    await mine.save(['a', 'b', 'two'], utf8('2'));
    expect(await other.load(['a', 'b', 'two'])).toEqual(utf8('2'));
    expect(await other.load(['a', 'b', 'one'])).toBeUndefined();
  });

  it('a save after its own removeRange, and two processes writing one directory, see each other\'s writes', async () => {
    const dir = tmp();
    const mine = new AtomicFileStorageAdapter(dir);
    const other = new AtomicFileStorageAdapter(dir);
    await mine.save(['x', 'k1'], utf8('1'));
    await mine.removeRange(['x']);
    await mine.save(['x', 'k2'], utf8('2'));
    await other.save(['x', 'k3'], utf8('3'));
    expect((await mine.loadRange(['x'])).map(c => c.key.join('/')).sort()).toEqual(['x/k2', 'x/k3']);
  });
});
