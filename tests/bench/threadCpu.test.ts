// Where a media pass's CPU went: by thread name from /proc, and the main thread's GC pauses by kind.
// The media section prints both for the gateway and the floor, so a wrong attribution would send the
// next profiling pass after the wrong thread.
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { gcBetween, observeGc } from '../../bench/lib/gcStats.ts';
import { threadCpuBetween, threadCpuUs } from '../../bench/lib/threadCpu.ts';

/** Busy for `ms` of this thread's CPU (not wall time: the machine may be shared). */
function spin(ms: number): void {
  const start = process.threadCpuUsage();
  for (;;) {
    const used = process.threadCpuUsage(start);
    if (used.user + used.system >= ms * 1000) return;
  }
}

describe('threadCpuUs', () => {
  it.runIf(process.platform === 'linux')("counts this thread's work under its own name and a worker's under the worker's", async () => {
    const a = threadCpuUs();
    spin(60);
    const worker = new Worker(
      'const s = process.threadCpuUsage(); for (;;) { const u = process.threadCpuUsage(s); if (u.user + u.system >= 80000) break; } require("node:worker_threads").parentPort.postMessage("done"); setTimeout(() => {}, 1000);',
      { eval: true },
    );
    await new Promise((resolve) => worker.once('message', resolve));
    const b = threadCpuUs();
    await worker.terminate();
    const between = threadCpuBetween(a, b);
    const names = between.map((t) => t.thread);
    // Node names its main thread MainThread (older versions: node) and a worker's thread after the worker.
    const main = between.find((t) => t.thread === 'MainThread' || t.thread === 'node');
    expect(main?.ms).toBeGreaterThanOrEqual(50);
    const spinner = between.find((t) => t.thread !== main?.thread && t.ms >= 60);
    expect(spinner, `threads: ${JSON.stringify(between)}`).toBeDefined();
    // Largest first.
    expect(between.map((t) => t.ms)).toEqual([...between.map((t) => t.ms)].sort((x, y) => y - x));
    expect(new Set(names).size).toBe(names.length);
  });

  it('reads the difference by name, leaves out threads that did nothing and counts new threads from zero', () => {
    expect(threadCpuBetween({ MainThread: 1000, V8Worker: 500, idle: 10 }, { MainThread: 151_000, V8Worker: 20_500, idle: 10, WorkerThread: 3000 })).toEqual([
      { thread: 'MainThread', ms: 150 },
      { thread: 'V8Worker', ms: 20 },
      { thread: 'WorkerThread', ms: 3 },
    ]);
    expect(threadCpuBetween(undefined, undefined)).toEqual([]);
  });
});

describe('gc stats', () => {
  it('counts collections by kind between two copies', async () => {
    const live = observeGc();
    const before = structuredClone(live);
    // Enough short-lived garbage for several young-generation collections.
    let keep = 0;
    for (let i = 0; i < 200_000; i++) keep += new Array(50).fill(i).length;
    expect(keep).toBe(10_000_000);
    await new Promise((resolve) => setTimeout(resolve, 50)); // observers are told asynchronously
    const text = gcBetween(before, live);
    expect(text).toMatch(/scavenge \d+× \d+\.\d ms/);
    expect(gcBetween(live, live)).toBe('none');
  });
});
