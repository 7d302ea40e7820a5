// What each benchmark section hands back to bench/run.ts: a printable table, the figures for the JSON
// file, the regression checks the short CI pass applies, and notes that explain the figures.
import type { Check } from './stats.ts';
import type { Cell } from './table.ts';
import type { BenchGateway } from './gateway.ts';

export interface SectionResult {
  id: string;
  title: string;
  header: string[];
  rows: Cell[][];
  figures: Record<string, unknown>;
  checks: Check[];
  notes: string[];
}

export interface SectionContext {
  short: boolean;
  /** A gateway child shared by sections that do not need their own (starting one costs seconds). */
  gateway: () => Promise<BenchGateway>;
  /** Progress lines go to stderr, so stdout stays the table (or JSON). */
  progress: (line: string) => void;
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}

/** Polls `done` every `everyMs` until it holds or `timeoutMs` passes; returns whether it held. */
export async function waitUntil(done: () => Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<boolean> {
  const deadline = performance.now() + timeoutMs;
  while (performance.now() < deadline) {
    if (await done()) return true;
    await sleep(everyMs);
  }
  return done();
}

/** Event-loop delay as /v1/metrics reports it includes its 5 ms sampling tick (src/api/metrics.ts
 * `monitorEventLoopDelay({ resolution: 5 })`: Node records the whole interval between ticks); the lag
 * is what exceeds the tick. */
export const METRICS_TICK_MS = 5;
export function lagMs(reportedMs: number): number {
  return Math.max(0, reportedMs - METRICS_TICK_MS);
}
