// PostgreSQL for tests: the server in $CLOISTER_TEST_POSTGRES_URL (default the local trust-auth one),
// uniquely named databases that tests create and drop, and the rule that under CI=true an
// unreachable server fails the run instead of skipping.
import pg from 'pg';

export const PG_ADMIN_URL = process.env.CLOISTER_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** The admin URL without its credentials, for skip messages. */
export const PG_ADMIN_SHOWN = PG_ADMIN_URL.replace(/\/\/[^@]*@/, '//…@');

/** A unique database name for this process: `${prefix}_${pid}_${time}`. */
export const uniqueDbName = (prefix: string): string => `${prefix}_${process.pid}_${Date.now()}`;

/** Run one statement on the admin connection (CREATE/DROP DATABASE). */
export async function pgAdminQuery(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 1500 });
  try {
    await c.connect();
    await c.query(sql);
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** Create these databases; false if the server can't be reached (throws instead under CI=true). */
export async function createPgDatabases(...names: string[]): Promise<boolean> {
  try {
    for (const n of names) await pgAdminQuery(`CREATE DATABASE ${n}`);
    return true;
  } catch (e) {
    if (process.env.CI === 'true') throw new Error(`PostgreSQL must be reachable in CI (${PG_ADMIN_URL}): ${String(e)}`);
    return false;
  }
}

export const dropPgDatabase = (name: string): Promise<void> => pgAdminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);

/** The URL of database `name` on the test server. */
export function pgDatabaseUrl(name: string): string {
  const u = new globalThis.URL(PG_ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
}
