// Throughput of the batched EventLog on a database: events from 200 calls appended as fast as the
// real-time path could (bursts of 2000, yielding to the event loop between bursts so the flusher runs),
// timed until the database holds all of them. Used in-process for PostgreSQL and inside the gateway
// child for PGlite (whose engine, already open there, costs many seconds to start again).
import { performance } from 'node:perf_hooks';
import { setImmediate as yieldLoop } from 'node:timers/promises';
import type { CallEvent } from '../../src/call/events.ts';
import type { Queryable } from '../../src/store/db.ts';
import { EventLog } from '../../src/store/eventLog.ts';

export interface ThroughputFigure {
  database: string;
  events: number;
  eventsPerSecond: number;
  /** CPU-side cost of append() on the real-time path. */
  appendUs: number;
  failedWrites: number;
  error?: string;
}

/** The mix of a call's timeline: speech and playout events, and detector verdicts. */
function sampleEvent(k: number): CallEvent {
  const atMs = k * 20;
  switch (k % 5) {
    case 0:
      return { type: 'speech.started', atMs };
    case 1:
      return { type: 'speech.stopped', atMs, durationMs: 840 };
    case 2:
      return { type: 'playout.started', atMs, playbackId: `pb${k}`, label: 'greeting', audioMs: 2100 };
    case 3:
      return { type: 'playout.finished', atMs, playbackId: `pb${k}`, label: 'greeting', heardMs: 2100, audioMs: 2100, interrupted: false };
    default:
      return { type: 'amd.verdict', atMs, result: 'human', answeredBy: 'human', confidence: 0.93, reason: 'short greeting then silence' };
  }
}

const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };

export async function eventLogThroughput(db: Queryable, database: string, total: number, timeoutMs = 120_000): Promise<ThroughputFigure> {
  const log = new EventLog({ db, log: quiet, maxBuffered: total * 2 });
  try {
    const calls = 200;
    const run = `${process.pid}-${Date.now().toString(36)}`;
    const ids = Array.from({ length: calls }, (_, i) => `bench-${run}-${i}`);
    let appendMs = 0;
    const t0 = performance.now();
    for (let k = 0; k < total; ) {
      const a0 = performance.now();
      for (let j = 0; j < 2000 && k < total; j++, k++) log.append(ids[k % calls] as string, sampleEvent(k));
      appendMs += performance.now() - a0;
      await yieldLoop();
    }
    const deadline = t0 + timeoutMs;
    while (log.stats().written < total && performance.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    const elapsed = performance.now() - t0;
    const s = log.stats();
    if (s.written < total) throw new Error(`only ${s.written} of ${total} events written within ${timeoutMs} ms (${s.lastError ?? 'no error'})`);
    return {
      database,
      events: total,
      eventsPerSecond: Math.round((total * 1000) / elapsed),
      appendUs: Math.round((appendMs * 100_000) / total) / 100,
      failedWrites: s.failedWrites,
    };
  } finally {
    await log.close();
  }
}
