import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatabaseProgress } from '../../src/store/dbProgress.ts';
import { openTestDatabase, testDatabases, type TestDatabase } from '../helpers/db.ts';

describe('DatabaseProgress: how long the database has had work without answering any', () => {
  it('counts from when work became outstanding, and restarts on every answer but not on failures', () => {
    let now = 0;
    const p = new DatabaseProgress(() => now);
    expect(p.stalledMs()).toBe(0);
    now = 100;
    p.begin();
    now = 400;
    expect(p.stalledMs()).toBe(300);
    p.begin(); // more work does not hide that nothing was answered
    now = 900;
    expect(p.stalledMs()).toBe(800);
    p.end(false); // a failure or a client-side timeout is not an answer
    expect(p.stalledMs()).toBe(800);
    p.answered(); // e.g. a new connection authenticated
    expect(p.stalledMs()).toBe(0);
    now = 1000;
    p.end(true);
    expect(p.stalledMs()).toBe(0); // nothing outstanding
    p.end(true); // unbalanced ends never go negative
    p.begin();
    now = 1250;
    expect(p.stalledMs()).toBe(250);
  });
});

describe.each(testDatabases())('the pool feeds it (%s)', (kind) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await openTestDatabase(kind);
  });
  afterAll(async () => {
    await t?.cleanup();
  });

  it('a long query with nothing else answered reads as a stall; its answer ends it; checked-out clients count too', async () => {
    const { progress, pool } = t.db;
    expect(progress.stalledMs()).toBe(0);
    const slow = pool.query('SELECT pg_sleep(0.6)');
    await new Promise((r) => setTimeout(r, 450));
    expect(progress.stalledMs()).toBeGreaterThanOrEqual(400);
    await slow;
    expect(progress.stalledMs()).toBe(0);
    const client = await pool.connect();
    try {
      await new Promise((r) => setTimeout(r, 120));
      // Held without a query: outstanding, and nothing answered since the checkout began.
      expect(progress.stalledMs()).toBeGreaterThanOrEqual(100);
      await client.query('SELECT 1');
    } finally {
      client.release();
    }
    expect(progress.stalledMs()).toBe(0);
    await expect(pool.query('SELECT * FROM no_such_table')).rejects.toThrow();
    expect(progress.stalledMs()).toBe(0);
  });
});
