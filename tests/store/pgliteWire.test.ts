// The embedded database's wire (pgliteConnection.ts + pgliteThread.ts): a query's protocol messages go
// to PGlite's thread in one batch, and every query still gets exactly its own answer — after failing
// queries (PGlite's premature ReadyForQuery), inside and after failed transactions, and with many
// queries in flight from many clients of the pool.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
});
