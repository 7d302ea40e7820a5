// The media watchdog shared by a media endpoint's calls: one wall-clock timer however many calls it
// watches (a timer per call woke an idle process once a second per call), and every call still ends
// between its timeout and one tick after its last media.
import { createHook } from 'node:async_hooks';
import { describe, expect, it } from 'vitest';
import { FRAME_SAMPLES } from '../../dsp/frame.ts';
import { MediaWatchdog } from '../../src/call/mediaWatchdog.ts';
import { createTestCall, type TestCall } from '../helpers/testCall.ts';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Timers (setTimeout/setInterval) created while `work` runs. */
function timersCreatedBy<T>(work: () => T): { result: T; timers: number } {
  let timers = 0;
  const hook = createHook({
    init(_id, type) {
      if (type === 'Timeout') timers++;
    },
  });
  hook.enable();
  try {
    return { result: work(), timers };
  } finally {
    hook.disable();
  }
}

describe('MediaWatchdog', () => {
  it('watches 50 calls with one timer, and stops it when the last call ends', () => {
    const watchdog = new MediaWatchdog(1000);
    const { result: calls, timers } = timersCreatedBy(() => Array.from({ length: 50 }, () => createTestCall({ mediaTimeoutMs: 15_000, mediaWatchdog: watchdog })));
    expect(timers).toBe(1);
    expect(watchdog.size).toBe(50);
    for (const call of calls) call.session.end('caller_hung_up');
    expect(watchdog.size).toBe(0);
    // The next call starts the timer again.
    const again = timersCreatedBy(() => createTestCall({ mediaTimeoutMs: 15_000, mediaWatchdog: watchdog }));
    expect(again.timers).toBe(1);
    again.result.session.end('caller_hung_up');
  });

  it('ends each silent call between its timeout and one tick after its last media, and keeps a call whose media flows', async () => {
    const watchdog = new MediaWatchdog(100);
    const silence = new Uint8Array(FRAME_SAMPLES).fill(0xff);
    const quiet: TestCall[] = Array.from({ length: 5 }, () => createTestCall({ mediaTimeoutMs: 300, mediaWatchdog: watchdog }));
    const talking = createTestCall({ mediaTimeoutMs: 300, mediaWatchdog: watchdog });
    const sender = setInterval(() => talking.session.receiveMedia(silence), 20);
    try {
      const lastMedia = performance.now();
      for (const call of quiet) call.session.receiveMedia(silence);
      const endedAt = new Map<TestCall, number>();
      while (endedAt.size < quiet.length && performance.now() - lastMedia < 3000) {
        for (const call of quiet) if (call.session.ended && !endedAt.has(call)) endedAt.set(call, performance.now() - lastMedia);
        await sleep(5);
      }
      for (const call of quiet) {
        expect(call.session.endReason).toBe('media_timeout');
        // Not before the timeout; within a tick after it, give or take the timers' slack on a busy machine.
        expect(endedAt.get(call)).toBeGreaterThanOrEqual(290);
        expect(endedAt.get(call)).toBeLessThan(1000);
      }
      expect(talking.session.ended).toBe(false);
      expect(watchdog.size).toBe(1);
    } finally {
      clearInterval(sender);
      talking.session.end('caller_hung_up');
    }
    expect(watchdog.size).toBe(0);
  });

  it('gives a call whose timeout is shorter than the shared tick a timer of its own', async () => {
    const watchdog = new MediaWatchdog(1000);
    const call = createTestCall({ mediaTimeoutMs: 100, mediaWatchdog: watchdog });
    expect(watchdog.size).toBe(0);
    const started = performance.now();
    while (!call.session.ended && performance.now() - started < 2000) await sleep(10);
    expect(call.session.endReason).toBe('media_timeout');
    expect(performance.now() - started).toBeLessThan(800);
  });

  it('refuses a tick that is not a positive number', () => {
    expect(() => new MediaWatchdog(0)).toThrow(RangeError);
    expect(() => new MediaWatchdog(Number.NaN)).toThrow(RangeError);
  });
});
