// The browser's workspace store (fake-indexeddb): alice's personal workspace survives a reload with its
// log and epoch key; IndexedDB shows neither the workspace id nor its name; another vault's data key
// opens nothing, and a value moved under another key is refused.
import { withNames } from '../../src/identity/workspace/names.ts';
import { IDBFactory } from 'fake-indexeddb';
import { describe, expect, it } from 'vitest';
import { randomBytes, toBase64url, utf8 } from '../../src/crypto/bytes.ts';
import { generateSigningKey, publicKeyOf } from '../../src/crypto/ed25519.ts';
import { deviceIdOf } from '../../src/crypto/ids.ts';
import { asKey, type DataKey, type DeviceSigningKey } from '../../src/crypto/keys.ts';
import { boxPublicKeyOf, generateBoxKey } from '../../src/crypto/lockbox.ts';
import { listBrowserWorkspaces, saveBrowserWorkspace, workspaceStorageName } from '../../src/app/browserWorkspaceStore.ts';
import { idbBytesStore } from '../../src/identity/vault/idbBytes.ts';
import { createWorkspace } from '../../src/identity/workspace/createWorkspace.ts';
import { replayLog } from '../../src/identity/workspace/log.ts';

function aliceDevice() {
  const signingKey = generateSigningKey<DeviceSigningKey>().secretKey;
  const boxKey = generateBoxKey().secretKey;
  const signingPub = publicKeyOf(signingKey);
  return { userId: toBase64url(randomBytes(16)), deviceId: deviceIdOf(signingPub), signingKey, signingPub, boxKey, boxPub: boxPublicKeyOf(boxKey) };
}

const contains = (hay: Uint8Array, needle: Uint8Array) => Buffer.from(hay).includes(Buffer.from(needle));

describe('browser workspace store', () => {
  it('alice\'s personal workspace round-trips sealed; eve\'s vault opens nothing; a moved value is refused', async () => {
    const idb = new IDBFactory();
    const store = idbBytesStore('cloister-workspaces', idb);
    const dataKey = asKey<DataKey>(randomBytes(32));
    const ws = createWorkspace(aliceDevice(), 'Personal lighthouse', { now: Date.now() });
    await saveBrowserWorkspace(store, dataKey, { workspaceId: ws.workspaceId, entries: ws.entries, epochKeys: new Map([[0, ws.epochKey]]), meta: { note: 'x' } });

    const listed = await listBrowserWorkspaces(idbBytesStore('cloister-workspaces', idb), dataKey);
    expect(listed).toHaveLength(1);
    expect(listed[0]!.workspaceId).toBe(ws.workspaceId);
    expect(listed[0]!.meta).toEqual({ note: 'x' });
    expect(Buffer.from(listed[0]!.epochKeys.get(0)!)).toEqual(Buffer.from(ws.epochKey));
    const state = replayLog(listed[0]!.entries);
    expect(state.ok && withNames(state.value, listed[0]!.epochKeys).name).toBe('Personal lighthouse'); // sealed in the log, opened with the epoch key

    const keys = await store.keys();
    expect(keys).toEqual([workspaceStorageName(dataKey, ws.workspaceId)]);
    const value = (await store.get(keys[0]!))!;
    for (const secret of [utf8(ws.workspaceId), utf8('Personal lighthouse'), ws.epochKey]) {
      expect(contains(value, secret)).toBe(false);
      expect(keys[0]!.includes(ws.workspaceId)).toBe(false);
    }

    expect(await listBrowserWorkspaces(store, asKey<DataKey>(randomBytes(32)))).toEqual([]);
    await store.put('moved', value);
    await store.delete(keys[0]!);
    expect(await listBrowserWorkspaces(store, dataKey)).toEqual([]);
  });
});
