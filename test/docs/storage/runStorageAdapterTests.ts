// The acceptance suite every StorageAdapter must pass (STYLE → runStorageAdapterTests(setup)):
// key/value semantics automerge-repo relies on, then a Repo that compacts, shuts down and reopens.
// A new backend proves itself by calling runStorageAdapterTests with its own setup.
import { Repo, type Chunk, type StorageAdapterInterface, type StorageKey } from '@automerge/automerge-repo';
import * as A from '@automerge/automerge';
import { describe, expect, it } from 'vitest';

export interface StorageAdapterFixture {
  adapter: StorageAdapterInterface;
  /** A fresh adapter over the same backing store (no shared caches), to prove data really persisted. */
  reopen?: () => Promise<StorageAdapterInterface>;
  teardown?: () => Promise<void>;
}

export type StorageAdapterSetup = () => Promise<StorageAdapterFixture>;

const bytes = (...xs: number[]): Uint8Array => Uint8Array.from(xs);
const sortChunks = (cs: Chunk[]): Chunk[] => [...cs].sort((a, b) => a.key.join('/').localeCompare(b.key.join('/')));

async function withFixture(setup: StorageAdapterSetup, body: (f: StorageAdapterFixture) => Promise<void>): Promise<void> {
  const f = await setup();
  try {
    await body(f);
  } finally {
    await f.teardown?.();
  }
}

/** Passes every call through and records removals, so a test can see the Repo's compaction delete chunks. */
export class RecordingAdapter implements StorageAdapterInterface {
  readonly removed: StorageKey[] = [];
  constructor(private readonly inner: StorageAdapterInterface) {}
  load(key: StorageKey) {
    return this.inner.load(key);
  }
  save(key: StorageKey, data: Uint8Array) {
    return this.inner.save(key, data);
  }
  remove(key: StorageKey) {
    this.removed.push([...key]);
    return this.inner.remove(key);
  }
  loadRange(prefix: StorageKey) {
    return this.inner.loadRange(prefix);
  }
  removeRange(prefix: StorageKey) {
    this.removed.push([...prefix, '*']);
    return this.inner.removeRange(prefix);
  }
}

/** Deterministic filler text that Automerge can't compress much (a seeded xorshift, hex digits). */
export function fillerText(seed: number, length: number): string {
  let x = seed | 1;
  let s = '';
  while (s.length < length) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    s += (x >>> 0).toString(16).padStart(8, '0');
  }
  return s.slice(0, length);
}

export interface StorageAdapterSuiteOptions {
  /** Upstream bugs this adapter is known to have: those tests run as `it.fails`, so a fix shows up. */
  knownBugs?: 'partial-component-prefix'[];
}

export function runStorageAdapterTests(name: string, setup: StorageAdapterSetup, options: StorageAdapterSuiteOptions = {}): void {
  describe(`storage adapter acceptance: ${name}`, () => {
    it('gives back exactly what was saved', () =>
      withFixture(setup, async ({ adapter }) => {
        const value = Uint8Array.from({ length: 5000 }, (_, i) => (i * 7) & 0xff);
        await adapter.save(['doc-a', 'snapshot', 'h1'], value);
        expect(await adapter.load(['doc-a', 'snapshot', 'h1'])).toEqual(value);
        await adapter.save(['storage-adapter-id'], bytes(1, 2, 3));
        expect(await adapter.load(['storage-adapter-id'])).toEqual(bytes(1, 2, 3));
      }));

    it('keeps an empty value apart from a missing one', () =>
      withFixture(setup, async ({ adapter }) => {
        await adapter.save(['doc-a', 'sync-state', 'peer'], new Uint8Array());
        expect(await adapter.load(['doc-a', 'sync-state', 'peer'])).toEqual(new Uint8Array());
      }));

    it('answers undefined for a key never saved', () =>
      withFixture(setup, async ({ adapter }) => {
        expect(await adapter.load(['nobody', 'snapshot', 'x'])).toBeUndefined();
        await adapter.save(['doc-a', 'snapshot', 'h1'], bytes(1));
        expect(await adapter.load(['doc-a', 'snapshot', 'h2'])).toBeUndefined();
        expect(await adapter.loadRange(['doc-b'])).toEqual([]);
      }));

    it('overwrites a value saved twice under one key', () =>
      withFixture(setup, async ({ adapter }) => {
        await adapter.save(['doc-a', 'incremental', 'h1'], bytes(1, 1));
        await adapter.save(['doc-a', 'incremental', 'h1'], bytes(2, 2, 2));
        expect(await adapter.load(['doc-a', 'incremental', 'h1'])).toEqual(bytes(2, 2, 2));
        expect(await adapter.loadRange(['doc-a'])).toHaveLength(1);
      }));

    it('loads a range by prefix with the original keys and data, and nothing outside it', () =>
      withFixture(setup, async ({ adapter }) => {
        await adapter.save(['doc-a', 'snapshot', 's1'], bytes(1));
        await adapter.save(['doc-a', 'incremental', 'i1'], bytes(2));
        await adapter.save(['doc-a', 'incremental', 'i2'], bytes(3));
        await adapter.save(['doc-b', 'incremental', 'i1'], bytes(4));
        expect(sortChunks(await adapter.loadRange(['doc-a', 'incremental']))).toEqual([
          { key: ['doc-a', 'incremental', 'i1'], data: bytes(2) },
          { key: ['doc-a', 'incremental', 'i2'], data: bytes(3) },
        ]);
        expect(sortChunks(await adapter.loadRange(['doc-a']))).toEqual([
          { key: ['doc-a', 'incremental', 'i1'], data: bytes(2) },
          { key: ['doc-a', 'incremental', 'i2'], data: bytes(3) },
          { key: ['doc-a', 'snapshot', 's1'], data: bytes(1) },
        ]);
        expect(await adapter.loadRange(['doc-a', 'sync-state'])).toEqual([]);
      }));

    // NodeFSStorageAdapter matches its in-memory cache by string prefix, so it fails this; options say so.
    (options.knownBugs?.includes('partial-component-prefix') ? it.fails : it)(
      'matches a range prefix by whole components: doc-a is not a prefix of doc-ab',
      () =>
        withFixture(setup, async ({ adapter }) => {
          await adapter.save(['doc-a', 'incremental', 'i1'], bytes(1));
          await adapter.save(['doc-ab', 'incremental', 'i1'], bytes(2));
          await adapter.save(['doc-a', 'incrementalx', 'i1'], bytes(3));
          expect(sortChunks(await adapter.loadRange(['doc-a', 'incremental']))).toEqual([{ key: ['doc-a', 'incremental', 'i1'], data: bytes(1) }]);
          expect(await adapter.loadRange(['doc-a'])).toHaveLength(2);
          await adapter.removeRange(['doc-a']);
          expect(await adapter.load(['doc-ab', 'incremental', 'i1'])).toEqual(bytes(2));
        }),
    );

    it('removes one key and leaves its neighbours', () =>
      withFixture(setup, async ({ adapter }) => {
        await adapter.save(['doc-a', 'incremental', 'i1'], bytes(1));
        await adapter.save(['doc-a', 'incremental', 'i2'], bytes(2));
        await adapter.remove(['doc-a', 'incremental', 'i1']);
        await adapter.remove(['doc-a', 'incremental', 'never-there']);
        expect(await adapter.load(['doc-a', 'incremental', 'i1'])).toBeUndefined();
        expect(await adapter.loadRange(['doc-a'])).toEqual([{ key: ['doc-a', 'incremental', 'i2'], data: bytes(2) }]);
      }));

    it('removes a range by prefix and nothing outside it', () =>
      withFixture(setup, async ({ adapter }) => {
        await adapter.save(['doc-a', 'snapshot', 's1'], bytes(1));
        await adapter.save(['doc-a', 'incremental', 'i1'], bytes(2));
        await adapter.save(['doc-a', 'incremental', 'i2'], bytes(3));
        await adapter.save(['doc-b', 'incremental', 'i1'], bytes(4));
        await adapter.removeRange(['doc-a', 'incremental']);
        expect(await adapter.loadRange(['doc-a'])).toEqual([{ key: ['doc-a', 'snapshot', 's1'], data: bytes(1) }]);
        await adapter.removeRange(['doc-a']);
        expect(await adapter.loadRange(['doc-a'])).toEqual([]);
        expect(await adapter.load(['doc-b', 'incremental', 'i1'])).toEqual(bytes(4));
      }));

    it('keeps what was saved when reopened', () =>
      withFixture(setup, async ({ adapter, reopen }) => {
        await adapter.save(['doc-a', 'snapshot', 's1'], bytes(9, 8, 7));
        const again = reopen ? await reopen() : adapter;
        expect(await again.load(['doc-a', 'snapshot', 's1'])).toEqual(bytes(9, 8, 7));
        expect(await again.loadRange(['doc-a'])).toEqual([{ key: ['doc-a', 'snapshot', 's1'], data: bytes(9, 8, 7) }]);
      }));

    it('carries a Repo through compaction, shutdown and reopening with the same content and heads', () =>
      withFixture(setup, async ({ adapter, reopen }) => {
        const recorder = new RecordingAdapter(adapter);
        const repo = new Repo({ storage: recorder, network: [] });
        // Start above automerge-repo's 1 KiB "always compact" threshold so incremental chunks appear.
        const handle = repo.create<{ title: string; lines: string[] }>({ title: fillerText(1, 2000), lines: [] });
        await repo.flush();
        const rounds = 24;
        let maxChunks = 0;
        for (let i = 0; i < rounds; i++) {
          handle.change(d => {
            d.lines.push(fillerText(100 + i, 300));
          });
          await repo.flush();
          maxChunks = Math.max(maxChunks, (await adapter.loadRange([handle.documentId])).length);
        }
        const heads = A.getHeads(handle.doc());
        const content = JSON.parse(JSON.stringify(handle.doc()));
        await repo.shutdown();

        const removedIncrementals = recorder.removed.filter(k => k[0] === handle.documentId && k[1] === 'incremental');
        expect(maxChunks).toBeGreaterThan(1); // incremental chunks were written...
        expect(removedIncrementals.length).toBeGreaterThan(0); // ...and compaction removed them
        const left = await adapter.loadRange([handle.documentId]);
        expect(left.length).toBeLessThan(rounds);
        expect(left.filter(c => c.key[1] === 'snapshot').length).toBeGreaterThanOrEqual(1);

        const repo2 = new Repo({ storage: reopen ? await reopen() : adapter, network: [] });
        const found = await repo2.find<{ title: string; lines: string[] }>(handle.url);
        expect(A.getHeads(found.doc())).toEqual(heads);
        expect(JSON.parse(JSON.stringify(found.doc()))).toEqual(content);
        expect(found.doc().lines).toHaveLength(rounds);
        await repo2.shutdown();
      }));
  });
}
