// The browser opener on fake-indexeddb with an in-process stand-in for navigator.locks.
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { randomBytes } from '../../src/crypto/bytes.ts';
import { asKey, type DataKey } from '../../src/crypto/keys.ts';
import { openBrowserDocSession } from '../../src/docs/openBrowserDocSession.ts';
import { Mutex } from '../../src/docs/seqLock.ts';
import { DocSession } from '../../src/docs/DocSession.ts';
import type { RecordDoc } from '../../src/docs/records/recordTypes.ts';
import { MemoryLock } from '../../src/docs/seqLock.ts';
import { MemoryStorageAdapter } from '../../src/docs/storage/MemoryStorageAdapter.ts';
import { EncryptedStorageAdapter } from '../../src/docs/storage/EncryptedStorageAdapter.ts';
import { Repo } from '@automerge/automerge-repo';
import { FixtureAuthority, makeDevice } from './fixtures.ts';

const mutexes = new Map<string, Mutex>();
const locks = {
  request<T>(name: string, _o: { mode: 'exclusive' }, fn: () => Promise<T>): Promise<T> {
    if (!mutexes.has(name)) mutexes.set(name, new Mutex());
    return mutexes.get(name)!.run(fn);
  },
};

describe('browser doc session', () => {
  it('alice edits in one tab, closes it, and a second tab sees the record; a wrong key is refused before any Repo', async () => {
    const alice = makeDevice('alice');
    const auth = new FixtureAuthority().add(alice);
    const dataKey = asKey<DataKey>(randomBytes(32));
    const base = { name: 'cloister-test', dataKey, authority: auth, currentEpoch: () => 0, logPosition: () => ({ index: 0, head: new Uint8Array(32) }), locks, flushWindowMs: 5,
      device: { deviceId: alice.deviceId, userId: 'alice', signingKey: alice.signingKey, signingPub: alice.signingPub } };
    const tab1 = await openBrowserDocSession(base);
    if (!tab1.ok) throw new Error(tab1.reason);
    const id = await tab1.value.records.create({ title: 'In the browser', notes: 'hi' });
    expect((await tab1.value.session.outbox.pending()).length).toBeGreaterThan(0);
    await tab1.value.close();

    const tab2 = await openBrowserDocSession(base);
    if (!tab2.ok) throw new Error(tab2.reason);
    expect(await tab2.value.records.get(id)).toMatchObject({ title: 'In the browser', notes: 'hi' });
    expect(tab2.value.session.actor).not.toBe(tab1.value.session.actor);
    await tab2.value.close();

    const wrong = await openBrowserDocSession({ ...base, dataKey: asKey<DataKey>(randomBytes(32)) });
    expect(wrong).toMatchObject({ ok: false, reason: 'storage_wrong_key' });
  });

  it("a tab dies with an edit made but not yet sealed; the next tab sees its session lock is free and seals the edit under the dead tab's actor, so bob never waits on a missing dependency", async () => {
    // navigator.locks as the browser has it: exclusive locks per name, query() lists held ones, and a
    // dying tab's locks are freed.
    const held = new Map<string, string>(); // lock name -> tab
    const tabLocks = (tab: string) => ({
      request<T>(name: string, _o: { mode: 'exclusive' }, fn: () => Promise<T>): Promise<T> {
        if (!mutexes.has(name)) mutexes.set(name, new Mutex());
        return mutexes.get(name)!.run(async () => {
          held.set(name, tab);
          try {
            return await fn();
          } finally {
            held.delete(name);
          }
        });
      },
      async query() {
        return { held: [...held.keys()].map(name => ({ name })) };
      },
      kill() {
        for (const [name, t] of held) if (t === tab) held.delete(name);
      },
    });
    const alice = makeDevice('alice');
    const auth = new FixtureAuthority().add(alice).add(makeDevice('bob'));
    const dataKey = asKey<DataKey>(randomBytes(32));
    const device = { deviceId: alice.deviceId, userId: 'alice', signingKey: alice.signingKey, signingPub: alice.signingPub };
    const base = { name: 'cloister-crash-tab', dataKey, authority: auth, currentEpoch: () => 0, logPosition: () => ({ index: 0, head: new Uint8Array(32) }), device };

    const locks1 = tabLocks('tab1');
    const tab1 = await openBrowserDocSession({ ...base, locks: locks1, flushWindowMs: 600_000 });
    if (!tab1.ok) throw new Error(tab1.reason);
    let id = '';
    const created = tab1.value.records.create({ title: 'before the crash' }).then(x => (id = x));
    while (!id) {
      await tab1.value.session.flush();
      await Promise.race([created, new Promise(r => setTimeout(r, 10))]);
    }
    (await tab1.value.session.open<RecordDoc>(id))!.change(d => void (d.notes = 'typed just before the crash'));
    await tab1.value.repo.flush();
    locks1.kill(); // the tab dies: no close, no seal

    // The next tab opens: tab1's session lock is free, so its registered session is gone.
    const tab2 = await openBrowserDocSession({ ...base, locks: tabLocks('tab2'), flushWindowMs: 5 });
    if (!tab2.ok) throw new Error(tab2.reason);
    expect((await tab2.value.records.get(id))?.notes).toBe('typed just before the crash');

    const bobState = await EncryptedStorageAdapter.open(new MemoryStorageAdapter(), dataKey);
    const bobRepo = await EncryptedStorageAdapter.open(new MemoryStorageAdapter(), dataKey);
    if (!bobState.ok || !bobRepo.ok) throw new Error('storage');
    const bobDevice = makeDevice('bob');
    const bob = new DocSession({
      repo: new Repo({ storage: bobRepo.value, network: [], sharePolicy: async () => false }),
      state: bobState.value, lock: new MemoryLock(), authority: auth, currentEpoch: () => 0, logPosition: () => ({ index: 0, head: new Uint8Array(32) }),
      device: { deviceId: bobDevice.deviceId, userId: 'bob', signingKey: bobDevice.signingKey, signingPub: bobDevice.signingPub },
    });
    await tab2.value.session.flush();
    const report = await bob.applyRemote((await tab2.value.session.outbox.pending()).map(e => e.bytes));
    expect(report.rejected).toEqual([]);
    expect(report.held).toEqual([]);
    expect((await bob.open<RecordDoc>(id))!.doc().notes).toBe('typed just before the crash');
    await bob.close();
    await tab2.value.close();
  });
});
