// The encrypted storage adapter: the shared acceptance suite over memory, NodeFS and IndexedDB
// (fake-indexeddb), the bare adapters as a baseline, and the stories only encryption must tell.
import 'fake-indexeddb/auto';
import { mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { Repo, documentIdToBinary, type AutomergeUrl, type StorageAdapterInterface } from '@automerge/automerge-repo';
import { NodeFSStorageAdapter } from '@automerge/automerge-repo-storage-nodefs';
import { IndexedDBStorageAdapter } from '@automerge/automerge-repo-storage-indexeddb';
import * as A from '@automerge/automerge';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { randomBytes, toBase64url, toHex, utf8 } from '../../../src/crypto/bytes.ts';
import { asKey, type DataKey } from '../../../src/crypto/keys.ts';
import { AtomicFileStorageAdapter } from '../../../src/docs/AtomicFileStorageAdapter.ts';
import { EncryptedStorageAdapter, KEYCHECK_NAME, type EncryptedStorageOptions } from '../../../src/docs/storage/EncryptedStorageAdapter.ts';
import { MemoryStorageAdapter } from '../../../src/docs/storage/MemoryStorageAdapter.ts';
import { openNodeStorage } from '../../../src/docs/storage/openNodeStorage.ts';
import { openBrowserStorage } from '../../../src/docs/storage/openBrowserStorage.ts';
import type { StorageCorruptReason } from '../../../src/docs/storage/storageReasons.ts';
import { fillerText, runStorageAdapterTests } from './runStorageAdapterTests.ts';

const newDataKey = (): DataKey => asKey<DataKey>(randomBytes(32));
const aliceKey = newDataKey();

async function mustOpen(inner: StorageAdapterInterface, key: DataKey, options?: EncryptedStorageOptions) {
  const r = await EncryptedStorageAdapter.open(inner, key, options);
  if (!r.ok) throw new Error(`open failed: ${r.reason}`);
  return r.value;
}

let dbCounter = 0;
const newDbName = () => `cloister-test-${process.pid}-${++dbCounter}`;
const newDir = () => mkdtemp(join(tmpdir(), 'cloister-storage-'));

// --- the shared suite, against every backend ---

runStorageAdapterTests('bare memory (baseline)', async () => ({ adapter: new MemoryStorageAdapter() }));

runStorageAdapterTests('bare NodeFS (baseline)', async () => {
  const dir = await newDir();
  return { adapter: new NodeFSStorageAdapter(dir), reopen: async () => new NodeFSStorageAdapter(dir), teardown: () => rm(dir, { recursive: true, force: true }) };
}, { knownBugs: ['partial-component-prefix'] });

// Cloister's own filesystem adapter for its state files (outbox, cursors, provenance): atomic saves, no cache.
runStorageAdapterTests('bare atomic filesystem (state files)', async () => {
  const dir = await newDir();
  return { adapter: new AtomicFileStorageAdapter(dir), reopen: async () => new AtomicFileStorageAdapter(dir), teardown: () => rm(dir, { recursive: true, force: true }) };
});

runStorageAdapterTests('encrypted over the atomic filesystem', async () => {
  const dir = await newDir();
  return { adapter: await mustOpen(new AtomicFileStorageAdapter(dir), aliceKey), reopen: () => mustOpen(new AtomicFileStorageAdapter(dir), aliceKey), teardown: () => rm(dir, { recursive: true, force: true }) };
});

runStorageAdapterTests('bare IndexedDB (baseline)', async () => {
  const db = newDbName();
  return { adapter: new IndexedDBStorageAdapter(db), reopen: async () => new IndexedDBStorageAdapter(db) };
});

runStorageAdapterTests('encrypted over memory', async () => {
  const inner = new MemoryStorageAdapter();
  return { adapter: await mustOpen(inner, aliceKey), reopen: () => mustOpen(inner, aliceKey) };
});

runStorageAdapterTests('encrypted over NodeFS', async () => {
  const dir = await newDir();
  const open = async () => {
    const r = await openNodeStorage(dir, aliceKey);
    if (!r.ok) throw new Error(r.reason);
    return r.value;
  };
  return { adapter: await open(), reopen: open, teardown: () => rm(dir, { recursive: true, force: true }) };
});

runStorageAdapterTests('encrypted over IndexedDB', async () => {
  const db = newDbName();
  const open = async () => {
    const r = await openBrowserStorage(db, aliceKey);
    if (!r.ok) throw new Error(r.reason);
    return r.value;
  };
  return { adapter: await open(), reopen: open };
});

// --- stories only the encrypted adapter has to tell ---

/** Every file under `dir`, with its path relative to `dir`. */
async function walk(dir: string): Promise<{ path: string; bytes: Uint8Array }[]> {
  const out: { path: string; bytes: Uint8Array }[] = [];
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const full = join(e.parentPath, e.name);
    out.push({ path: relative(dir, full), bytes: e.isFile() ? new Uint8Array(await readFile(full)) : new Uint8Array() });
  }
  return out;
}

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

type SecretDoc = { title: string; body: string; lines: string[] };
const SECRET = 'Alice: biopsy result benign, tell nobody';
type Needle = { what: string; text?: string; bytes: Uint8Array };

/** A Repo writes a record with a secret through snapshots and incrementals; returns what must not leak. */
async function writeSecretDoc(storage: StorageAdapterInterface): Promise<{ url: AutomergeUrl; needles: Needle[] }> {
  const repo = new Repo({ storage, network: [] });
  const handle = repo.create<SecretDoc>({ title: SECRET, body: fillerText(7, 2000), lines: [] });
  await repo.flush();
  for (let i = 0; i < 6; i++) {
    handle.change(d => {
      d.lines.push(`${SECRET} #${i}`);
    });
    await repo.flush();
  }
  const doc = handle.doc();
  await repo.shutdown();

  const docId = handle.documentId;
  const docIdBinary = documentIdToBinary(docId)!;
  const changeHashes = A.getAllChanges(doc).map(c => A.decodeChange(c).hash);
  expect(changeHashes.length).toBeGreaterThan(6);
  const needles: Needle[] = [
    { what: 'plaintext', text: SECRET, bytes: utf8(SECRET) },
    { what: 'plaintext word', text: 'biopsy', bytes: utf8('biopsy') },
    { what: 'doc id (bs58)', text: docId, bytes: utf8(docId) },
    { what: 'doc id (hex)', text: toHex(docIdBinary), bytes: utf8(toHex(docIdBinary)) },
    { what: 'doc id (base64url)', text: toBase64url(docIdBinary), bytes: utf8(toBase64url(docIdBinary)) },
    { what: 'doc id (binary)', bytes: docIdBinary },
    { what: 'chunk kind', text: 'snapshot', bytes: utf8('snapshot') },
    { what: 'chunk kind', text: 'incremental', bytes: utf8('incremental') },
    { what: 'repo key', text: 'storage-adapter-id', bytes: utf8('storage-adapter-id') },
    ...changeHashes.flatMap(h => [
      { what: `change hash ${h}`, text: h, bytes: utf8(h) },
      { what: `change hash ${h} (binary)`, bytes: Uint8Array.from(Buffer.from(h, 'hex')) },
      { what: `change hash ${h} prefix`, text: h.slice(0, 12), bytes: utf8(h.slice(0, 12)) },
    ]),
  ];
  return { url: handle.url, needles };
}

function findLeaks(files: { path: string; bytes: Uint8Array }[], needles: Needle[]): string[] {
  const leaks: string[] = [];
  for (const f of files) {
    // NodeFS splits the first key component as "ab/cdef…", so look across separators too.
    const joined = f.path.split(sep).join('');
    for (const n of needles) {
      if (n.text && (f.path.includes(n.text) || joined.includes(n.text))) leaks.push(`${n.what} in file name ${f.path}`);
      if (contains(f.bytes, n.bytes)) leaks.push(`${n.what} in bytes of ${f.path}`);
    }
  }
  return leaks;
}

const unhandled: unknown[] = [];
const onUnhandled = (e: unknown) => unhandled.push(e);
beforeEach(() => {
  unhandled.length = 0;
  process.on('unhandledRejection', onUnhandled);
});
afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
});

describe('encrypted storage', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await newDir();
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('a wrong data key is detected before a Repo is built', async () => {
    const alice = await openNodeStorage(dir, aliceKey);
    expect(alice.ok).toBe(true);
    if (!alice.ok) return;
    const repo = new Repo({ storage: alice.value, network: [] });
    repo.create({ note: 'alice only' });
    await repo.shutdown();

    const eve = await openNodeStorage(dir, newDataKey());
    expect(eve).toMatchObject({ ok: false, reason: 'storage_wrong_key' });
    // Eve's attempt wrote nothing: Alice still opens it.
    expect((await openNodeStorage(dir, aliceKey)).ok).toBe(true);

    // Same over IndexedDB and memory.
    const db = newDbName();
    expect((await openBrowserStorage(db, aliceKey)).ok).toBe(true);
    expect(await openBrowserStorage(db, newDataKey())).toMatchObject({ ok: false, reason: 'storage_wrong_key' });
    const mem = new MemoryStorageAdapter();
    await mustOpen(mem, aliceKey);
    expect(await EncryptedStorageAdapter.open(mem, newDataKey())).toMatchObject({ ok: false, reason: 'storage_wrong_key' });
  });

  it('a damaged key-check record is refused, not rewritten', async () => {
    const mem = new MemoryStorageAdapter();
    await mustOpen(mem, aliceKey);
    const record = (await mem.load(KEYCHECK_NAME))!;
    record[record.length - 1]! ^= 1;
    await mem.save(KEYCHECK_NAME, record);
    expect(await EncryptedStorageAdapter.open(mem, aliceKey)).toMatchObject({ ok: false, reason: 'storage_keycheck_corrupt' });
    expect(await mem.load(KEYCHECK_NAME)).toEqual(record);
  });

  it('a storage that throws is reported as unavailable', async () => {
    const broken = new MemoryStorageAdapter();
    broken.load = async () => {
      throw new Error('disk on fire');
    };
    expect(await EncryptedStorageAdapter.open(broken, aliceKey)).toMatchObject({ ok: false, reason: 'storage_unavailable', detail: 'disk on fire' });
  });

  it('a file renamed to another key\'s name is rejected', async () => {
    const reports: [string[], StorageCorruptReason][] = [];
    const opened = await openNodeStorage(dir, aliceKey);
    if (!opened.ok) throw new Error(opened.reason);
    const adapter = opened.value;
    const paid = ['doc-a', 'snapshot', 'paid'];
    const owed = ['doc-a', 'snapshot', 'owed'];
    await adapter.save(paid, utf8('invoice 17: paid'));
    await adapter.save(owed, utf8('invoice 17: owed'));
    // Mallory, with only file-system access, moves "paid" over "owed".
    const pathOf = (key: string[]) => {
      const [first, ...rest] = adapter.storedNameOf(key);
      return join(dir, first!.slice(0, 2), first!.slice(2), ...rest);
    };
    await rename(pathOf(paid), pathOf(owed));

    const reopened = await openNodeStorage(dir, aliceKey, { onCorrupt: (key, reason) => reports.push([key, reason]) });
    if (!reopened.ok) throw new Error(reopened.reason);
    expect(await reopened.value.load(owed)).toBeUndefined();
    expect(await reopened.value.load(paid)).toBeUndefined();
    expect(reports).toEqual([[owed, 'storage_value_auth_failed']]);
    expect(await reopened.value.loadRange(['doc-a'])).toEqual([]);
    expect(reopened.value.corruptCount).toBe(2);
    // Reported, never deleted.
    expect((await readFile(pathOf(owed))).length).toBeGreaterThan(0);
  });

  it('a value from another key\'s slot is rejected over memory too, and loadRange skips it', async () => {
    const mem = new MemoryStorageAdapter();
    const reports: StorageCorruptReason[] = [];
    const adapter = await mustOpen(mem, aliceKey, { onCorrupt: (_k, reason) => reports.push(reason) });
    await adapter.save(['d', 'incremental', '1'], utf8('one'));
    await adapter.save(['d', 'incremental', '2'], utf8('two'));
    await mem.save(adapter.storedNameOf(['d', 'incremental', '2']), (await mem.load(adapter.storedNameOf(['d', 'incremental', '1'])))!);
    expect(await adapter.loadRange(['d'])).toEqual([{ key: ['d', 'incremental', '1'], data: utf8('one') }]);
    expect(await adapter.load(['d', 'incremental', '2'])).toBeUndefined();
    expect(reports).toEqual(['storage_value_auth_failed', 'storage_value_auth_failed']);
  });

  it('nothing in the storage directory contains a record\'s plaintext, a doc id or a change hash, in file names or in bytes', async () => {
    const opened = await openNodeStorage(dir, aliceKey);
    if (!opened.ok) throw new Error(opened.reason);
    const written = await writeSecretDoc(opened.value);
    const files = await walk(dir);
    expect(files.filter(f => f.bytes.length > 0).length).toBeGreaterThanOrEqual(3); // key check, adapter id, doc chunk(s)
    expect(files.some(f => f.path.split(sep).length >= 4)).toBe(true); // NodeFS made subdirectories from key prefixes
    expect(findLeaks(files, written.needles)).toEqual([]);

    // And the data is all there for the right key.
    const again = await openNodeStorage(dir, aliceKey);
    if (!again.ok) throw new Error(again.reason);
    const repo2 = new Repo({ storage: again.value, network: [] });
    const found = await repo2.find<SecretDoc>(written.url);
    expect(found.doc().title).toBe(SECRET);
    expect(found.doc().lines).toHaveLength(6);
    await repo2.shutdown();
  });

  it('the same grep finds every kind of leak in an unencrypted directory (the test has teeth)', async () => {
    const written = await writeSecretDoc(new NodeFSStorageAdapter(dir));
    const leaks = findLeaks(await walk(dir), written.needles).join('\n');
    expect(leaks).toContain('plaintext in bytes');
    expect(leaks).toMatch(/doc id \(bs58\) in file name/);
    expect(leaks).toMatch(/chunk kind in file name/);
    expect(leaks).toMatch(/change hash [0-9a-f]{64} \(binary\) in bytes/);
  });

  it('a corrupted value is reported and does not crash the Repo', async () => {
    const mem = new MemoryStorageAdapter();
    const adapter = await mustOpen(mem, aliceKey);
    const repo = new Repo({ storage: adapter, network: [] });
    // Big enough that the next small change is saved as an incremental chunk, not a new snapshot.
    const handle = repo.create<{ body: string; lines: string[] }>({ body: fillerText(3, 2000), lines: [] });
    await repo.flush();
    handle.change(d => {
      d.lines.push('added after the snapshot');
    });
    await repo.flush();
    await repo.shutdown();

    const incrementals = await adapter.loadRange([handle.documentId, 'incremental']);
    expect(incrementals).toHaveLength(1);
    const name = adapter.storedNameOf(incrementals[0]!.key);
    const damaged = (await mem.load(name))!;
    damaged[damaged.length - 5]! ^= 0x40;
    await mem.save(name, damaged);

    const reports: { key: string[]; reason: StorageCorruptReason }[] = [];
    const reopened = await mustOpen(mem, aliceKey, {
      onCorrupt: (key, reason) => {
        reports.push({ key, reason });
        throw new Error('a buggy reporter must not take the Repo down either');
      },
    });
    const repo2 = new Repo({ storage: reopened, network: [] });
    const found = await repo2.find<{ body: string; lines: string[] }>(handle.url);
    // The snapshot still loads; the damaged change is treated as missing.
    expect(found.doc().body).toBe(fillerText(3, 2000));
    expect(found.doc().lines).toEqual([]);
    expect(reports).toEqual([{ key: name, reason: 'storage_value_auth_failed' }]);
    expect(reopened.corruptCount).toBe(1);
    await repo2.flush();
    await repo2.shutdown();
    await new Promise(r => setTimeout(r, 50));
    expect(unhandled).toEqual([]);
    // Reported, never deleted.
    expect(await mem.load(name)).toEqual(damaged);
  });
});
