// A tiny byte store on IndexedDB (one database, one object store, string keys → Uint8Array values),
// for the browser's vault and workspace files. It stores exactly the bytes given: callers seal first.
export interface BytesStore {
  get(key: string): Promise<Uint8Array | undefined>;
  put(key: string, bytes: Uint8Array): Promise<void>;
  keys(): Promise<string[]>;
  delete(key: string): Promise<void>;
}

const STORE = 'files';

function request<T>(r: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error ?? new Error('IndexedDB request failed'));
  });
}

function openDb(idb: IDBFactory, name: string): Promise<IDBDatabase> {
  const r = idb.open(name, 1);
  r.onupgradeneeded = () => {
    if (!r.result.objectStoreNames.contains(STORE)) r.result.createObjectStore(STORE);
  };
  return request(r);
}

/** A BytesStore in database `dbName`; `idb` defaults to the global indexedDB (tests pass fake-indexeddb). */
export function idbBytesStore(dbName: string, idb: IDBFactory = globalThis.indexedDB): BytesStore {
  let db: Promise<IDBDatabase> | undefined;
  const tx = async <T>(mode: IDBTransactionMode, fn: (s: IDBObjectStore) => IDBRequest<T>): Promise<T> => {
    db ??= openDb(idb, dbName).then((d) => {
      d.onversionchange = () => {
        d.close(); // let a newer version of the app upgrade the database; reopen on next use
        db = undefined;
      };
      return d;
    });
    const opening = db;
    let conn: IDBDatabase;
    try {
      conn = await opening;
    } catch (e) {
      if (db === opening) db = undefined; // a failed open is retried next time, not cached
      throw e;
    }
    const t = conn.transaction(STORE, mode);
    const result = request(fn(t.objectStore(STORE)));
    await new Promise<void>((resolve, reject) => {
      t.oncomplete = () => resolve();
      t.onerror = () => reject(t.error ?? new Error('IndexedDB transaction failed'));
      t.onabort = () => reject(t.error ?? new Error('IndexedDB transaction aborted'));
    });
    return result;
  };
  return {
    async get(key) {
      const v = await tx('readonly', (s) => s.get(key) as IDBRequest<unknown>);
      if (v === undefined) return undefined;
      if (v instanceof Uint8Array) return new Uint8Array(v);
      if (v instanceof ArrayBuffer) return new Uint8Array(v);
      throw new Error(`IndexedDB ${dbName}: value under ${key} is not bytes`);
    },
    async put(key, bytes) {
      await tx('readwrite', (s) => s.put(bytes.slice(), key));
    },
    async keys() {
      return (await tx('readonly', (s) => s.getAllKeys())).filter((k): k is string => typeof k === 'string');
    },
    async delete(key) {
      await tx('readwrite', (s) => s.delete(key));
    },
  };
}
