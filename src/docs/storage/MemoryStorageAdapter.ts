// A Map-backed StorageAdapter for tests and the acceptance suite (automerge-repo's DummyStorageAdapter
// lives under helpers/, matches prefixes by string and isn't part of its public API). Not persistent.
// Prefixes match whole components: ['ab'] is not a prefix of ['abc'].
import type { Chunk, StorageAdapterInterface, StorageKey } from '@automerge/automerge-repo';
import { startsWithKey } from './storageNames.ts';

export class MemoryStorageAdapter implements StorageAdapterInterface {
  readonly #data = new Map<string, { key: StorageKey; data: Uint8Array }>();

  async load(key: StorageKey): Promise<Uint8Array | undefined> {
    const entry = this.#data.get(id(key));
    return entry && entry.data.slice();
  }

  async save(key: StorageKey, data: Uint8Array): Promise<void> {
    this.#data.set(id(key), { key: [...key], data: data.slice() });
  }

  async remove(key: StorageKey): Promise<void> {
    this.#data.delete(id(key));
  }

  async loadRange(keyPrefix: StorageKey): Promise<Chunk[]> {
    return [...this.#data.values()].filter(e => startsWithKey(e.key, keyPrefix)).map(e => ({ key: [...e.key], data: e.data.slice() }));
  }

  async removeRange(keyPrefix: StorageKey): Promise<void> {
    for (const [k, e] of this.#data) if (startsWithKey(e.key, keyPrefix)) this.#data.delete(k);
  }

  /** Every stored key and value, as the backing store holds them (for tests that inspect raw storage). */
  entries(): { key: StorageKey; data: Uint8Array }[] {
    return [...this.#data.values()].map(e => ({ key: [...e.key], data: e.data }));
  }
}

const id = (key: StorageKey): string => JSON.stringify(key);
