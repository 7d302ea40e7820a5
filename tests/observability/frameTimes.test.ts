// Frame times are recorded on the media path and reach prom-client in batches: none may be lost.
import { describe, expect, it } from 'vitest';
import { eventLoopDelay, frameProcessing, observeFrameProcessing, startEventLoopProbe } from '../../src/observability/metrics.ts';

async function countAndSum(): Promise<{ count: number; sum: number; le1ms: number }> {
  const values = (await frameProcessing.get()).values;
  const pick = (name: string, le?: number): number => values.find((v) => v.metricName === name && (le === undefined || v.labels.le === le))?.value ?? 0;
  return { count: pick('gateway_frame_processing_seconds_count'), sum: pick('gateway_frame_processing_seconds_sum'), le1ms: pick('gateway_frame_processing_seconds_bucket', 0.001) };
}

describe('frame processing times', () => {
  it('reach the histogram by the next scrape, whether flushed after the frame path, when the buffer fills, or at the scrape', async () => {
    const before = await countAndSum();
    // More than the buffer holds, in one synchronous run (no turn of the event loop in between).
    for (let i = 0; i < 1000; i++) observeFrameProcessing(0.0002);
    await new Promise((r) => setImmediate(r));
    for (let i = 0; i < 10; i++) observeFrameProcessing(0.003);
    const after = await countAndSum();
    expect(after.count - before.count).toBe(1010);
    expect(after.sum - before.sum).toBeCloseTo(1000 * 0.0002 + 10 * 0.003, 9);
    expect(after.le1ms - before.le1ms).toBe(1000);
  });
});

describe('event-loop delay probe', () => {
  it('reaches the histogram by the next scrape, every tick of it', async () => {
    const count = async (): Promise<number> => (await eventLoopDelay.get()).values.find((v) => v.metricName === 'gateway_event_loop_delay_seconds_count')?.value ?? 0;
    const before = await count();
    let ticks = 0;
    const stop = startEventLoopProbe(5);
    // Count the probe's own ticks with a twin timer on the same interval.
    const twin = setInterval(() => ticks++, 5);
    await new Promise((r) => setTimeout(r, 200));
    stop();
    clearInterval(twin);
    const added = (await count()) - before;
    // Fewer than its buffer holds, so nothing was handed over before the scrape: the scrape did it.
    expect(added).toBeGreaterThanOrEqual(10);
    expect(Math.abs(added - ticks)).toBeLessThanOrEqual(2);
    expect(await count()).toBe(before + added);
  });
});
