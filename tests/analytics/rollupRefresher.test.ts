// The rollup refresher at rest: with no dirty hour a pass is one indexed read, not a transaction (on
// embedded PGlite every query is the gateway's own CPU); a past hour made dirty is still refreshed on
// the next pass; the hour under way, which live calls dirty every few seconds, at most once per interval.
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

  it('recomputes the hour under way at most once per interval while its calls keep changing, and past hours at once', async () => {
    let connects = 0;
    const real = t.db.pool;
    const pool = new Proxy(real, {
      get: (target, prop) => {
        if (prop === 'query') return (text: string, values?: unknown[]) => real.query(text, values);
        if (prop === 'connect') return () => (connects++, real.connect());
        return Reflect.get(target, prop);
      },
    });
    // An hour that is not over (a later one counts as open too, so the test holds across an hour's end).
    const openHour = new Date(Date.now() + 30 * 60_000).toISOString();
    await insertCalls(real, [{ id: 'live', direction: 'outbound', flowId: 'A', createdAt: openHour, answeredAfterS: 1, status: 'in-progress' }, ...MARCH.slice(0, 2)]);
    const openDirty = async (): Promise<number> => Number((await real.query<{ n: string }>(`SELECT count(*) AS n FROM analytics_dirty_hours WHERE hour >= date_trunc('hour', now(), 'UTC')`)).rows[0]?.n);
    const pastDirty = async (): Promise<number> => Number((await real.query<{ n: string }>(`SELECT count(*) AS n FROM analytics_dirty_hours WHERE hour < date_trunc('hour', now(), 'UTC')`)).rows[0]?.n);
    const amdOfOpenHour = async (): Promise<string[]> =>
      (await real.query<{ amd_result: string }>(`SELECT amd_result FROM analytics_hourly_amd WHERE hour = date_trunc('hour', $1::timestamptz, 'UTC') ORDER BY 1`, [openHour])).rows.map((r) => r.amd_result);
    const stop = startRollupRefresher(pool, pino({ level: 'silent' }), 50, 2500);
    try {
      await until('the first pass refreshed every dirty hour, the open one included', async () => (await dirty()) === 0);
      const firstRefreshAt = performance.now();
      const before = connects;
      // A live call's AMD verdict and its revisions: each marks the open hour dirty again.
      for (const result of ['machine', 'human', 'machine', 'human']) {
        await real.query(`UPDATE calls SET amd_result = $1, amd_decision_ms = 1200 WHERE id = 'live'`, [result]);
        await sleep(100);
      }
      // A past hour changed meanwhile is refreshed on the next passes; the open hour waits.
      await insertCalls(real, MARCH.slice(2, 3));
      await until('the past hour was refreshed', async () => (await pastDirty()) === 0);
      expect(performance.now() - firstRefreshAt).toBeLessThan(2400);
      expect(await openDirty()).toBeGreaterThan(0);
      // One transaction for the past hour, against one per 50 ms pass (about 10 by now) when every pass recomputed the open hour.
      expect(connects - before).toBeLessThanOrEqual(2);
      // The open hour converges on its last change once its interval is over.
      await until('the open hour was refreshed again', async () => (await openDirty()) === 0);
      expect(performance.now() - firstRefreshAt).toBeGreaterThanOrEqual(2400);
      expect(await amdOfOpenHour()).toEqual(['human']);
    } finally {
      await stop();
    }
  });
});
