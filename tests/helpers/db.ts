// Fresh databases for tests, on every engine the gateway supports:
//
//   describe.each(testDatabases())('%s', (kind) => {
//     let t: TestDatabase;
//     beforeEach(async () => { t = await openTestDatabase(kind); });
//     afterEach(() => t.cleanup());
//   });
//
// 'pglite' is always there: a new data folder per call, copied from a once-per-machine template
// (PGlite's initdb costs several seconds; copying a closed cluster well under one). 'postgres' is added
// when TEST_DATABASE_URL is set: each call creates a uniquely named database through that URL
// (its role needs CREATEDB) and cleanup() drops it. In CI (CI=true) a missing TEST_DATABASE_URL is
// an error, so CI always exercises a real server (`eval "$(bash .ci/postgres.sh)"`).
import { createHash, randomBytes } from 'node:crypto';
import { cp, mkdtemp, readFile, rename, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openDatabase, type Database, type DatabaseKind, type OpenDatabaseOptions, type StoreLogger } from '../../src/store/db.ts';
import { loadMigrations } from '../../src/store/migrate.ts';
import { dropDatabaseWhenFree } from '../../bench/lib/scratchDb.ts';

export type TestDatabaseKind = DatabaseKind;

export function testDatabases(): TestDatabaseKind[] {
  const url = process.env.TEST_DATABASE_URL;
  if (url === undefined || url === '') {
    if (process.env.CI === 'true') {
      throw new Error('CI=true but TEST_DATABASE_URL is not set: CI must run the store tests on PostgreSQL (eval "$(bash .ci/postgres.sh)")');
    }
    return ['pglite'];
  }
  return ['pglite', 'postgres'];
}

export interface LogEntry {
  level: 'info' | 'warn' | 'error';
  obj: object;
  msg: string | undefined;
}

/** A StoreLogger that keeps what it is told, so tests can assert on logs. */
export interface CapturedLogger extends StoreLogger {
  readonly entries: LogEntry[];
  /** Everything logged, serialized (to check that no secret appears anywhere). */
  text(): string;
}

export function captureLogger(): CapturedLogger {
  const entries: LogEntry[] = [];
  const add = (level: LogEntry['level']) => (obj: object, msg?: string) => {
    entries.push({ level, obj, msg });
  };
  return { entries, info: add('info'), warn: add('warn'), error: add('error'), text: () => JSON.stringify(entries) };
}

export interface TestDatabase {
  kind: TestDatabaseKind;
  db: Database;
  /** The data folder (PGlite keeps its cluster in `${dataDir}/pglite`). */
  dataDir: string;
  /** The scratch database's URL (postgres kind only). */
  databaseUrl: string | undefined;
  log: CapturedLogger;
  cleanup(): Promise<void>;
}

export interface OpenTestDatabaseOptions {
  /** Extra openDatabase options (timeouts, pool size, migrationsDir). */
  options?: Partial<Omit<OpenDatabaseOptions, 'databaseUrl' | 'dataDir' | 'log'>>;
  /** Rewrites the scratch database URL before connecting (e.g. to go through a fault proxy). */
  connectThrough?: (url: string) => string;
}

export async function openTestDatabase(kind: TestDatabaseKind, opts: OpenTestDatabaseOptions = {}): Promise<TestDatabase> {
  const log = captureLogger();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'gw-test-db-'));
  let scratch: ScratchPostgres | null = null;
  try {
    let databaseUrl: string | undefined;
    if (kind === 'postgres') {
      scratch = await createPostgresDatabase();
      databaseUrl = scratch.url;
    } else {
      await copyPgliteTemplate(path.join(dataDir, 'pglite'));
    }
    const connectUrl = databaseUrl !== undefined && opts.connectThrough !== undefined ? opts.connectThrough(databaseUrl) : databaseUrl;
    const db = await openDatabase({ ...opts.options, databaseUrl: connectUrl, dataDir, log });
    const drop = scratch;
    let cleaned: Promise<void> | null = null;
    return {
      kind,
      db,
      dataDir,
      databaseUrl,
      log,
      cleanup(): Promise<void> {
        cleaned ??= (async () => {
          await db.close();
          if (drop !== null) await drop.drop();
          await rm(dataDir, { recursive: true, force: true });
        })();
        return cleaned;
      },
    };
  } catch (err) {
    if (scratch !== null) await scratch.drop();
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
}

export interface ScratchPostgres {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A new, empty database on the TEST_DATABASE_URL server. */
export async function createPostgresDatabase(): Promise<ScratchPostgres> {
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (adminUrl === undefined || adminUrl === '') throw new Error('TEST_DATABASE_URL is not set');
  const name = `gw_test_${process.pid}_${randomBytes(5).toString('hex')}`;
  await withAdmin(adminUrl, (c) => c.query(`CREATE DATABASE "${name}"`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    // FORCE (PostgreSQL 13+) disconnects sessions a failed test may have left behind. It cannot end an
    // autovacuum worker (the superuser's) that happens to be in the database: that one finishes within
    // moments, so the drop is tried again.
    drop: () => dropDatabaseWhenFree(adminUrl, name, 20),
  };
}

async function withAdmin(adminUrl: string, fn: (c: pg.Client) => Promise<unknown>): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    await fn(client);
  } finally {
    await client.end();
  }
}

let templateReady: Promise<string> | null = null;

async function copyPgliteTemplate(target: string): Promise<void> {
  templateReady ??= ensurePgliteTemplate();
  await cp(await templateReady, target, { recursive: true });
}

/**
 * A closed PGlite cluster with the shipped migrations applied, shared by all test workers on this
 * machine. Keyed by the PGlite version and the migrations' content, so adding or editing a
 * migration builds a new template (and openDatabase still runs migrate(), which then finds nothing
 * to do).
 */
async function ensurePgliteTemplate(): Promise<string> {
  const require = createRequire(import.meta.url);
  const pkgPath = path.join(path.dirname(require.resolve('@electric-sql/pglite')), '..', 'package.json');
  const { version } = JSON.parse(await readFile(pkgPath, 'utf8')) as { version: string };
  const hash = createHash('sha256').update(version);
  for (const m of await loadMigrations()) hash.update(`${m.version}:${m.checksum};`);
  const template = path.join(os.tmpdir(), `gw-pglite-template-${hash.digest('hex').slice(0, 16)}`);
  if (await exists(path.join(template, 'PG_VERSION'))) return template;
  // Built aside and renamed into place: rename is atomic, so a concurrent worker either sees a
  // complete template or none, and the loser of the race discards its copy.
  const building = await mkdtemp(path.join(os.tmpdir(), 'gw-pglite-template-build-'));
  const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
  const db = await openDatabase({ dataDir: building, log: quiet });
  await db.close();
  try {
    await rename(path.join(building, 'pglite'), template);
  } catch {
    if (!(await exists(path.join(template, 'PG_VERSION')))) throw new Error(`could not create the PGlite template at ${template}`);
  } finally {
    await rm(building, { recursive: true, force: true });
  }
  return template;
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}
