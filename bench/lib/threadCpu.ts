// CPU of this process by thread name, from /proc/self/task/*/schedstat (nanoseconds on the CPU, not
// clock ticks: a 3 s pass would read in 10 ms steps from `stat`). Names are the kernel's `comm`, as Node 24
// sets them: `MainThread` (the event loop), `V8Worker` (V8's platform workers: concurrent compiles, GC
// helpers), `WorkerThread` (a worker_threads thread, e.g. PGlite's), `libuv-worker` (libuv's pool), and
// `DelayedTaskSche`. Threads that ended are not counted:
// the benches read it as "where the CPU of a pass went", between two readings. Linux only; elsewhere
// an empty map.
import { readdirSync, readFileSync } from 'node:fs';

export type ThreadCpu = Record<string, number>;

/** Microseconds on the CPU so far, summed by thread name. */
export function threadCpuUs(): ThreadCpu {
  const out: ThreadCpu = {};
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const name = readFileSync(`/proc/self/task/${tid}/comm`, 'utf8').trim();
      const ns = Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      if (Number.isFinite(ns)) out[name] = (out[name] ?? 0) + ns / 1000;
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out;
}

/** b − a by name, in ms, largest first; names absent from `a` count from zero. */
export function threadCpuBetween(a: ThreadCpu | undefined, b: ThreadCpu | undefined): Array<{ thread: string; ms: number }> {
  if (b === undefined) return [];
  return Object.entries(b)
    .map(([thread, us]) => ({ thread, ms: Math.round((us - (a?.[thread] ?? 0)) / 100) / 10 }))
    .filter((t) => t.ms > 0)
    .sort((x, y) => y.ms - x.ms);
}
