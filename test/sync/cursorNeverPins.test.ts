// Hostile envelopes through a real relay (issue 9): bob, a writer, pushes validly signed envelopes
// whose changes make Automerge panic, an inflate bomb, an envelope under an epoch nobody has a key
// for, and changes whose dependency never arrives. After each, alice's sync keeps every record she
// had, the culprit is in her quarantine (or parked) with its reason, and her pull cursor moved past
// it: the next sync pulls nothing. DESIGN → Hostile change bytes; The cursor never pins.
import * as A from '@automerge/automerge';
import { afterAll, describe, expect, it } from 'vitest';
import { randomBytes } from '../../src/crypto/bytes.ts';
import { asKey, type EpochKey } from '../../src/crypto/keys.ts';
import { actorFor, newSessionNonce } from '../../src/docs/actor.ts';
import { sealEnvelope } from '../../src/docs/envelope/sealEnvelope.ts';
import { syncStatus } from '../../src/docs/sync/syncStatus.ts';
import { documentKey } from '../../src/identity/workspace/epochKeys.ts';
import { compressedBomb, rewriteSeq } from '../docs/hostileChanges.ts';
import { integrationTimeouts } from '../timeouts.ts';
import { cleanupDirs, createStoredWorkspace, invite, join, makeUser, open, startTestRelay, type Open, type User } from './helpers.ts';

integrationTimeouts();
afterAll(cleanupDirs);

type Note = { title: string; notes: string };

/** Seal `batches` as bob (his real device key, lease and seqs) and queue them in his outbox; his next sync pushes them. */
async function bobSeals(b: Open, bob: User, docId: string, batches: Uint8Array[][], nonce: Uint8Array, o: { epoch?: number; epochKey?: EpochKey } = {}) {
  const docs = b.s.session;
  const dev = bob.vault.device;
  await docs.withLock(async () => {
    await docs.cursors.load([{ deviceId: dev.deviceId, docId }]);
    for (const changes of batches) {
      const seq = docs.cursors.lastSeq(dev.deviceId, docId) + 1;
      const epoch = o.epoch ?? b.s.live.epoch;
      const key = o.epochKey ? documentKey(o.epochKey, docId) : b.s.live.documentKey(epoch, docId)!;
      const env = sealEnvelope(
        { workspaceId: b.s.live.workspaceId, docId, deviceId: dev.deviceId, epoch, seq, leaseId: b.s.lease.leaseId() ?? '', claimedTime: Date.now(), sessionNonce: nonce, logIndex: b.s.live.logPosition().index, logHead: b.s.live.logPosition().head, changes },
        key,
        dev.signingKey,
      );
      await docs.outbox.put(docId, seq, env.bytes);
      docs.cursors.advance(dev.deviceId, docId, seq, env.envelopeHash);
    }
    await docs.cursors.save();
  });
}

describe('hostile envelopes through the relay: contained, and the cursor never pins', () => {
  it("bob's panic, bomb, unknown-epoch and missing-dependency envelopes leave alice's records as they were and her cursor moves past them", async () => {
    const relay = await startTestRelay();
    const [alice, bob] = await Promise.all([makeUser('alice'), makeUser('bob')]);
    const ws = createStoredWorkspace(alice, 'ops', relay.url);
    const code = invite(alice, ws, 'writer');
    const a = await open(alice);
    let b: Open | undefined;
    try {
      await a.engine.syncOnce();
      await join(bob, code, relay.url);
      await a.engine.syncOnce();
      b = await open(bob);
      const docs = a.s.session;
      const ids: string[] = [];
      for (const [title, notes] of [['dose', '2mg'], ['room', '4'], ['host', '10.0.0.2']] as const) ids.push(await a.s.records.create({ title, notes }));
      await a.engine.syncOnce();
      await b.engine.syncOnce();
      const [dose, room, host] = ids as [string, string, string];
      // What alice sees: her record list still shows every record, each with its notes.
      const seen = async () => {
        const list = await a.s.records.list();
        expect(list.map(r => r.id).sort()).toEqual([...ids].sort());
        return Promise.all(ids.map(async id => {
          const r = (await a.s.records.get(id))!;
          return `${r.title}=${r.notes}`;
        }));
      };
      const before = await seen();
      const nonce = newSessionNonce();
      const actor = actorFor(bob.vault.device.signingPub, nonce);
      const bobsCopy = async (id: string) => A.load<Note>(A.save((await b!.s.session.open<Note>(id))!.doc()), { actor });

      /** Bob pushes; alice syncs (timed) and a second sync pulls nothing new. */
      const round = async (label: string, refusedByRelay: Record<string, number> = {}) => {
        const pushed = await b!.engine.syncOnce();
        expect(pushed.rejected).toEqual(refusedByRelay);
        const t0 = performance.now();
        const s = await a.engine.syncOnce();
        console.log(`${label}: alice's sync took ${(performance.now() - t0).toFixed(0)} ms (pulled ${s.pulled}, cursor ${s.cursor})`);
        const next = await a.engine.syncOnce();
        expect(next.pulled, `${label}: the cursor pinned`).toBe(0);
        expect(next.cursor).toBe(s.cursor);
        return s;
      };
      const reasons = async () => (await docs.quarantine.list()).map(q => q.reason).sort();

      // (a) Automerge panics on a change whose seq byte was rewritten (checksum fixed).
      let d = await bobsCopy(dose);
      d = A.change(d, x => (x.notes = '5mg'));
      const honest = A.getLastLocalChange(d)!;
      d = A.change(d, x => (x.notes = '10mg'));
      await bobSeals(b, bob, dose, [[honest], [rewriteSeq(A.getLastLocalChange(d)!, 9)]], nonce);
      const sa = await round('seq-byte panic');
      expect(sa.quarantinedRemote).toEqual({ automerge_rejected: 1 });
      expect(await reasons()).toEqual(['automerge_rejected']);
      const afterPanic = await seen();
      expect(afterPanic).toEqual(['dose=5mg', ...before.slice(1)]);

      // (b) A compressed change chunk that would inflate to 64 MiB.
      const bomb = compressedBomb(A.getLastLocalChange(A.change(await bobsCopy(room), x => (x.notes = 'boom')))!, 64 * 1024 * 1024);
      await bobSeals(b, bob, room, [[bomb]], newSessionNonce());
      const sb = await round('inflate bomb');
      expect(sb.quarantinedRemote).toEqual({ changes_compressed: 1 });
      expect(await reasons()).toEqual(['automerge_rejected', 'changes_compressed']);

      // (c) An envelope under an epoch beyond the workspace's: the relay refuses it, so alice never
      // pulls it (a reader that does get one quarantines it: test/docs/hostileDocuments.test.ts).
      const ghost = A.getLastLocalChange(A.change(await bobsCopy(room), x => (x.notes = 'ghost')))!;
      await bobSeals(b, bob, room, [[ghost]], nonce, { epoch: 9, epochKey: asKey<EpochKey>(randomBytes(32)) });
      const sc = await round('unknown epoch', { unknown_epoch: 1 });
      expect(sc.pulled).toBe(0);
      expect(await reasons()).toEqual(['automerge_rejected', 'changes_compressed']);

      // (d) Changes built on one bob never sends: parked in the pending store, not in the cursor's way.
      // (Another record: bob's later envelopes for `room` wait behind the unknown-epoch one, as seq gaps.)
      const hidden = A.change(await bobsCopy(host), x => (x.title = 'never sent'));
      let chain = hidden;
      const waiting: Uint8Array[][] = [];
      for (let i = 0; i < 3; i++) {
        chain = A.change(chain, x => (x.notes = `waits ${i}`));
        waiting.push([A.getLastLocalChange(chain)!]);
      }
      await bobSeals(b, bob, host, waiting, nonce);
      const sd = await round('dependency never arrives');
      expect(sd.heldRemote).toBe(3);
      expect((await docs.pending.list(host)).map(p => p.kind)).toEqual(['deps', 'deps', 'deps']);

      expect(await seen()).toEqual(afterPanic);
      // Everything saved loads back: a fresh session on alice's disk shows the same records.
      await a.close();
      const a2 = await open(alice);
      try {
        expect((await a2.s.records.list()).map(r => r.id).sort()).toEqual([...ids].sort());
        const again = await Promise.all(ids.map(async id => {
          const r = (await a2.s.records.get(id))!;
          return `${r.title}=${r.notes}`;
        }));
        expect(again).toEqual(afterPanic);
        const st = await syncStatus(a2.s);
        expect(st.damaged).toEqual([]);
        expect(st.quarantine.map(q => q.reason).sort()).toEqual(['automerge_rejected', 'changes_compressed']);
        expect((await a2.engine.syncOnce()).pulled).toBe(0);
      } finally {
        await a2.close();
      }
    } finally {
      await b?.close();
      await a.close().catch(() => undefined);
      await relay.close();
    }
  });
});
