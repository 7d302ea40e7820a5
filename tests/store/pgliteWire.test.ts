// The embedded database's wire (pgliteConnection.ts + pgliteThread.ts): a query's protocol messages go
// to PGlite's thread in one batch, and every query still gets exactly its own answer — after failing
// queries (PGlite's premature ReadyForQuery), inside and after failed transactions, and with many
// queries in flight from many clients of the pool.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StatementNames } from '../../src/store/pgliteConnection.ts';
import { openTestDatabase, type TestDatabase } from '../helpers/db.ts';

describe('PGlite wire', () => {
  let tdb: TestDatabase;
  beforeAll(async () => {
    tdb = await openTestDatabase('pglite');
  });
  afterAll(async () => {
    await tdb?.cleanup();
  });

  it('answers each query with its own result, after failures and with many in flight', async () => {
    const pool = tdb.db.pool;
    await pool.query('CREATE TABLE wire_t (k int PRIMARY KEY, v text)');
    await pool.query('INSERT INTO wire_t VALUES ($1, $2)', [1, 'one']);
    // A failing parameterized query (unique violation) and a failing parse (syntax error)…
    await expect(pool.query('INSERT INTO wire_t VALUES ($1, $2)', [1, 'again'])).rejects.toThrow(/duplicate key/);
    await expect(pool.query('SELEC $1::int', [1])).rejects.toThrow(/syntax error/);
    // …leave the next ones their own answers.
    expect((await pool.query('SELECT $1::int AS n', [7])).rows).toEqual([{ n: 7 }]);
    expect((await pool.query('SELECT v FROM wire_t WHERE k = $1', [1])).rows).toEqual([{ v: 'one' }]);

    // A transaction whose statement fails is rolled back; the client that ran it is usable after.
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('INSERT INTO wire_t VALUES ($1, $2)', [2, 'two']);
      await expect(client.query('INSERT INTO wire_t VALUES ($1, $2)', [2, 'dup'])).rejects.toThrow(/duplicate key/);
      await expect(client.query('SELECT 1')).rejects.toThrow(/aborted/);
      await client.query('ROLLBACK');
      expect((await client.query('SELECT count(*)::int AS c FROM wire_t')).rows).toEqual([{ c: 1 }]);
    } finally {
      client.release();
    }

    // Many queries at once, some failing: each resolves or rejects with its own result.
    const results = await Promise.allSettled(Array.from({ length: 60 }, (_, i) => (i % 7 === 3 ? pool.query('SELECT 1/0 AS boom WHERE $1::int > 0', [i]) : pool.query('SELECT $1::int AS i, $2::text AS t', [i, `q${i}`]))));
    results.forEach((r, i) => {
      if (i % 7 === 3) expect(r.status).toBe('rejected');
      else expect(r.status === 'fulfilled' ? r.value.rows : r.reason).toEqual([{ i, t: `q${i}` }]);
    });
  }, 60_000);

  it('prepares each parameterized query once per session, and a new session prepares again', async () => {
    const pool = tdb.db.pool;
    const prepared = async (): Promise<string[]> =>
      (await pool.query<{ statement: string }>("SELECT statement FROM pg_prepared_statements WHERE statement LIKE '%wire_prep%' ORDER BY statement")).rows.map((r) => r.statement);
    await pool.query('CREATE TABLE wire_prep (k int PRIMARY KEY, v text)');
    for (let k = 1; k <= 3; k++) await pool.query('INSERT INTO wire_prep VALUES ($1, $2)', [k, `v${k}`]);
    expect((await pool.query({ text: 'SELECT v FROM wire_prep WHERE k = $1', values: [2] })).rows).toEqual([{ v: 'v2' }]);
    // Each text once, however often it ran; the text without values (simple protocol) is not prepared.
    expect(await prepared()).toEqual(['INSERT INTO wire_prep VALUES ($1, $2)', 'SELECT v FROM wire_prep WHERE k = $1']);
    // A failing prepared query leaves the statement usable, and the others their own answers.
    await expect(pool.query('INSERT INTO wire_prep VALUES ($1, $2)', [1, 'dup'])).rejects.toThrow(/duplicate key/);
    expect((await pool.query('SELECT v FROM wire_prep WHERE k = $1', [3])).rows).toEqual([{ v: 'v3' }]);
    // A client that ends takes its session's statements with it; the next client prepares them again.
    const client = await pool.connect();
    client.release(true);
    expect(await prepared()).toEqual([]);
    expect((await pool.query('SELECT v FROM wire_prep WHERE k = $1', [1])).rows).toEqual([{ v: 'v1' }]);
    expect(await prepared()).toEqual(['SELECT v FROM wire_prep WHERE k = $1']);
  }, 60_000);
});

describe('StatementNames', () => {
  it('names parameterized texts, the same name for the same text, up to its bound', () => {
    const names = new StatementNames(2);
    const a = names.named('SELECT $1::int', [1]);
    expect(a).toMatchObject({ text: 'SELECT $1::int', name: expect.any(String) });
    expect(names.named({ text: 'SELECT $1::int', values: [2] }, undefined)?.name).toBe(a?.name);
    expect(names.named('SELECT $1::text', ['x'])?.name).not.toBe(a?.name);
    // Beyond the bound, unnamed; without values (simple protocol), an already named query, or a
    // Query object with its own submit(), untouched.
    expect(names.named('SELECT $1::bigint', [1])).toBeUndefined();
    expect(names.named('SELECT 1', undefined)).toBeUndefined();
    expect(names.named({ text: 'SELECT $1::int', values: [1], name: 'mine' }, undefined)).toBeUndefined();
    expect(names.named({ text: 'SELECT $1::int', submit: () => undefined }, [1])).toBeUndefined();
    expect(names.size).toBe(2);
  });
});
