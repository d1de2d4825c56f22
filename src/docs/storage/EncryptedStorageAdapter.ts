// An automerge-repo StorageAdapter that encrypts every value and hides every key name (DESIGN →
// Documents and changes → Local storage). It wraps any inner adapter (memory, NodeFS, IndexedDB).
// Guarantees: the inner adapter only ever sees keyed-hash names and sealed bytes; a value moved to
// another name, tampered with, or sealed under another key is reported and treated as missing, never
// thrown into the Repo and never deleted; a wrong data key is caught by `open` before any Repo exists.
//
// Layout of one stored value, under name N = hashStorageKey(nameKey, K):
//   sealBytes(storageKey, u8(1) ‖ encodeKeyPath(K) ‖ value, DOMAIN.storage, ad = encodeKeyPath(N))
// The associated data is the stored name, itself a keyed function of K, so the value is bound to K
// (a file renamed to another key's name fails authentication) and loadRange can decrypt chunks whose
// original key it doesn't know yet. The original K inside is then checked against N and the request.
import type { Chunk, StorageAdapterInterface, StorageKey } from '@automerge/automerge-repo';
import { openBytes, sealBytes, type AeadFailure } from '../../crypto/aead.ts';
import { ByteReader, concat, equalBytes, utf8 } from '../../crypto/bytes.ts';
import { DOMAIN, INFO } from '../../crypto/domains.ts';
import { deriveSubkey } from '../../crypto/hkdf.ts';
import type { DataKey, StorageKey as StorageValueKey, StorageNameKey } from '../../crypto/keys.ts';
import { fail, ok, type Result } from '../../crypto/result.ts';
import { encodeKeyPath, hashStorageKey, sameKey, startsWithKey } from './storageNames.ts';
import type { StorageCorruptReason, StorageOpenFailure } from './storageReasons.ts';

const VALUE_VERSION = 1;
const MAX_KEY_PARTS = 64;
const MAX_KEY_PART_BYTES = 4096;

/**
 * The key-check record sits under this raw (unhashed) name: a hashed name is always 22 characters,
 * so it can't collide, and a wrong key can't miss it (its hashed name would differ) and write a new one.
 */
export const KEYCHECK_NAME: StorageKey = Object.freeze(['cloister-keycheck']) as unknown as StorageKey;
const KEYCHECK_PLAINTEXT = utf8('cloister storage key check v1');

export type CorruptHandler = (key: StorageKey, reason: StorageCorruptReason, storedName: StorageKey) => void;

export interface EncryptedStorageOptions {
  /**
   * Called once per value that fails to open. `key` is the key asked for (load) or, in loadRange,
   * the stored name (the original key is inside the ciphertext that failed). Must not throw; if it
   * does, the exception is swallowed so the Repo never sees it.
   */
  onCorrupt?: CorruptHandler;
}

export class EncryptedStorageAdapter implements StorageAdapterInterface {
  #corruptCount = 0;

  private constructor(
    private readonly inner: StorageAdapterInterface,
    private readonly valueKey: StorageValueKey,
    private readonly nameKey: StorageNameKey,
    private readonly onCorrupt: CorruptHandler | undefined,
  ) {}

  /**
   * Check `dataKey` against the key-check record (writing one if the storage has none yet) and only
   * then return an adapter. A wrong key returns `storage_wrong_key` instead of letting a Repo start
   * and fail later with an unhandled rejection.
   */
  static async open(
    inner: StorageAdapterInterface,
    dataKey: DataKey,
    options: EncryptedStorageOptions = {},
  ): Promise<Result<EncryptedStorageAdapter, StorageOpenFailure>> {
    const valueKey = deriveSubkey<StorageValueKey>(dataKey, INFO.storageKey);
    const nameKey = deriveSubkey<StorageNameKey>(dataKey, INFO.storageNames);
    const ad = encodeKeyPath(KEYCHECK_NAME);
    try {
      const existing = await inner.load(KEYCHECK_NAME);
      if (existing === undefined) {
        await inner.save(KEYCHECK_NAME, sealBytes(valueKey, KEYCHECK_PLAINTEXT, DOMAIN.storage, ad));
      } else {
        const opened = openBytes(valueKey, existing, DOMAIN.storage, ad);
        if (!opened.ok) return fail(opened.reason === 'aead_wrong_key' ? 'storage_wrong_key' : 'storage_keycheck_corrupt', opened.reason);
        if (!equalBytes(opened.value, KEYCHECK_PLAINTEXT)) return fail('storage_keycheck_corrupt', 'unexpected key-check value');
      }
    } catch (e) {
      return fail('storage_unavailable', e instanceof Error ? e.message : String(e));
    }
    return ok(new EncryptedStorageAdapter(inner, valueKey, nameKey, options.onCorrupt));
  }

  /** How many values failed to open since this adapter was opened. */
  get corruptCount(): number {
    return this.#corruptCount;
  }

  /** The name `key` is stored under in the inner adapter (for tests and tooling). */
  storedNameOf(key: StorageKey): StorageKey {
    return hashStorageKey(this.nameKey, key);
  }

  async load(key: StorageKey): Promise<Uint8Array | undefined> {
    const name = this.storedNameOf(key);
    const bytes = await this.inner.load(name);
    if (bytes === undefined) return undefined;
    const opened = this.openValue(name, bytes);
    if (!opened.ok) return this.corrupt(key, opened.reason, name);
    if (!sameKey(opened.value.key, key)) return this.corrupt(key, 'storage_value_key_mismatch', name);
    return opened.value.data;
  }

  async save(key: StorageKey, data: Uint8Array): Promise<void> {
    const name = this.storedNameOf(key);
    const plaintext = concat(Uint8Array.of(VALUE_VERSION), encodeKeyPath(key), data);
    await this.inner.save(name, sealBytes(this.valueKey, plaintext, DOMAIN.storage, encodeKeyPath(name)));
  }

  async remove(key: StorageKey): Promise<void> {
    await this.inner.remove(this.storedNameOf(key));
  }

  /** Chunks under `keyPrefix` with their original keys; values that fail to open are reported and left out. */
  async loadRange(keyPrefix: StorageKey): Promise<Chunk[]> {
    const namePrefix = this.storedNameOf(keyPrefix);
    const chunks = await this.inner.loadRange(namePrefix);
    const out: Chunk[] = [];
    for (const chunk of chunks) {
      if (chunk.data === undefined) continue;
      const name = [...chunk.key];
      const opened = this.openValue(name, chunk.data);
      if (!opened.ok) {
        this.corrupt(name, opened.reason, name);
        continue;
      }
      const { key, data } = opened.value;
      // The AD already binds the value to `name`; these checks catch our own bugs and hash truncation.
      if (!startsWithKey(key, keyPrefix) || !sameKey(this.storedNameOf(key), name)) {
        this.corrupt(name, 'storage_value_key_mismatch', name);
        continue;
      }
      out.push({ key, data });
    }
    return out;
  }

  async removeRange(keyPrefix: StorageKey): Promise<void> {
    await this.inner.removeRange(this.storedNameOf(keyPrefix));
  }

  private openValue(name: StorageKey, bytes: Uint8Array): Result<{ key: StorageKey; data: Uint8Array }, StorageCorruptReason> {
    const opened = openBytes(this.valueKey, bytes, DOMAIN.storage, encodeKeyPath(name));
    if (!opened.ok) return fail(corruptReasonOf(opened.reason));
    const r = new ByteReader(opened.value);
    if (r.u8() !== VALUE_VERSION) return fail('storage_value_malformed', 'version');
    const count = r.u32();
    if (count === undefined || count > MAX_KEY_PARTS) return fail('storage_value_malformed', 'key length');
    const key: string[] = [];
    for (let i = 0; i < count; i++) {
      const part = r.string(MAX_KEY_PART_BYTES);
      if (part === undefined) return fail('storage_value_malformed', 'key part');
      key.push(part);
    }
    return ok({ key, data: opened.value.subarray(r.offset) });
  }

  private corrupt(key: StorageKey, reason: StorageCorruptReason, storedName: StorageKey): undefined {
    this.#corruptCount++;
    try {
      this.onCorrupt?.(key, reason, storedName);
    } catch {
      // A reporting bug must not become an unhandled rejection inside the Repo.
    }
    return undefined;
  }
}

function corruptReasonOf(reason: AeadFailure): StorageCorruptReason {
  if (reason === 'aead_wrong_key') return 'storage_value_wrong_key';
  if (reason === 'aead_auth_failed') return 'storage_value_auth_failed';
  return 'storage_value_malformed';
}

