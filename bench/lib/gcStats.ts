// GC pauses of this process, by kind, counted from perf_hooks' `gc` entries (the main thread's pauses;
// the parallel and concurrent work of V8's helper threads shows in bench/lib/threadCpu.ts instead).
import { constants, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';

export type GcStats = Record<string, { count: number; ms: number }>;

const KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'mark-compact',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak callbacks',
};

/** Starts counting; the returned object is updated in place as collections happen. */
export function observeGc(): GcStats {
  const stats: GcStats = {};
  new PerformanceObserver((list) => {
    for (const e of list.getEntries() as Array<PerformanceEntry & { detail?: { kind?: number } }>) {
      const kind = KINDS[e.detail?.kind ?? -1] ?? 'other';
      const s = (stats[kind] ??= { count: 0, ms: 0 });
      s.count++;
      s.ms += e.duration;
    }
  }).observe({ entryTypes: ['gc'] });
  return stats;
}

/** "scavenge 41× 12.3 ms, mark-compact 1× 4.0 ms" between two copies of the stats. */
export function gcBetween(a: GcStats | undefined, b: GcStats | undefined): string {
  if (b === undefined) return '?';
  const parts = Object.entries(b)
    .map(([kind, s]) => ({ kind, count: s.count - (a?.[kind]?.count ?? 0), ms: s.ms - (a?.[kind]?.ms ?? 0) }))
    .filter((s) => s.count > 0)
    .map((s) => `${s.kind} ${s.count}× ${s.ms.toFixed(1)} ms`);
  return parts.length > 0 ? parts.join(', ') : 'none';
}
