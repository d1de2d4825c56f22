// Open a relay store from its configuration string: `sqlite:PATH` or `postgres://…` (optionally
// with `?schema=NAME`; the relay's tables are created if missing).
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fail, ok, type Result } from '../src/crypto/result.ts';
import type { RelayStore } from './store/RelayStore.ts';
import { SqliteStore } from './store/SqliteStore.ts';

export type StoreSpecFailure = 'store_invalid' | 'store_open_failed';

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

export async function openStore(spec: string): Promise<Result<RelayStore, StoreSpecFailure>> {
  if (spec.startsWith('postgres://') || spec.startsWith('postgresql://')) {
    let url: URL;
    try {
      url = new URL(spec);
    } catch {
      return fail('store_invalid', 'invalid PostgreSQL URL');
    }
    const schema = url.searchParams.get('schema') ?? 'public';
    url.searchParams.delete('schema');
    try {
      const { PostgresStore } = await import('./store/PostgresStore.ts');
      return ok(await PostgresStore.connect({ connectionString: url.toString(), schema }));
    } catch (e) {
      // Never echo the URL: it may carry a password.
      return fail('store_open_failed', `cannot open the PostgreSQL store at ${url.host}: ${message(e)}`);
    }
  }
  if (!spec.startsWith('sqlite:') || spec.length <= 'sqlite:'.length)
    return fail('store_invalid', `unknown store "${spec}"; expected sqlite:PATH or postgres://...`);
  const path = resolve(spec.slice('sqlite:'.length));
  try {
    mkdirSync(dirname(path), { recursive: true });
    return ok(new SqliteStore(path));
  } catch (e) {
    return fail('store_open_failed', `cannot open ${path}: ${message(e)}`);
  }
}
