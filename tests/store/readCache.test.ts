import { describe, expect, it } from 'vitest';
import { ReadCache } from '../../src/store/readCache.ts';

const never = <T>(): Promise<T> => new Promise<T>(() => undefined);

describe('ReadCache: call set-up reads that never wait long on the database', () => {
  it('serves fresh values from memory; once stale, serves them at once while refreshing in the background', async () => {
    let now = 0;
    let reads = 0;
    const cache = new ReadCache<string>({ ttlMs: 1000, timeoutMs: 50 }, () => now);
    const read = async () => `v${++reads}`;
    expect(await cache.get('k', read, 'fallback')).toBe('v1');
    now = 999;
    expect(await cache.get('k', read, 'fallback')).toBe('v1');
    now = 1000;
    expect(await cache.get('k', read, 'fallback')).toBe('v1');
    await new Promise((r) => setImmediate(r));
    expect(await cache.get('k', read, 'fallback')).toBe('v2');
    expect(reads).toBe(2);
    expect(cache.counters).toMatchObject({ fresh: 2, database: 1, stale: 1 });
  });

  it('on a stalled or failing database answers with the last known value at once, or the fallback after the timeout', async () => {
    let now = 0;
    const cache = new ReadCache<string>({ ttlMs: 10, timeoutMs: 30 }, () => now);
    await cache.get('k', async () => 'known', 'fallback');
    now = 100;
    expect(await cache.get('k', never, 'fallback')).toBe('known');
    const started = performance.now();
    expect(await cache.get('other', never, 'fallback')).toBe('fallback');
    expect(performance.now() - started).toBeGreaterThanOrEqual(25);
    expect(await cache.get('other', () => Promise.reject(new Error('down')), 'fallback')).toBe('fallback');
    expect(cache.counters).toMatchObject({ stale: 1, unavailable: 2 });
  });

  it('keeps the late answer of a read that timed out', async () => {
    let now = 0;
    const cache = new ReadCache<string>({ ttlMs: 1000, timeoutMs: 10 }, () => now);
    let answer!: (v: string) => void;
    expect(await cache.get('k', () => new Promise<string>((r) => (answer = r)), 'fallback')).toBe('fallback');
    answer('late');
    await new Promise((r) => setImmediate(r));
    now = 5;
    expect(await cache.get('k', never, 'fallback')).toBe('late');
  });

  it('never serves an invalidated value first: it waits for the database, and serves it only when the database does not answer', async () => {
    let now = 0;
    const cache = new ReadCache<string>({ ttlMs: 60_000, timeoutMs: 30 }, () => now);
    expect(await cache.get('k', async () => 'old', 'fallback')).toBe('old');
    cache.invalidate('k');
    expect(await cache.get('k', async () => 'new', 'fallback')).toBe('new');
    now = 1;
    expect(await cache.get('k', never, 'fallback')).toBe('new'); // fresh again
    cache.invalidate();
    expect(await cache.get('k', never, 'fallback')).toBe('new'); // outage: last known value
    expect(cache.counters.stale).toBe(1);
    // A read that raced the invalidation does not make its answer fresh.
    let answer!: (v: string) => void;
    const racing = cache.get('r', () => new Promise<string>((r) => (answer = r)), 'fallback');
    cache.invalidate('r');
    answer('raced');
    expect(await racing).toBe('raced');
    expect(await cache.get('r', async () => 'after', 'fallback')).toBe('after');
  });

  it('does not wait for a database already known to be stalled, and gives up as soon as it is found stalled', async () => {
    let stalled = 0;
    const cache = new ReadCache<string>({ ttlMs: 1000, timeoutMs: 300, stalledMs: () => stalled, stallMs: 1000 }, () => 0);
    // Slow but alone in flight (nothing older is waiting): the read waits its whole bound.
    let t0 = performance.now();
    expect(await cache.get('a', never, 'fallback')).toBe('fallback');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(290);
    // Known stalled before the read starts: the fallback at once, not after 300 ms.
    stalled = 1500;
    t0 = performance.now();
    expect(await cache.get('b', never, 'fallback')).toBe('fallback');
    expect(performance.now() - t0).toBeLessThan(50);
    // Found stalled while waiting: given up at the next check, well before the bound.
    stalled = 900;
    setTimeout(() => (stalled = 1000), 60);
    t0 = performance.now();
    expect(await cache.get('c', never, 'fallback')).toBe('fallback');
    expect(performance.now() - t0).toBeLessThan(250);
    // An answering database is still read, stalled or not elsewhere: a quick answer wins the race.
    stalled = 0;
    expect(await cache.get('d', async () => 'answer', 'fallback')).toBe('answer');
    expect(cache.counters).toMatchObject({ unavailable: 3, stalled: 2, database: 1 });
  });

  it('refuses a stall bound that would cut short a read that is merely slow', () => {
    expect(() => new ReadCache<string>({ ttlMs: 1, timeoutMs: 800, stallMs: 800, stalledMs: () => 0 })).toThrow(/stallMs/);
  });
});
