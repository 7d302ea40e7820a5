// Background passes on a timer (recording retention, the analytics rollup): one at a time, the first a
// second after start, failures reported and retried on the next tick, and a stop that tells the pass in
// flight to stop and waits for it.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { startPeriodic } from '../src/periodic.ts';

describe('startPeriodic', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs one pass at a time and stops by aborting the pass in flight and waiting for it', async () => {
    let passes = 0;
    let release: () => void = () => undefined;
    let signal: AbortSignal | undefined;
    const stop = startPeriodic(
      async (s) => {
        passes++;
        signal = s;
        await new Promise<void>((r) => (release = r));
      },
      5000,
      () => undefined,
    );
    await vi.advanceTimersByTimeAsync(999);
    expect(passes).toBe(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(passes).toBe(1);
    // The tick at 5 s comes while the pass runs: skipped.
    await vi.advanceTimersByTimeAsync(5000);
    expect(passes).toBe(1);
    let stopped = false;
    const stopping = stop().then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(0);
    expect(signal?.aborted).toBe(true);
    expect(stopped).toBe(false);
    release();
    await stopping;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(passes).toBe(1);
  });

  it('reports a failed pass and tries again on the next tick', async () => {
    const errors: unknown[] = [];
    let passes = 0;
    const stop = startPeriodic(
      async () => {
        if (++passes === 1) throw new Error('database away');
      },
      5000,
      (err) => errors.push(err),
    );
    await vi.advanceTimersByTimeAsync(1000);
    expect(errors).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(4000);
    expect(passes).toBe(2);
    expect(errors).toHaveLength(1);
    await stop();
  });
});
