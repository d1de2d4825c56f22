import * as A from '@automerge/automerge';
import { afterEach, describe, expect, it } from 'vitest';
import { FixtureAuthority, makeDevice, sealAs, someChanges } from './fixtures.ts';
import { openSession, outboxOf } from './sessionFixtures.ts';

const alice = makeDevice('alice');
const bob = makeDevice('bob');
const carol = makeDevice('carol');
const auth = new FixtureAuthority().add(alice).add(bob).add(carol);
const open: { session: { close(): Promise<void> } }[] = [];
async function session(device = alice) {
  const s = await openSession(device, auth);
  open.push(s);
  return s;
}
afterEach(async () => {
  for (const s of open.splice(0)) await s.session.close();
});

const headsOf = async (s: Awaited<ReturnType<typeof session>>, id: string) => A.getHeads((await s.session.open<unknown>(id))!.doc()).sort();

describe('records', () => {
  it('alice creates, reads, edits and deletes a record; every edit leaves an envelope in her outbox', async () => {
    const a = await session();
    const id = await a.records.create({ title: 'Boiler', fields: { room: 'cellar' }, notes: 'check valve', tags: ['home'] });
    expect(await a.records.get(id)).toMatchObject({ id, title: 'Boiler', fields: { room: 'cellar' }, notes: 'check valve', tags: ['home'], deleted: false, createdBy: expect.objectContaining({ userId: 'alice', deviceId: alice.deviceId }) });
    expect(await a.records.list()).toEqual([{ id, title: 'Boiler', deleted: false }]);
    const afterCreate = (await outboxOf(a)).length;
    expect(afterCreate).toBeGreaterThanOrEqual(2);
    await a.records.update(id, { title: 'Boiler room', fields: { room: null, floor: '-1' }, notes: 'check valve twice', tags: ['home', 'yearly'] });
    expect(await a.records.get(id)).toMatchObject({ title: 'Boiler room', fields: { floor: '-1' }, notes: 'check valve twice', tags: ['home', 'yearly'] });
    expect((await outboxOf(a)).length).toBeGreaterThan(afterCreate);
    await a.records.remove(id);
    expect(await a.records.list()).toEqual([]);
    expect(await a.records.list({ includeDeleted: true })).toEqual([{ id, title: 'Boiler room', deleted: true }]);
    await expect(a.records.update(id, { title: 'x' })).rejects.toMatchObject({ code: 'record_deleted' });
  });

  it("bob receives alice's envelopes and sees the same record", async () => {
    const a = await session(alice);
    const b = await session(bob);
    const id = await a.records.create({ title: 'Shared', notes: 'hello' });
    const report = await b.session.applyRemote(await outboxOf(a));
    expect(report.rejected).toEqual([]);
    expect(report.held).toEqual([]);
    expect(await b.records.get(id)).toMatchObject({ title: 'Shared', notes: 'hello' });
    expect((await b.records.list()).map(r => r.id)).toEqual([id]);
  });

  it('reverse-order delivery and duplicate delivery converge to the same heads', async () => {
    const a = await session(alice);
    const id = await a.records.create({ title: 'Order' });
    for (let i = 0; i < 5; i++) await a.records.update(id, { notes: `v${i}` });
    const envs = await outboxOf(a);
    expect(envs.length).toBeGreaterThan(5);

    const inOrder = await session(bob);
    await inOrder.session.applyRemote(envs);
    const reversed = await session(carol);
    // One envelope per call, newest first: every early one is held as a gap until the first arrives.
    const reports = [];
    for (const e of [...envs].reverse()) reports.push(await reversed.session.applyRemote([e]));
    expect(reports.flatMap(r => r.held).some(h => h.why === 'seq_gap')).toBe(true);
    const dup = await session(bob);
    await dup.session.applyRemote([...envs, ...envs]);
    await dup.session.applyRemote(envs);

    const want = await headsOf(a, id);
    expect(await headsOf(inOrder, id)).toEqual(want);
    expect(await headsOf(reversed, id)).toEqual(want);
    expect(await headsOf(dup, id)).toEqual(want);
    expect((await reversed.records.get(id))!.notes).toBe('v4');
    expect(await reversed.session.pending.list()).toEqual([]);
  });

  it('a replayed old envelope changes nothing', async () => {
    const a = await session(alice);
    const b = await session(bob);
    const id = await a.records.create({ title: 'Replay' });
    await a.records.update(id, { title: 'Replay 2' });
    const envs = await outboxOf(a);
    await b.session.applyRemote(envs);
    const before = await headsOf(b, id);
    const report = await b.session.applyRemote([envs[0]!]);
    expect(report.applied).toEqual([]);
    expect(report.duplicates).toBe(1);
    expect(await headsOf(b, id)).toEqual(before);
    expect((await b.records.get(id))!.title).toBe('Replay 2');
    // After bob restarts, the same old envelopes are still recognised: no-ops, not replays.
    await b.session.close();
    const b2 = await openSession(bob, auth, b.profile);
    open.push(b2);
    const again = await b2.session.applyRemote(envs);
    expect(again).toMatchObject({ applied: [], rejected: [], held: [], duplicates: envs.length });
    expect(await b2.session.quarantine.list()).toEqual([]);
    // A different envelope at a used seq is a replay: quarantined, and the record is unchanged.
    const other = sealAs(auth, alice, id, 1, someChanges(alice.actor, 1));
    expect((await b2.session.applyRemote([other.bytes])).rejected.map(r => r.reason)).toEqual(['seq_replay']);
    expect(await headsOf(b2, id)).toEqual(before);
  });

  it('a concurrent edit and delete merge: the record stays deleted and the edit is not lost', async () => {
    const a = await session(alice);
    const b = await session(bob);
    const id = await a.records.create({ title: 'Contested', notes: 'draft' });
    await b.session.applyRemote(await outboxOf(a));
    // Concurrently: alice deletes, bob edits.
    await a.records.remove(id);
    await b.records.update(id, { notes: 'draft, edited by bob', fields: { owner: 'bob' } });
    await b.session.applyRemote(await outboxOf(a)); // already-seen envelopes are no-ops
    await a.session.applyRemote(await outboxOf(b));
    for (const s of [a, b]) {
      const r = (await s.records.get(id))!;
      expect(r.deleted).toBe(true);
      expect(r.notes).toBe('draft, edited by bob');
      expect(r.fields).toEqual({ owner: 'bob' });
      expect(await s.records.list(), s === a ? "alice" : "bob").toEqual([]);
    }
    expect(await headsOf(a, id)).toEqual(await headsOf(b, id));
  });

  it('changes whose dependencies are missing wait, encrypted, until they arrive', async () => {
    const a = await session(alice);
    const b = await session(bob);
    const c = await session(carol);
    const id = await a.records.create({ title: 'Deps' });
    const fromAlice = await outboxOf(a);
    await b.session.applyRemote(fromAlice);
    await b.records.update(id, { notes: 'bob builds on alice' });
    const fromBob = await outboxOf(b);
    const first = await c.session.applyRemote(fromBob);
    expect(first.held.some(h => h.why === 'missing_deps')).toBe(true);
    expect((await c.session.pending.list()).length).toBeGreaterThan(0);
    await c.session.applyRemote(fromAlice);
    expect((await c.records.get(id))!.notes).toBe('bob builds on alice');
    expect(await c.session.pending.list()).toEqual([]);
    expect(await headsOf(c, id)).toEqual(await headsOf(b, id));
  });

  it('history names the verified device and user behind each change, with the claimed time', async () => {
    const a = await session(alice);
    const b = await session(bob);
    const id = await a.records.create({ title: 'Who', fields: { k: 'v' } });
    await b.session.applyRemote(await outboxOf(a));
    await b.records.update(id, { fields: { k: 'w' }, notes: 'n' });
    const h = await b.records.history(id);
    expect(h.every(e => e.verified)).toBe(true);
    expect(h.map(e => e.userId)).toEqual(['alice', 'bob']);
    expect(h[0]!.deviceId).toBe(alice.deviceId);
    expect(h[1]!.fields).toEqual(expect.arrayContaining(['fields.k', 'notes']));
    expect(typeof h[1]!.claimedTime).toBe('number');
  });
});

describe('records for a UI', () => {
  it("bob's screen hears about alice's keystrokes as they are applied, and both see the merged notes", async () => {
    const a = await session(alice);
    const b = await session(bob);
    const id = await a.records.create({ title: 'Live', notes: 'hello world' });
    await b.session.applyRemote(await outboxOf(a));
    let heard = 0;
    const stop = await b.records.subscribe(id, () => heard++);
    await Promise.all([a.records.spliceNotes(id, 5, 0, ','), b.records.spliceNotes(id, 11, 0, '!')]);
    await b.session.applyRemote(await outboxOf(a));
    await a.session.applyRemote(await outboxOf(b));
    expect(heard).toBeGreaterThan(0);
    stop();
    expect((await a.records.get(id))!.notes).toBe('hello, world!');
    expect((await b.records.get(id))!.notes).toBe('hello, world!');
    await expect(a.records.spliceNotes(id, 99, 0, 'x')).rejects.toMatchObject({ code: 'record_invalid' });
  });

  it("rita, a reader, and mallory, whose device was revoked, are refused before their edit touches any document", async () => {
    const rita = makeDevice('rita');
    const mallory = makeDevice('mallory');
    const authority = new FixtureAuthority().add(alice).add(rita, 'reader').add(mallory);
    const r = await openSession(rita, authority);
    open.push(r);
    expect(await r.records.list()).toEqual([]); // rita can open and read
    await expect(r.records.create({ title: 'nope' })).rejects.toMatchObject({ name: 'EditRefusedError', code: 'no_write_permission' });
    expect(await outboxOf(r)).toEqual([]); // not even an index document of her own

    const m = await openSession(mallory, authority);
    open.push(m);
    const id = await m.records.create({ title: 'before revocation' });
    const before = await outboxOf(m);
    authority.revoke(mallory);
    await expect(m.records.update(id, { title: 'after revocation' })).rejects.toMatchObject({ code: 'device_revoked' });
    expect((await m.records.get(id))?.title).toBe('before revocation');
    expect(await outboxOf(m)).toEqual(before);
  });
});
