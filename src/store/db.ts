// One database code path (DESIGN.md decision 5): the app always talks to a `pg.Pool`. Without a
// DATABASE_URL the pool runs over embedded PGlite (Postgres compiled to WASM, on a worker thread,
// see pgliteThread.ts) through our node-postgres connection (pgliteConnection.ts), persisted under
// `${dataDir}/pglite`; with one, over a real PostgreSQL server. Migrations are applied before the
// pool is handed out.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { createError } from '../errors.ts';
import { EMBEDDED_V8_FLAGS } from '../processTuning.ts';
import { PgliteThread } from './pgliteThread.ts';
import { migrate } from './migrate.ts';
import { ChangeHandlers, checkChannel, feedOver, PostgresNotifications, type ChangeFeed } from './changeFeed.ts';
import { createPglitePool, PgliteWire } from './pgliteConnection.ts';
import { DatabaseProgress, watchPoolProgress } from './dbProgress.ts';
import { waitForPostgres } from './startWait.ts';

export type DatabaseKind = 'pglite' | 'postgres';

/** The pino-style subset of a logger this module uses. */
export interface StoreLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** What the stores need of a pool (pg.Pool fits); tests wrap a pool in one to inject faults. */
export interface Queryable {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- mirrors pg's own default row type
  query<R extends pg.QueryResultRow = any>(text: string, values?: unknown[]): Promise<pg.QueryResult<R>>;
}

export interface OpenDatabaseOptions {
  /** postgres://user:pass@host:port/db. Unset → embedded PGlite in `${dataDir}/pglite`. */
  databaseUrl?: string | undefined;
  dataDir: string;
  log: StoreLogger;
  /** Connections in the pool (PostgreSQL only; PGlite is a single connection). Default 10. */
  poolMax?: number;
  /** Server-side `statement_timeout` for every statement (PostgreSQL only). Default 15 000. */
  statementTimeoutMs?: number;
  /**
   * Client-side limit on waiting for a query's answer, so a stalled network path (no RST, no
   * answer) fails instead of hanging forever. Default statementTimeoutMs + 5 000.
   */
  queryTimeoutMs?: number;
  /** Time allowed to open a TCP connection and authenticate (PostgreSQL only). Default 5 000. */
  connectionTimeoutMs?: number;
  /** Shown in pg_stat_activity. Default 'voice-gateway'. */
  applicationName?: string;
  /** Migrations folder; defaults to the one next to this file. Tests use their own. */
  migrationsDir?: string;
  /**
   * How long the first connection to PostgreSQL is retried while the server does not answer
   * (startWait.ts; DATABASE_START_WAIT_MS). Default 0: one attempt.
   */
  startWaitMs?: number;
}

export interface Database {
  readonly pool: pg.Pool;
  readonly kind: DatabaseKind;
  /** LISTEN/NOTIFY change notifications (see changeFeed.ts). */
  readonly changes: ChangeFeed;
  /** Whether the database is answering at all (see dbProgress.ts): call set-up reads stop waiting on a stalled one. */
  readonly progress: DatabaseProgress;
  /** True when a trivial query answers within `timeoutMs` (default 2 000). Never throws. */
  ping(timeoutMs?: number): Promise<boolean>;
  /**
   * CPU time (µs) the embedded engine's thread has used, for benchmarks and metrics: on PGlite the
   * database's work is part of this process's CPU. Undefined on PostgreSQL (another process).
   */
  engineCpuUs(): Promise<number | undefined>;
  /** Ends the pool (and the embedded engine). Idempotent. */
  close(): Promise<void>;
}

const execFileAsync = promisify(execFile);
const DEFAULT_POOL_MAX = 10;
const DEFAULT_STATEMENT_TIMEOUT_MS = 15_000;
const DEFAULT_CONNECTION_TIMEOUT_MS = 5_000;

/** The URL with its password replaced, for logs and error messages. */
export function redactDatabaseUrl(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    if (url.password !== '') url.password = '***';
    return url.toString();
  } catch {
    // An unparsable URL may still contain a secret: say nothing about it.
    return '<unparsable database URL>';
  }
}

export async function openDatabase(opts: OpenDatabaseOptions): Promise<Database> {
  if (opts.databaseUrl !== undefined && opts.databaseUrl !== '') return openPostgres(opts, opts.databaseUrl);
  return openPglite(opts);
}

async function openPostgres(opts: OpenDatabaseOptions, databaseUrl: string): Promise<Database> {
  let url: URL;
  try {
    url = new URL(databaseUrl);
  } catch (cause) {
    throw createError('GW_ERR_STORE_BAD_URL', 'DATABASE_URL is not a valid URL: expected postgres://user:password@host:port/database', { cause });
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw createError('GW_ERR_STORE_BAD_URL', `DATABASE_URL must start with postgres:// (got ${url.protocol}//)`);
  }
  const statementTimeoutMs = opts.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS;
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: opts.poolMax ?? DEFAULT_POOL_MAX,
    connectionTimeoutMillis: opts.connectionTimeoutMs ?? DEFAULT_CONNECTION_TIMEOUT_MS,
    statement_timeout: statementTimeoutMs,
    query_timeout: opts.queryTimeoutMs ?? statementTimeoutMs + 5_000,
    application_name: opts.applicationName ?? 'voice-gateway',
    // Detect half-open connections (a peer that vanished without a FIN) at the TCP level.
    keepAlive: true,
  });
  const where = { kind: 'postgres' as const, url: redactDatabaseUrl(databaseUrl), host: url.hostname, port: url.port || '5432', database: url.pathname.replace(/^\//, '') };
  attachPoolErrorLog(pool, opts.log, where);
  try {
    await waitForPostgres(pool, where, { waitMs: opts.startWaitMs ?? 0, log: opts.log });
    await migrate(pool, { log: opts.log, dir: opts.migrationsDir });
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
  opts.log.info(where, 'database opened');
  const handlers = new ChangeHandlers(opts.log);
  const notifications = new PostgresNotifications(
    { connectionString: databaseUrl, connectionTimeoutMillis: opts.connectionTimeoutMs ?? DEFAULT_CONNECTION_TIMEOUT_MS, application_name: `${opts.applicationName ?? 'voice-gateway'}-changes`, keepAlive: true },
    handlers,
    opts.log,
  );
  const changes = feedOver(notifications, handlers, opts.log);
  return makeDatabase(pool, 'postgres', changes, async () => undefined, async () => {
    await changes.close();
    await pool.end();
  });
}

async function openPglite(opts: OpenDatabaseOptions): Promise<Database> {
  const dir = path.join(opts.dataDir, 'pglite');
  await mkdir(dir, { recursive: true });
  const started = performance.now();
  // PGlite runs on a worker thread (see pgliteThread.ts): in-process, its WASM queries run
  // synchronously on the event loop and would stall every call's audio while events are written.
  // A new data folder is initialised (initdb) in a child process (see pgliteInitdb.ts), so a first
  // start carries no more memory than a restart.
  if (!existsSync(path.join(dir, 'PG_VERSION'))) await initdbInChildProcess(dir);
  const engine = await PgliteThread.start(dir);
  // Our own node-postgres connection rather than the package's node-postgres adapter, which
  // desynchronizes after the first failed query (see pgliteConnection.ts).
  const wire = new PgliteWire(engine);
  const pool = createPglitePool(engine, wire);
  const handlers = new ChangeHandlers(opts.log);
  wire.onNotification = (channel, payload) => handlers.dispatch(channel, payload);
  const changes = feedOver(
    {
      listen: async (channel) => {
        wire.listening.add(checkChannel(channel));
        await pool.query(`LISTEN ${channel}`);
      },
      close: async () => undefined,
    },
    handlers,
    opts.log,
  );
  const where = { kind: 'pglite' as const, dataDir: dir };
  attachPoolErrorLog(pool, opts.log, where);
  try {
    await migrate(pool, { log: opts.log, dir: opts.migrationsDir });
  } catch (err) {
    await pool.end().catch(() => undefined);
    await engine.close().catch(() => undefined);
    throw err;
  }
  opts.log.info({ ...where, openMs: Math.round(performance.now() - started) }, 'database opened');
  return makeDatabase(pool, 'pglite', changes, () => engine.cpuUs(), async () => {
    await changes.close();
    await pool.end();
    await engine.close();
  });
}

/**
 * Runs pgliteInitdb.ts in a process of its own and waits for it; rejects with its stderr if it fails.
 * With the gateway's own WASM flags: initdb's TurboFan tier-up would take the machine ~600 MB more
 * for a second, beside the gateway (see processTuning.ts).
 */
async function initdbInChildProcess(dir: string): Promise<void> {
  const script = fileURLToPath(new URL('./pgliteInitdb.ts', import.meta.url));
  try {
    await execFileAsync(process.execPath, [...EMBEDDED_V8_FLAGS, script, dir], { maxBuffer: 1024 * 1024 });
  } catch (err) {
    const output = (err as { stderr?: unknown }).stderr;
    const stderr = (typeof output === 'string' ? output : '').trim().slice(-1000);
    throw new Error(`PGlite could not create its database in ${dir}: ${stderr || (err as Error).message}`, { cause: err });
  }
}

// A client whose connection dies (server restart, network cut) emits 'error'; without a listener
// that event ends the process. pg-pool listens only while a client is idle (and then drops it, and
// re-emits on the pool): on checkout it removes its listener, so a client held by a transaction, a
// migration or a rollup refresh between two of its queries when the server stopped crashed the
// gateway. Every client gets a listener of its own for its whole life; its holder sees the failure on
// its next query and releases it broken.
function attachPoolErrorLog(pool: pg.Pool, log: StoreLogger, where: object): void {
  // The pool's re-emit of an idle client's failure: already reported by that client's listener.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => {
    client.on('error', (err) => {
      log.warn({ ...where, err: { message: err.message, code: (err as { code?: string }).code } }, 'database connection failed');
    });
  });
}

function makeDatabase(pool: pg.Pool, kind: DatabaseKind, changes: ChangeFeed, engineCpuUs: () => Promise<number | undefined>, shutdown: () => Promise<void>): Database {
  let closing: Promise<void> | null = null;
  const progress = new DatabaseProgress();
  watchPoolProgress(pool, progress);
  return {
    pool,
    kind,
    changes,
    progress,
    engineCpuUs,
    async ping(timeoutMs = 2_000): Promise<boolean> {
      if (closing !== null) return false;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(false), timeoutMs);
        timer.unref();
      });
      const query = pool.query('SELECT 1 AS ok').then(
        (r) => r.rows[0]?.ok === 1,
        () => false,
      );
      try {
        return await Promise.race([query, timeout]);
      } finally {
        clearTimeout(timer);
      }
    },
    close(): Promise<void> {
      closing ??= shutdown();
      return closing;
    },
  };
}
