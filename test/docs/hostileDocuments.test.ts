// Hostile documents contained (issue 9, DESIGN → Hostile change bytes): a member signs changes that
// make Automerge panic, compressed chunks (an inflate bomb), changes under an epoch nobody has a key
// for, or changes whose dependency never arrives; and a stored document gets corrupted on disk. The
// victim keeps every other document, the culprit is quarantined with its reason, and a damaged
// document is reported, never replaced by an empty one. Sync times are printed, not asserted.
import * as A from '@automerge/automerge';
import { generateAutomergeUrl, parseAutomergeUrl, Repo, type DocumentId } from '@automerge/automerge-repo';
import { afterEach, describe, expect, it } from 'vitest';
import { DamagedDocumentError } from '../../src/docs/DamagedDocumentError.ts';
import { DocSession } from '../../src/docs/DocSession.ts';
import { MAX_PENDING_PER_DEVICE_DOC } from '../../src/docs/pending.ts';
import { EncryptedStorageAdapter } from '../../src/docs/storage/EncryptedStorageAdapter.ts';
import { FixtureAuthority, makeDevice, sealAs, type TestDevice } from './fixtures.ts';
import { compressedBomb, rewriteSeq } from './hostileChanges.ts';
import { newProfile, type Profile } from './sessionFixtures.ts';

type Note = { title: string; notes: string };

const open: DocSession[] = [];
afterEach(async () => {
  for (const s of open.splice(0)) await s.close().catch(() => undefined);
});

async function session(device: TestDevice, auth: FixtureAuthority, profile: Profile = newProfile()) {
  const storage = await EncryptedStorageAdapter.open(profile.repoStorage, profile.dataKey);
  const state = await EncryptedStorageAdapter.open(profile.stateStorage, profile.dataKey);
  if (!storage.ok || !state.ok) throw new Error('storage');
  const repo = new Repo({ storage: storage.value, network: [], sharePolicy: async () => false });
  const s = new DocSession({
    repo, state: state.value, lock: profile.lock, authority: auth, currentEpoch: () => 0, logPosition: () => ({ index: 0, head: new Uint8Array(32) }), flushWindowMs: 5,
    device: { deviceId: device.deviceId, userId: device.userId, signingKey: device.signingKey, signingPub: device.signingPub },
  });
  open.push(s);
  return { s, profile };
}

async function closeSession(s: DocSession): Promise<void> {
  open.splice(open.indexOf(s), 1);
  await s.close();
}

/** Alice's two records, as the victim holds them; returns their ids and what she sees. */
async function aliceWithRecords(alice: TestDevice, auth: FixtureAuthority) {
  const a = await session(alice, auth);
  const shared = await a.s.create<Note>({ title: 'dose', notes: 'pharmacy confirmed' });
  const other = await a.s.create<Note>({ title: 'room', notes: '4' });
  await a.s.flush();
  return { ...a, shared: shared.docId, other: other.docId };
}

const view = async (s: DocSession, id: string) => {
  const h = await s.open<Note>(id);
  return h && { title: String(h.doc().title), notes: String(h.doc().notes) };
};

async function timed<T>(label: string, fn: () => Promise<T>): Promise<T> {
  const t0 = performance.now();
  const r = await fn();
  console.log(`${label}: ${(performance.now() - t0).toFixed(1)} ms`);
  return r;
}

/** Bob's copy of a document alice sent, with bob's session actor. */
const bobsCopy = async (a: DocSession, id: string, bob: TestDevice) => A.load<Note>(A.save((await a.open<Note>(id))!.doc()), { actor: bob.actor });

describe('hostile documents contained', () => {
  it("a member's change that makes Automerge panic is quarantined and everyone's records stay", async () => {
    const alice = makeDevice('alice');
    const bob = makeDevice('bob');
    const auth = new FixtureAuthority().add(alice).add(bob);
    const a = await aliceWithRecords(alice, auth);
    let doc = await bobsCopy(a.s, a.shared, bob);
    doc = A.change(doc, d => (d.notes = 'pharmacy confirmed twice'));
    const honest = A.getLastLocalChange(doc)!;
    doc = A.change(doc, d => (d.title = 'overdose'));
    const rewritten = rewriteSeq(A.getLastLocalChange(doc)!, 7); // seq 2 claimed as 7, checksum fixed
    const envs = [sealAs(auth, bob, a.shared, 1, [honest]).bytes, sealAs(auth, bob, a.shared, 2, [rewritten]).bytes];

    const report = await timed('seq-byte panic: applyRemote', () => a.s.applyRemote(envs));
    expect(report.rejected.map(r => r.reason)).toEqual(['automerge_rejected']);
    expect(report.applied.map(x => x.seq)).toEqual([1]);
    expect(await view(a.s, a.shared)).toEqual({ title: 'dose', notes: 'pharmacy confirmed twice' });
    expect(await view(a.s, a.other)).toEqual({ title: 'room', notes: '4' });
    const q = await a.s.quarantine.list();
    expect(q.map(e => e.reason)).toEqual(['automerge_rejected']);
    expect(q[0]!.detail).toBeTruthy();
    // Delivered again (the next sync): a no-op, not a second panic.
    const again = await timed('seq-byte panic: redelivery', () => a.s.applyRemote(envs));
    expect(again.rejected).toEqual([]);
    expect(again.applied).toEqual([]);

    // What was saved loads back: a new session on the same disk sees the same records, nothing damaged.
    await closeSession(a.s);
    const a2 = await session(alice, auth, a.profile);
    expect(await view(a2.s, a.shared)).toEqual({ title: 'dose', notes: 'pharmacy confirmed twice' });
    expect(await view(a2.s, a.other)).toEqual({ title: 'room', notes: '4' });
    expect(await a2.s.damaged.list()).toEqual([]);
  });

  it('a compressed change (an inflate bomb) or a document chunk posing as a change is refused unread', async () => {
    const alice = makeDevice('alice');
    const bob = makeDevice('bob');
    const auth = new FixtureAuthority().add(alice).add(bob);
    const a = await aliceWithRecords(alice, auth);
    let doc = await bobsCopy(a.s, a.shared, bob);
    doc = A.change(doc, d => (d.notes = 'bomb'));
    const bomb = compressedBomb(A.getLastLocalChange(doc)!, 64 * 1024 * 1024);
    expect(bomb.length).toBeLessThan(256 * 1024);
    const docChunk = A.save(doc); // chunk type 0
    const heapBefore = process.memoryUsage().heapUsed;
    const report = await timed('inflate bomb: applyRemote', () =>
      a.s.applyRemote([sealAs(auth, bob, a.shared, 1, [bomb]).bytes, sealAs(auth, bob, a.other, 1, [docChunk]).bytes]));
    console.log(`inflate bomb: heap grew ${((process.memoryUsage().heapUsed - heapBefore) / 1048576).toFixed(1)} MiB`);
    expect(report.rejected.map(r => r.reason).sort()).toEqual(['changes_compressed', 'changes_malformed']);
    expect(report.applied).toEqual([]);
    expect(await view(a.s, a.shared)).toEqual({ title: 'dose', notes: 'pharmacy confirmed' });
    expect(await view(a.s, a.other)).toEqual({ title: 'room', notes: '4' });
    expect((await a.s.quarantine.list()).map(e => e.reason).sort()).toEqual(['changes_compressed', 'changes_malformed']);
  });

  it('an envelope under an epoch nobody has a key for is quarantined, and applied once that key arrives', async () => {
    const alice = makeDevice('alice');
    const bob = makeDevice('bob');
    const auth = new FixtureAuthority().add(alice).add(bob);
    const a = await aliceWithRecords(alice, auth);
    let doc = await bobsCopy(a.s, a.shared, bob);
    doc = A.change(doc, d => (d.notes = 'written under epoch 3'));
    const env = sealAs(auth, bob, a.shared, 1, [A.getLastLocalChange(doc)!], { epoch: 3 }).bytes;
    const report = await timed('unknown epoch: applyRemote', () => a.s.applyRemote([env]));
    expect(report.rejected.map(r => r.reason)).toEqual(['unknown_epoch']);
    expect(await a.s.retryCurable()).toBeUndefined(); // still no key: nothing to retry
    // The key arrives with a log sync (sealAs derives document keys from epoch 0's key).
    auth.epochKeys.set(3, auth.epochKeys.get(0)!);
    const retried = await a.s.retryCurable();
    expect(retried!.applied.map(x => x.seq)).toEqual([1]);
    expect(await a.s.quarantine.list()).toEqual([]);
    expect(await view(a.s, a.shared)).toEqual({ title: 'dose', notes: 'written under epoch 3' });
  });

  it(`changes whose dependency never arrives wait, at most ${MAX_PENDING_PER_DEVICE_DOC} per device and document; past that they are quarantined as dependency_missing`, async () => {
    const alice = makeDevice('alice');
    const bob = makeDevice('bob');
    const carol = makeDevice('carol');
    const auth = new FixtureAuthority().add(alice).add(bob).add(carol);
    const a = await aliceWithRecords(alice, auth);
    // Carol edits and never sends it; bob builds on carol's edit.
    let doc = A.merge(await bobsCopy(a.s, a.shared, bob), A.change(A.load<Note>(A.save(await bobsCopy(a.s, a.shared, bob)), { actor: carol.actor }), d => (d.title = 'carol')));
    const n = MAX_PENDING_PER_DEVICE_DOC + 3;
    const envs: Uint8Array[] = [];
    for (let i = 1; i <= n; i++) {
      doc = A.change(doc, d => (d.notes = `bob ${i}`));
      envs.push(sealAs(auth, bob, a.shared, i, [A.getLastLocalChange(doc)!]).bytes);
    }
    const report = await timed(`dependency never arrives (${n} envelopes): applyRemote`, () => a.s.applyRemote(envs));
    expect(report.held).toHaveLength(MAX_PENDING_PER_DEVICE_DOC);
    expect(report.rejected.map(r => r.reason)).toEqual(['dependency_missing', 'dependency_missing', 'dependency_missing']);
    expect(await a.s.pending.list(a.shared)).toHaveLength(MAX_PENDING_PER_DEVICE_DOC);
    expect(await view(a.s, a.shared)).toEqual({ title: 'dose', notes: 'pharmacy confirmed' });
    expect(await view(a.s, a.other)).toEqual({ title: 'room', notes: '4' });
    // Alice keeps editing the document meanwhile; the waiting ones are retried with it and still wait.
    await a.s.change<Note>(a.shared, d => (d.notes = 'alice still edits'));
    const later = await timed('dependency never arrives: next envelope for the document', () =>
      a.s.applyRemote([sealAs(auth, carol, a.other, 1, [A.getLastLocalChange(A.change(A.load<Note>(A.save(doc), { actor: carol.actor }), d => (d.title = 'x')))!]).bytes]));
    expect(later.rejected).toEqual([]);
    expect(await view(a.s, a.shared)).toEqual({ title: 'dose', notes: 'alice still edits' });
  });

  it('a stored document whose bytes are corrupted on disk is reported damaged, never replaced by an empty one', async () => {
    const alice = makeDevice('alice');
    const bob = makeDevice('bob');
    const auth = new FixtureAuthority().add(alice).add(bob);
    const a = await aliceWithRecords(alice, auth);
    const bobDoc = A.change(await bobsCopy(a.s, a.shared, bob), d => (d.notes = 'after the damage'));
    await closeSession(a.s);

    // Corrupt the Automerge bytes inside the (validly encrypted) chunks of one document.
    const disk = await EncryptedStorageAdapter.open(a.profile.repoStorage, a.profile.dataKey);
    if (!disk.ok) throw new Error('storage');
    const chunks = await disk.value.loadRange([a.shared]);
    expect(chunks.length).toBeGreaterThan(0);
    for (const c of chunks) {
      const bad = c.data!.slice();
      bad[bad.length >> 1]! ^= 0xff;
      await disk.value.save(c.key, bad);
    }
    const stored = async () => (await disk.value.loadRange([a.shared])).map(c => [c.key.join('/'), Buffer.from(c.data!).toString('hex')]).sort();
    const corrupted = await stored();

    const a2 = await session(alice, auth, a.profile);
    const err = await a2.s.open(a.shared).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(DamagedDocumentError);
    expect((err as DamagedDocumentError).docId).toBe(a.shared);
    expect((err as DamagedDocumentError).reason).toBe('document_unreadable');
    expect((await a2.s.damaged.list()).map(d => [d.docId, d.reason])).toEqual([[a.shared, 'document_unreadable']]);
    expect(await view(a2.s, a.other)).toEqual({ title: 'room', notes: '4' });
    // A change for it arrives: it waits; nothing is applied to (or saved over) the damaged document.
    const report = await timed('damaged document: applyRemote', () =>
      a2.s.applyRemote([sealAs(auth, bob, a.shared, 1, [A.getLastLocalChange(bobDoc)!]).bytes]));
    expect(report.held.map(h => h.why)).toEqual(['doc_damaged']);
    expect(report.applied).toEqual([]);
    await closeSession(a2.s);
    expect(await stored()).toEqual(corrupted);

    // Still damaged in the next session (the registry is on disk), and still not replaced.
    const a3 = await session(alice, auth, a.profile);
    expect((await a3.s.damaged.list()).map(d => d.docId)).toEqual([a.shared]);
    await expect(a3.s.open(a.shared)).rejects.toBeInstanceOf(DamagedDocumentError);
    await closeSession(a3.s);
    expect(await stored()).toEqual(corrupted);
  });

  it('a document known here with nothing stored yet still starts empty (not damaged)', async () => {
    const alice = makeDevice('alice');
    const auth = new FixtureAuthority().add(alice);
    const a = await session(alice, auth);
    const id = parseAutomergeUrl(generateAutomergeUrl()).documentId as DocumentId;
    const h = await a.s.open<Note>(id, true);
    expect(h).toBeDefined();
    expect(await a.s.damaged.list()).toEqual([]);
  });
});
