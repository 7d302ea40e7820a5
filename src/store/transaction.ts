// One transaction on a pooled client: BEGIN, the work, COMMIT; on any error ROLLBACK and rethrow. A
// client that cannot even roll back (its connection is gone) is destroyed rather than returned to the
// pool, so the next caller does not inherit a broken session or a transaction left open.
import type pg from 'pg';

export async function inTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken = false;
  try {
    await client.query('BEGIN');
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => {
      broken = true;
    });
    throw err;
  } finally {
    client.release(broken ? true : undefined);
  }
}
