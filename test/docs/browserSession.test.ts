// The browser opener on fake-indexeddb with an in-process stand-in for navigator.locks.
import 'fake-indexeddb/auto';
import { describe, expect, it } from 'vitest';
import { randomBytes } from '../../src/crypto/bytes.ts';
import { asKey, type DataKey } from '../../src/crypto/keys.ts';
import { openBrowserDocSession } from '../../src/docs/openBrowserDocSession.ts';
import { Mutex } from '../../src/docs/seqLock.ts';
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
    const base = { name: 'cloister-test', dataKey, authority: auth, currentEpoch: () => 0, locks, flushWindowMs: 5,
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
});
