import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../../relay/store/SqliteStore.ts';
import { runRelayStoreTests } from './runRelayStoreTests.ts';

runRelayStoreTests('SQLite', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cloister-store-'));
  const path = join(dir, 'relay.sqlite');
  let store = new SqliteStore(path);
  return {
    store,
    reopen: async () => {
      await store.close();
      store = new SqliteStore(path);
      return store;
    },
    teardown: async () => {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
});
