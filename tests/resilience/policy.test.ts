import { describe, expect, it } from 'vitest';
import { equalJitterDelayMs, fullJitterDelayMs, persistentRetry, retryPolicy } from '../../src/resilience/policy.ts';

describe('the retry policy', () => {
  it('waits random(0, min(cap, base·2^n)) before retry n+1', () => {
    const o = { retries: 5, baseDelayMs: 100, maxDelayMs: 1000, random: () => 0.999 };
    expect([1, 2, 3, 4, 5].map((n) => fullJitterDelayMs(o, n))).toEqual([99, 199, 399, 799, 999]);
    expect(fullJitterDelayMs({ ...o, random: () => 0 }, 3)).toBe(0);
  });

  it('equal jitter keeps half the capped ceiling as a floor', () => {
    const o = { baseDelayMs: 100, maxDelayMs: 1000 };
    expect([1, 2, 3, 4, 5].map((n) => equalJitterDelayMs({ ...o, random: () => 0 }, n))).toEqual([50, 100, 200, 400, 500]);
    expect(equalJitterDelayMs({ ...o, random: () => 1 }, 2)).toBe(200);
  });

  it("a persistent retry keeps going until the caller's filter says stop", async () => {
    let calls = 0;
    const policy = persistentRetry({ initialDelayMs: 1, maxDelayMs: 2, retryable: () => calls < 5 });
    await expect(
      policy.execute(() => {
        calls++;
        throw new Error('down');
      }),
    ).rejects.toThrow('down');
    expect(calls).toBe(5);
  });

  it('retries only what the caller says is retryable, at most `retries` times', async () => {
    const policy = retryPolicy({ retries: 2, baseDelayMs: 1, maxDelayMs: 1, retryable: (err) => (err as Error).message === 'busy' });
    const callsUntilFailure = async (message: string): Promise<number> => {
      let calls = 0;
      await expect(
        policy.execute(() => {
          calls++;
          throw new Error(message);
        }),
      ).rejects.toThrow(message);
      return calls;
    };
    expect(await callsUntilFailure('busy')).toBe(3);
    expect(await callsUntilFailure('bad request')).toBe(1);
  });
});
