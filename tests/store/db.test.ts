import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, testDatabases, type TestDatabase } from '../helpers/db.ts';

// The pool must behave like a PostgreSQL connection pool on both engines: a failed query fails
// alone, and a client dropped mid-transaction leaves nothing behind. (On PGlite this guards our
// own node-postgres connection against the embedded engine's protocol quirks.)
describe.each(testDatabases())('database pool on %s', (kind) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await openTestDatabase(kind);
  });
  afterAll(() => t.cleanup());

  it('answers every query with its own result after failures', async () => {
    const q = async (text: string, values?: unknown[]): Promise<unknown> => {
      try {
        return (await t.db.pool.query(text, values)).rows;
      } catch (err) {
        return (err as { code?: string }).code;
      }
    };
    expect(await q('SELECT $1::int AS x', ['abc'])).toBe('22P02'); // fails at Bind
    expect(await q('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    expect(await q('SELECT $1::int AS x', [5])).toEqual([{ x: 5 }]);
    expect(await q('SELECT x::jsonb AS j FROM unnest($1::text[]) AS t(x)', [['{bad']])).toBe('22P02'); // fails at Execute
    expect(await q('SELECT 3 AS three')).toEqual([{ three: 3 }]);
    expect(await q('SELECT $1::text AS x', ['nul\u0000'])).toBe('22021');
    expect(await q('SELEC 1')).toBe('42601'); // fails at Parse
    expect(await q('SELECT 4 AS four')).toEqual([{ four: 4 }]);
    // Interleaved from concurrent callers.
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 3 === 1 ? q('SELECT $1::int AS bad', ['x']) : q('SELECT $1::int AS n', [i]))));
    expect(results).toEqual(Array.from({ length: 12 }, (_, i) => (i % 3 === 1 ? '22P02' : [{ n: i }])));
  });

  it('rolls back the transaction of a client dropped in the middle of it', async () => {
    await t.db.pool.query('CREATE TABLE IF NOT EXISTS drop_probe (n integer)');
    const client = await t.db.pool.connect();
    await client.query('BEGIN');
    await client.query('INSERT INTO drop_probe VALUES (1)');
    await expect(client.query('INSERT INTO drop_probe VALUES ($1)', ['not a number'])).rejects.toMatchObject({ code: '22P02' });
    client.release(new Error('abandoned')); // destroys the client, like a lost connection
    const { rows } = await t.db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM drop_probe');
    expect(rows).toEqual([{ n: 0 }]);
    // And the next client is not stuck in an aborted transaction.
    await t.db.pool.query('INSERT INTO drop_probe VALUES (2)');
    expect((await t.db.pool.query('SELECT n FROM drop_probe')).rows).toEqual([{ n: 2 }]);
  });

  it('pings while open and not after close', async () => {
    expect(await t.db.ping()).toBe(true);
    const other = await openTestDatabase(kind);
    await other.db.close();
    expect(await other.db.ping()).toBe(false);
    await other.cleanup();
  });
});

// A client held between two queries (a transaction, a migration, a rollup refresh) when the server
// ends its connection: pg-pool does not listen on checked-out clients, and the unhandled 'error' used to
// end the gateway process (the fault suite lost its gateway when PostgreSQL stopped at such a moment).
describe.each(testDatabases().filter((k) => k === 'postgres'))('a checked-out client whose connection the server ends (%s)', (kind) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await openTestDatabase(kind);
  });
  afterAll(() => t.cleanup());

  it('fails its next query and is logged, without an unhandled error; the pool goes on', async () => {
    const held = await t.db.pool.connect();
    const pid = (await held.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid;
    expect(pid).toBeTypeOf('number');
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown): void => void uncaught.push(err);
    process.on('uncaughtException', onUncaught);
    try {
      await t.db.pool.query('SELECT pg_terminate_backend($1)', [pid]);
      await expect.poll(() => t.log.entries.some((e) => e.msg === 'database connection failed'), { timeout: 5_000 }).toBe(true);
      const err = await held.query('SELECT 1').then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      held.release(err as Error);
    } finally {
      process.off('uncaughtException', onUncaught);
    }
    expect(uncaught).toEqual([]);
    expect((await t.db.pool.query('SELECT 2 AS two')).rows).toEqual([{ two: 2 }]);
  });
});
