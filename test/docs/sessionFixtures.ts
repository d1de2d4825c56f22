// Sessions for tests: a Repo over encrypted in-memory storage, encrypted in-memory state, an
// in-process lock, and the fixture membership.
import { Repo } from '@automerge/automerge-repo';
import { afterEach, expect } from 'vitest';
import { randomBytes } from '../../src/crypto/bytes.ts';
import { asKey, type DataKey } from '../../src/crypto/keys.ts';
import { DocSession } from '../../src/docs/DocSession.ts';
import { RecordStore } from '../../src/docs/records/RecordStore.ts';
import { MemoryLock } from '../../src/docs/seqLock.ts';
import { EncryptedStorageAdapter } from '../../src/docs/storage/EncryptedStorageAdapter.ts';
import { MemoryStorageAdapter } from '../../src/docs/storage/MemoryStorageAdapter.ts';
import { FixtureAuthority, makeDevice, type TestDevice } from './fixtures.ts';

export interface Profile {
  dataKey: DataKey;
  repoStorage: MemoryStorageAdapter;
  stateStorage: MemoryStorageAdapter;
  lock: MemoryLock;
}

export const newProfile = (): Profile => ({
  dataKey: asKey<DataKey>(randomBytes(32)),
  repoStorage: new MemoryStorageAdapter(),
  stateStorage: new MemoryStorageAdapter(),
  lock: new MemoryLock(),
});

export async function openSession(device: TestDevice, auth: FixtureAuthority, profile: Profile = newProfile(), flushWindowMs = 5) {
  const storage = await EncryptedStorageAdapter.open(profile.repoStorage, profile.dataKey);
  const state = await EncryptedStorageAdapter.open(profile.stateStorage, profile.dataKey);
  if (!storage.ok || !state.ok) throw new Error('storage');
  const repo = new Repo({ storage: storage.value, network: [], sharePolicy: async () => false });
  const session = new DocSession({
    repo,
    state: state.value,
    lock: profile.lock,
    authority: auth,
    device: { deviceId: device.deviceId, userId: device.userId, signingKey: device.signingKey, signingPub: device.signingPub },
    currentEpoch: () => 0, logPosition: () => ({ index: 0, head: new Uint8Array(32) }),
    flushWindowMs,
  });
  const records = await RecordStore.open(session);
  return { session, records, profile, repo };
}

/** Every envelope in a session's outbox, in (doc, seq) order. */
export async function outboxOf(s: { session: DocSession }): Promise<Uint8Array[]> {
  return (await s.session.outbox.pending()).map(e => e.bytes);
}

/** Every session receives every session's outbox (duplicates are no-ops); nothing may be refused. */
export async function exchange(...ss: { session: DocSession }[]): Promise<void> {
  const all = (await Promise.all(ss.map(outboxOf))).flat();
  for (const s of ss) expect((await s.session.applyRemote(all)).rejected).toEqual([]);
}

export type OpenedSession = Awaited<ReturnType<typeof openSession>>;

/** Alice and Bob in one fixture workspace; sessions pushed onto `open` are closed after each test. */
export function aliceAndBob(): { alice: TestDevice; bob: TestDevice; auth: FixtureAuthority; open: OpenedSession[] } {
  const alice = makeDevice('alice');
  const bob = makeDevice('bob');
  const auth = new FixtureAuthority().add(alice).add(bob);
  const open: OpenedSession[] = [];
  afterEach(async () => {
    for (const s of open.splice(0)) await s.session.close();
  });
  return { alice, bob, auth, open };
}
