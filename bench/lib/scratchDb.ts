// A throwaway PostgreSQL database for one benchmark run, created next to the one in the given URL
// (the role needs CREATEDB, as the CI cluster's has) and dropped afterwards, so the benchmark never
// writes into a database that tests or people are using.
import pg from 'pg';

export interface ScratchDatabase {
  url: string;
  drop(): Promise<void>;
}

export async function createScratchDatabase(baseUrl: string): Promise<ScratchDatabase> {
  const name = `gw_bench_${process.pid}_${Date.now().toString(36)}`;
  const admin = new pg.Client({ connectionString: baseUrl, connectionTimeoutMillis: 5000 });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const u = new URL(baseUrl);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    drop: () => dropDatabaseWhenFree(baseUrl, name),
  };
}

/** insufficient_privilege: FORCE met a backend of another role (an autovacuum worker). */
const OTHER_ROLES_BACKEND = '42501';

/**
 * Drops database `name` (next to the one in `adminUrl`), disconnecting its sessions (FORCE, PostgreSQL 13+).
 * FORCE cannot end an autovacuum worker (the superuser's), which a bulk load (the analytics bench's 100 000
 * calls, a test's rows) soon brings into the database: that one finishes within moments, so the drop is tried
 * again, every 250 ms for up to `attempts` tries. Shared by the benchmarks' and the tests' scratch databases.
 */
export async function dropDatabaseWhenFree(adminUrl: string, name: string, attempts = 40): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const c = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 10_000 });
    try {
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      return;
    } catch (err) {
      if ((err as { code?: string }).code !== OTHER_ROLES_BACKEND || attempt >= attempts) throw err;
    } finally {
      await c.end().catch(() => undefined);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** The PostgreSQL server to benchmark against, if any (BENCH_DATABASE_URL, else CI's TEST_DATABASE_URL). */
export function benchDatabaseUrl(): string | undefined {
  const v = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}
