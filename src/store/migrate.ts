// Versioned SQL migrations: files `NNN_name.sql` in one folder, applied in version order, each in
// its own transaction and recorded in `schema_migrations`. A session-level advisory lock makes the
// whole run exclusive, so several gateway instances starting at once apply each file exactly once
// (the others wait, then find it recorded). An applied file whose text changed is an error: the
// database would no longer match what the code believes its schema to be.
import { createHash } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { createError } from '../errors.ts';
import type { StoreLogger } from './db.ts';

export const DEFAULT_MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));

/**
 * Key of the advisory lock that serializes migration runs. Any constant works as long as nothing
 * else in the database uses it; this one is the first 8 bytes of sha256("voice-gateway/migrations")
 * read as a signed 64-bit integer, kept as a string because it exceeds 2^53.
 */
const MIGRATION_LOCK_KEY = BigInt.asIntN(64, BigInt('0x' + createHash('sha256').update('voice-gateway/migrations').digest('hex').slice(0, 16))).toString();

const FILE_PATTERN = /^(\d{3})_([a-z0-9_]+)\.sql$/;

export interface Migration {
  version: number;
  name: string;
  sql: string;
  checksum: string;
}

export interface MigrateResult {
  applied: number[];
  alreadyApplied: number[];
}

export async function loadMigrations(dir: string = DEFAULT_MIGRATIONS_DIR): Promise<Migration[]> {
  const entries = await readdir(dir);
  const migrations: Migration[] = [];
  const seen = new Map<number, string>();
  for (const file of entries) {
    if (!file.endsWith('.sql')) continue;
    const m = FILE_PATTERN.exec(file);
    if (m === null) {
      throw createError('GW_ERR_STORE_MIGRATION_NAME', `Migration file ${file} must be named NNN_name.sql (three digits, lowercase name)`);
    }
    const version = Number(m[1]);
    const other = seen.get(version);
    if (other !== undefined) {
      throw createError('GW_ERR_STORE_MIGRATION_DUPLICATE', `Migrations ${other} and ${file} share version ${m[1]}: renumber one of them`);
    }
    seen.set(version, file);
    const sql = await readFile(path.join(dir, file), 'utf8');
    migrations.push({ version, name: m[2] ?? '', sql, checksum: createHash('sha256').update(sql).digest('hex') });
  }
  migrations.sort((a, b) => a.version - b.version);
  return migrations;
}

export async function migrate(pool: pg.Pool, opts: { log: StoreLogger; dir?: string | undefined }): Promise<MigrateResult> {
  const migrations = await loadMigrations(opts.dir ?? DEFAULT_MIGRATIONS_DIR);
  const client = await pool.connect();
  let broken = false;
  try {
    // A migration (or waiting for another instance's) may outlast the pool's statement timeout.
    // RESET below restores the connection's default before it goes back to the pool.
    await client.query('SET statement_timeout = 0');
    await client.query('SELECT pg_advisory_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
    try {
      return await applyPending(client, migrations, opts.log);
    } finally {
      await client.query('SELECT pg_advisory_unlock($1::bigint)', [MIGRATION_LOCK_KEY]);
      await client.query('RESET statement_timeout');
    }
  } catch (err) {
    broken = true;
    throw err;
  } finally {
    // A connection that failed mid-way may still hold the lock or an open transaction: discard it.
    client.release(broken);
  }
}

async function applyPending(client: pg.PoolClient, migrations: Migration[], log: StoreLogger): Promise<MigrateResult> {
  await client.query(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY,
    name text NOT NULL,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`);
  const { rows } = await client.query<{ version: number; name: string; checksum: string }>('SELECT version, name, checksum FROM schema_migrations ORDER BY version');
  const recorded = new Map(rows.map((r) => [r.version, r]));
  const known = new Set(migrations.map((m) => m.version));
  const unknown = rows.filter((r) => !known.has(r.version)).map((r) => r.version);
  if (unknown.length > 0) {
    // A newer instance of the gateway migrated further; older code keeps working on the older tables.
    log.warn({ versions: unknown }, 'database has migrations this build does not know');
  }

  const result: MigrateResult = { applied: [], alreadyApplied: [] };
  for (const m of migrations) {
    const done = recorded.get(m.version);
    if (done !== undefined) {
      if (done.checksum !== m.checksum) {
        throw createError(
          'GW_ERR_STORE_MIGRATION_CHANGED',
          `Migration ${String(m.version).padStart(3, '0')}_${m.name} was changed after it was applied; add a new migration instead of editing an applied one`,
        );
      }
      result.alreadyApplied.push(m.version);
      continue;
    }
    const started = performance.now();
    await client.query('BEGIN');
    try {
      await client.query(m.sql);
      await client.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [m.version, m.name, m.checksum]);
      await client.query('COMMIT');
    } catch (cause) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw createError('GW_ERR_STORE_MIGRATION_FAILED', `Migration ${String(m.version).padStart(3, '0')}_${m.name} failed: ${(cause as Error).message}`, { cause });
    }
    result.applied.push(m.version);
    log.info({ version: m.version, name: m.name, ms: Math.round(performance.now() - started) }, 'migration applied');
  }
  return result;
}
