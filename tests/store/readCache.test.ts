import { describe, expect, it } from 'vitest';
import { ReadCache } from '../../src/store/readCache.ts';

const never = <T>(): Promise<T> => new Promise<T>(() => undefined);

describe('ReadCache: call set-up reads that never wait long on the database', () => {
  it('serves fresh values from memory, then reads again once they age', async () => {
    let now = 0;
    let reads = 0;
    const cache = new ReadCache<string>({ ttlMs: 1000, timeoutMs: 50 }, () => now);
    const read = async () => `v${++reads}`;
    expect(await cache.get('k', read, 'fallback')).toBe('v1');
    now = 999;
    expect(await cache.get('k', read, 'fallback')).toBe('v1');
    now = 1000;
    expect(await cache.get('k', read, 'fallback')).toBe('v2');
    expect(cache.counters).toMatchObject({ fresh: 1, database: 2 });
  });

  it('on a stalled database answers with the last known value after the timeout, or the fallback', async () => {
    let now = 0;
    const cache = new ReadCache<string>({ ttlMs: 10, timeoutMs: 30 }, () => now);
    await cache.get('k', async () => 'known', 'fallback');
    now = 100;
    const started = performance.now();
    expect(await cache.get('k', never, 'fallback')).toBe('known');
    expect(performance.now() - started).toBeLessThan(1000);
    expect(await cache.get('other', never, 'fallback')).toBe('fallback');
    expect(await cache.get('k', () => Promise.reject(new Error('down')), 'fallback')).toBe('known');
    expect(cache.counters).toMatchObject({ stale: 2, unavailable: 1 });
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
});
