// Rate limits hold across instances (DESIGN decision 12): two gateway apps on one database share
// each client's count. While the database does not answer, counting falls back to memory at once,
// so no request waits on it, and the fallback starts from this instance's count (every request is
// counted in memory too): a stall gives no client a fresh quota. A store may decide a request from
// memory sooner than it gives the database (voice webhooks): the database still counts it.
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.ts';
import { SHARED_COUNT_TIMEOUT_MS, sharedRateLimitStore } from '../../src/gateway/rateLimitStore.ts';
import { openTestDatabase, testDatabases } from '../helpers/db.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';

describe.each(testDatabases())('rate limits shared by instances on %s', (kind) => {
  let gw: TestGateway;
  let second: FastifyInstance;
  beforeAll(async () => {
    gw = await startTestGateway(kind, { env: { API_RATE_LIMIT_PER_MINUTE: '3' } });
    second = await buildApp({ ...gw.runtime.appDeps, logger: false });
    // The first use of the table is slower than a count (a loaded machine, PGlite's worker): warm it up.
    await gw.app.inject({ method: 'GET', url: '/v1/calls', remoteAddress: '203.0.113.1', headers: { authorization: `Bearer ${gw.apiKey}` } });
  });
  afterAll(async () => {
    await second?.close();
    await gw?.close();
  });

  it('counts a client once across both instances', async () => {
    const get = (app: FastifyInstance) => app.inject({ method: 'GET', url: '/v1/calls', remoteAddress: '203.0.113.50', headers: { authorization: `Bearer ${gw.apiKey}` } });
    expect((await get(gw.app)).statusCode).toBe(200);
    expect((await get(gw.app)).statusCode).toBe(200);
    expect((await get(second)).statusCode).toBe(200);
    expect((await get(second)).statusCode).toBe(429);
    expect((await get(gw.app)).statusCode).toBe(429);
  });
});

describe('the shared store without a database', () => {
  it('counts in memory within the timeout when the database does not answer', async () => {
    const stalled = { query: () => new Promise(() => undefined) } as unknown as pg.Pool;
    const Store = sharedRateLimitStore(stalled, { fallbackCache: 100 });
    const store = new Store({});
    const counts: number[] = [];
    for (let i = 0; i < 4; i++) {
      const t0 = performance.now();
      const current = await new Promise<number>((resolve, reject) => store.incr('k', (err, r) => (err ? reject(err) : resolve(r?.current ?? -1)), 60_000, 3));
      expect(performance.now() - t0).toBeLessThan(SHARED_COUNT_TIMEOUT_MS + 200);
      counts.push(current);
    }
    expect(counts).toEqual([1, 2, 3, 4]);
  });
});

describe.each(testDatabases())('the shared store when the database stalls (%s)', (kind) => {
  it("falls back to this instance's count as it was before the stall, not a fresh one", async () => {
    const t = await openTestDatabase(kind);
    try {
      let stalled = false;
      const db = { query: (...args: Parameters<pg.Pool['query']>) => (stalled ? new Promise(() => undefined) : t.db.pool.query(...args)) } as unknown as pg.Pool;
      const first = new (sharedRateLimitStore(db, { fallbackCache: 100 }))({});
      const second = new (sharedRateLimitStore(db, { fallbackCache: 100 }))({});
      const count = (store: typeof first): Promise<number> => new Promise((resolve, reject) => store.incr('client', (err, r) => (err ? reject(err) : resolve(r?.current ?? -1)), 60_000, 3));
      expect([await count(first), await count(first)]).toEqual([1, 2]);
      // The other instance sees the shared count: the database counted both.
      expect(await count(second)).toBe(3);
      stalled = true;
      const t0 = performance.now();
      // This instance made two requests in the window: the third is its third, the fourth over the limit.
      expect([await count(first), await count(first)]).toEqual([3, 4]);
      expect(performance.now() - t0).toBeLessThan(2 * (SHARED_COUNT_TIMEOUT_MS + 200));
    } finally {
      await t.cleanup();
    }
  });
});

describe('a store that waits less than it gives the database', () => {
  it('decides from memory after its wait, while the database is still asked to count', async () => {
    let asked = 0;
    const stalled = {
      query: () => {
        asked++;
        return new Promise(() => undefined);
      },
    } as unknown as pg.Pool;
    const store = new (sharedRateLimitStore(stalled, { fallbackCache: 100, waitMs: 20 }))({});
    const t0 = performance.now();
    const current = await new Promise<number>((resolve, reject) => store.incr('k', (err, r) => (err ? reject(err) : resolve(r?.current ?? -1)), 60_000, 3));
    expect(current).toBe(1);
    expect(performance.now() - t0).toBeLessThan(SHARED_COUNT_TIMEOUT_MS / 2);
    expect(asked).toBe(1);
  });
});

describe.each(testDatabases())('a busy client on the shared store (%s)', (kind) => {
  it('costs far fewer queries than requests, and the limit still holds exactly across instances', async () => {
    const t = await openTestDatabase(kind);
    try {
      let queries = 0;
      const db = {
        query: (...args: Parameters<pg.Pool['query']>) => {
          queries++;
          return t.db.pool.query(...args);
        },
      } as unknown as pg.Pool;
      const stores = [new (sharedRateLimitStore(db, { fallbackCache: 100 }))({}), new (sharedRateLimitStore(db, { fallbackCache: 100 }))({})];
      const max = 400;
      const count = (i: number): Promise<number> =>
        new Promise((resolve, reject) => stores[i % 2]?.incr('carrier', (err, r) => (err ? reject(err) : resolve(r?.current ?? -1)), 60_000, max));
      // About 200 requests a second from one client, spread over two instances, for 3 s.
      const numbers: number[] = [];
      const started = performance.now();
      for (let i = 0; i < 600; i++) {
        numbers.push(await count(i));
        const due = started + (i + 1) * 5;
        await new Promise((r) => setTimeout(r, Math.max(0, due - performance.now())));
      }
      const allowed = numbers.filter((n) => n <= max).length;
      process.stdout.write(`busy client (${kind}): 600 requests over two instances, limit ${max}: ${allowed} let through, ${queries} queries\n`);
      // Never looser: no more than the limit got through, and no number was given twice.
      expect(allowed).toBeLessThanOrEqual(max);
      expect(new Set(numbers.filter((n) => n <= max)).size).toBe(allowed);
      // Stricter by at most the unused rests of the two instances' last blocks near the limit.
      expect(allowed).toBeGreaterThanOrEqual(max - 20);
      expect(queries).toBeLessThan(600 / 4);
      // The database holds every request that got through (and the blocks' unused rests).
      const { rows } = await t.db.pool.query<{ count: number }>('SELECT count FROM rate_limits WHERE key = $1', ['carrier']);
      expect(Number(rows[0]?.count)).toBeGreaterThanOrEqual(allowed);
    } finally {
      await t.cleanup();
    }
  });

  it('a burst of concurrent requests takes one block at a time, so a client far under its limit is not refused', async () => {
    const t = await openTestDatabase(kind);
    try {
      const store = new (sharedRateLimitStore(t.db.pool, { fallbackCache: 100 }))({});
      const burst = await Promise.all(
        Array.from({ length: 300 }, () => new Promise<number>((resolve, reject) => store.incr('flood', (err, r) => (err ? reject(err) : resolve(r?.current ?? -1)), 60_000, 3000))),
      );
      expect(burst.filter((n) => n > 3000)).toEqual([]);
      const { rows } = await t.db.pool.query<{ count: number }>('SELECT count FROM rate_limits WHERE key = $1', ['flood']);
      // Every request, plus at most one block's unused rest (a twentieth of the limit).
      expect(Number(rows[0]?.count)).toBeLessThanOrEqual(300 + 150);
    } finally {
      await t.cleanup();
    }
  });
});
