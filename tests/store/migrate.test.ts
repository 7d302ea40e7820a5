import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/store/db.ts';
import { loadMigrations, migrate } from '../../src/store/migrate.ts';
import { captureLogger, openTestDatabase, testDatabases, type TestDatabase } from '../helpers/db.ts';

// Versions 9xx stay clear of the real migrations (001, 002, …) already applied at open.
async function migrationsDir(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'gw-migrations-'));
  for (const [name, sql] of Object.entries(files)) await writeFile(path.join(dir, name), sql);
  return dir;
}

describe('loadMigrations', () => {
  it('orders files by version and rejects bad names and duplicate versions', async () => {
    const ok = await migrationsDir({ '010_b.sql': 'SELECT 1', '002_a.sql': 'SELECT 2', 'README.md': 'not sql' });
    expect((await loadMigrations(ok)).map((m) => [m.version, m.name])).toEqual([[2, 'a'], [10, 'b']]);
    const badName = await migrationsDir({ '1_a.sql': 'SELECT 1' });
    await expect(loadMigrations(badName)).rejects.toMatchObject({ code: 'GW_ERR_STORE_MIGRATION_NAME' });
    const dup = await migrationsDir({ '003_a.sql': 'SELECT 1', '003_b.sql': 'SELECT 1' });
    await expect(loadMigrations(dup)).rejects.toMatchObject({ code: 'GW_ERR_STORE_MIGRATION_DUPLICATE' });
    for (const d of [ok, badName, dup]) await rm(d, { recursive: true });
  });

  it('ships 001_core first', async () => {
    const shipped = await loadMigrations();
    expect(shipped[0]).toMatchObject({ version: 1, name: 'core' });
  });
});

describe.each(testDatabases())('migrations on %s', (kind) => {
  let t: TestDatabase;
  const dirs: string[] = [];
  beforeEach(async () => {
    t = await openTestDatabase(kind);
  });
  afterEach(async () => {
    await t.cleanup();
    for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
  });

  it('applies the core schema at open and records it', async () => {
    const { rows } = await t.db.pool.query<{ version: number; name: string }>('SELECT version, name FROM schema_migrations ORDER BY version');
    expect(rows[0]).toEqual({ version: 1, name: 'core' });
    const tables = await t.db.pool.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_name IN ('calls', 'call_events') ORDER BY 1",
    );
    expect(tables.rows.map((r) => r.table_name)).toEqual(['call_events', 'calls']);
  });

  it('is idempotent: a second run applies nothing', async () => {
    const again = await migrate(t.db.pool, { log: t.log });
    expect(again.applied).toEqual([]);
    expect(again.alreadyApplied).toContain(1);
  });

  it('applies a set exactly once when several instances migrate at the same moment', async () => {
    // CREATE TABLE without IF NOT EXISTS and a plain INSERT: applying either file twice would fail
    // or leave two rows.
    const dir = await migrationsDir({
      '901_first.sql': 'CREATE TABLE mig_probe (n integer NOT NULL); INSERT INTO mig_probe VALUES (1);',
      '902_second.sql': 'INSERT INTO mig_probe VALUES (2); SELECT pg_sleep(0.05);',
    });
    dirs.push(dir);
    // Separate pools are separate instances on PostgreSQL; PGlite has one connection per cluster,
    // so there the "instances" share the pool and serialize on it.
    const pools = t.kind === 'postgres' ? Array.from({ length: 4 }, () => new pg.Pool({ connectionString: t.databaseUrl, max: 1 })) : [t.db.pool, t.db.pool, t.db.pool];
    try {
      const results = await Promise.all(pools.map((p) => migrate(p, { log: t.log, dir })));
      const appliedBy = results.flatMap((r) => r.applied);
      expect(appliedBy.sort()).toEqual([901, 902]);
      expect(results.filter((r) => r.applied.length === 2)).toHaveLength(1);
    } finally {
      if (t.kind === 'postgres') await Promise.all(pools.map((p) => p.end()));
    }
    expect(t.log.entries.filter((e) => e.msg === 'migration applied').map((e) => (e.obj as { version: number }).version).filter((v) => v >= 900)).toEqual([901, 902]);
    const probe = await t.db.pool.query<{ n: number }>('SELECT n FROM mig_probe ORDER BY n');
    expect(probe.rows.map((r) => r.n)).toEqual([1, 2]);
    const recorded = await t.db.pool.query('SELECT version FROM schema_migrations WHERE version >= 900 ORDER BY version');
    expect(recorded.rows).toEqual([{ version: 901 }, { version: 902 }]);
  });

  it('rolls a failing migration back entirely and stops there', async () => {
    const dir = await migrationsDir({
      '901_ok.sql': 'CREATE TABLE mig_ok (n integer);',
      '902_broken.sql': 'CREATE TABLE mig_half (n integer); INSERT INTO mig_half VALUES (1); SELECT * FROM no_such_table;',
      '903_after.sql': 'CREATE TABLE mig_after (n integer);',
    });
    dirs.push(dir);
    await expect(migrate(t.db.pool, { log: t.log, dir })).rejects.toMatchObject({ code: 'GW_ERR_STORE_MIGRATION_FAILED' });
    const { rows } = await t.db.pool.query<{ table_name: string }>(
      "SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'mig_%' ORDER BY 1",
    );
    expect(rows.map((r) => r.table_name)).toEqual(['mig_ok']);
    const recorded = await t.db.pool.query('SELECT version FROM schema_migrations WHERE version >= 900');
    expect(recorded.rows).toEqual([{ version: 901 }]);
    // The connection came back usable (no open transaction, lock released).
    const again = await migrate(t.db.pool, { log: t.log, dir: await migrationsDir({ '901_ok.sql': 'CREATE TABLE mig_ok (n integer);' }) });
    expect(again.alreadyApplied).toContain(901);
  });

  it('refuses to run when an applied migration was edited', async () => {
    const dir = await migrationsDir({ '901_x.sql': 'CREATE TABLE mig_x (n integer);' });
    dirs.push(dir);
    await migrate(t.db.pool, { log: t.log, dir });
    await writeFile(path.join(dir, '901_x.sql'), 'CREATE TABLE mig_x (n bigint);');
    await expect(migrate(t.db.pool, { log: t.log, dir })).rejects.toMatchObject({ code: 'GW_ERR_STORE_MIGRATION_CHANGED' });
  });

  it('keeps data across reopen without re-applying anything', async () => {
    await t.db.pool.query("INSERT INTO calls (id, carrier, direction, from_number, to_number, status) VALUES ('keep', 'twilio', 'inbound', '+1', '+2', 'ringing')");
    await t.db.close();
    const log = captureLogger();
    const reopened = await openDatabase({ databaseUrl: t.databaseUrl, dataDir: t.dataDir, log });
    try {
      const { rows } = await reopened.pool.query('SELECT id FROM calls');
      expect(rows).toEqual([{ id: 'keep' }]);
      expect(log.entries.filter((e) => e.msg === 'migration applied')).toEqual([]);
      expect(await reopened.ping()).toBe(true);
    } finally {
      await reopened.close();
    }
    expect(await reopened.ping()).toBe(false);
  });
});

describe('openDatabase', () => {
  it('rejects a URL that is not postgres:// and never logs a password', async () => {
    const log = captureLogger();
    await expect(openDatabase({ databaseUrl: 'mysql://u:secret@h/db', dataDir: os.tmpdir(), log })).rejects.toMatchObject({ code: 'GW_ERR_STORE_BAD_URL' });
    await expect(openDatabase({ databaseUrl: 'not a url', dataDir: os.tmpdir(), log })).rejects.toMatchObject({ code: 'GW_ERR_STORE_BAD_URL' });
    expect(log.text()).not.toContain('secret');
  });

  it.each(testDatabases().filter((k) => k === 'postgres'))('logs where it connected without the password (%s)', async (kind) => {
    const t = await openTestDatabase(kind);
    try {
      const password = new URL(t.databaseUrl ?? '').password;
      expect(password).not.toBe('');
      // The CI role's password may equal its user name, so look for it where a URL would carry it.
      expect(t.log.text()).not.toContain(`:${password}@`);
      expect(t.log.entries.find((e) => e.msg === 'database opened')?.obj).toMatchObject({ kind: 'postgres', host: '127.0.0.1', url: expect.stringContaining(':***@') });
    } finally {
      await t.cleanup();
    }
  });
});
