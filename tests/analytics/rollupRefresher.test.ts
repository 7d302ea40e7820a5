// The rollup refresher at rest: with no dirty hour a pass is one indexed read, not a transaction (on
// embedded PGlite every query is the gateway's own CPU); an hour made dirty is still refreshed on the
// next pass.
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startRollupRefresher } from '../../src/analytics/rollupRefresher.ts';
import { openTestDatabase, testDatabases, type TestDatabase } from '../helpers/db.ts';
import { insertCalls, MARCH } from './fixtures.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.each(testDatabases())('rollup refresher at rest (%s)', (kind) => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await openTestDatabase(kind);
  });
  afterEach(() => t.cleanup());

  const dirty = async (): Promise<number> => Number((await t.db.pool.query<{ n: string }>('SELECT count(*) AS n FROM analytics_dirty_hours')).rows[0]?.n);
  const until = async (what: string, done: () => Promise<boolean>): Promise<void> => {
    const started = performance.now();
    while (!(await done())) {
      if (performance.now() - started > 10_000) throw new Error(`timed out waiting until ${what}`);
      await sleep(50);
    }
  };

  it('asks one question per pass while nothing is dirty, and refreshes an hour made dirty', async () => {
    const counts = { queries: 0, connects: 0 };
    const real = t.db.pool;
    const pool = new Proxy(real, {
      get: (target, prop) => {
        if (prop === 'query') return (text: string, values?: unknown[]) => (counts.queries++, real.query(text, values));
        if (prop === 'connect') return () => (counts.connects++, real.connect());
        return Reflect.get(target, prop);
      },
    });
    await insertCalls(real, MARCH.slice(0, 3));
    expect(await dirty()).toBeGreaterThan(0);
    const stop = startRollupRefresher(pool, pino({ level: 'silent' }), 100);
    try {
      await until('the first pass refreshed every dirty hour', async () => (await dirty()) === 0);
      await sleep(150);
      const before = { ...counts };
      await sleep(600);
      expect(counts.connects).toBe(before.connects);
      expect(counts.queries - before.queries).toBeGreaterThanOrEqual(3);
      await insertCalls(real, MARCH.slice(3, 4));
      expect(await dirty()).toBeGreaterThan(0);
      await until('the new dirty hour was refreshed', async () => (await dirty()) === 0);
      expect(counts.connects).toBeGreaterThan(before.connects);
    } finally {
      await stop();
    }
  });
});
