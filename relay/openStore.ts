// Open a relay store from its configuration string: `sqlite:PATH` (PostgreSQL comes later).
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fail, ok, type Result } from '../src/crypto/result.ts';
import type { RelayStore } from './store/RelayStore.ts';
import { SqliteStore } from './store/SqliteStore.ts';

export type StoreSpecFailure = 'store_unsupported' | 'store_invalid' | 'store_open_failed';

export function openStore(spec: string): Result<RelayStore, StoreSpecFailure> {
  if (spec.startsWith('postgres://') || spec.startsWith('postgresql://'))
    return fail('store_unsupported', 'PostgreSQL stores are not supported yet; use --store sqlite:PATH');
  if (!spec.startsWith('sqlite:') || spec.length <= 'sqlite:'.length)
    return fail('store_invalid', `unknown store "${spec}"; expected sqlite:PATH or postgres://...`);
  const path = resolve(spec.slice('sqlite:'.length));
  try {
    mkdirSync(dirname(path), { recursive: true });
    return ok(new SqliteStore(path));
  } catch (e) {
    return fail('store_open_failed', `cannot open ${path}: ${e instanceof Error ? e.message : String(e)}`);
  }
}
