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
    async drop() {
      const c = new pg.Client({ connectionString: baseUrl, connectionTimeoutMillis: 5000 });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    },
  };
}

/** The PostgreSQL server to benchmark against, if any (BENCH_DATABASE_URL, else CI's TEST_DATABASE_URL). */
export function benchDatabaseUrl(): string | undefined {
  const v = process.env.BENCH_DATABASE_URL ?? process.env.TEST_DATABASE_URL;
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}
