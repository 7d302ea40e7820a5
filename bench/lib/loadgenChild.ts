// A load generator process: plays N calls into the gateway as a carrier would (webhook, stream, paced
// frames, mark echoes; batchedCarrier.ts, built to cost the shared machine little) and reports, per call, first audio and
// how much audio went each way, plus its own CPU and event-loop delay — a generator that falls behind
// sends frames late, and the report has to say so.
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { runBatchedCalls, type BatchedOutcome } from './batchedCarrier.ts';
import { callerAudio } from './callerAudio.ts';
import { serveParent, type ChildMessage } from './children.ts';

export interface LoadJob {
  wsUrl: string;
  calls: number;
  /** Caller audio per call (ms); the hold after it comes on top. */
  audioMs: number;
  holdMs: number;
  speed: number;
  /** Calls start evenly spread over this window. */
  rampMs: number;
  /** Hard limit for the whole job. */
  timeoutMs: number;
  /**
   * 'outbound' marks the webhook as an outbound-api call (as the carrier does for calls we place), so
   * the gateway runs outbound detectors on it: AMD, beep and fax on top of VAD.
   */
  direction: 'inbound' | 'outbound';
}

export type CallOutcome = BatchedOutcome;

export interface LoadReport {
  outcomes: CallOutcome[];
  cpuMs: number;
  wallMs: number;
  loopDelayMs: { p50: number; p99: number; max: number };
}

const abortAll = new AbortController();

async function run(job: LoadJob): Promise<LoadReport> {
  if (job.speed !== 1) throw new Error('the load generator plays calls in real time only (speed 1)');
  const audio = callerAudio(job.audioMs);
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const signal = AbortSignal.any([abortAll.signal, AbortSignal.timeout(job.timeoutMs)]);
  const calls = Array.from({ length: job.calls }, (_, i) => ({
    startAtMs: job.calls > 1 ? (i * job.rampMs) / job.calls : 0,
    params: { From: `+1555${String(1_000_000 + i).slice(-7)}`, ...(job.direction === 'outbound' ? { Direction: 'outbound-api' } : {}) },
  }));
  const outcomes: CallOutcome[] = await runBatchedCalls({ wsUrl: job.wsUrl, calls, audio, holdMs: job.holdMs, signal });
  const cpu = process.cpuUsage(cpu0);
  loop.disable();
  const ms = (ns: number) => ns / 1e6;
  return {
    outcomes,
    cpuMs: (cpu.user + cpu.system) / 1000,
    wallMs: performance.now() - t0,
    loopDelayMs: { p50: ms(loop.percentile(50)), p99: ms(loop.percentile(99)), max: ms(loop.max) },
  };
}

serveParent(
  {
    run: async (m: ChildMessage) => ({ report: await run(m.job as LoadJob) }),
  },
  async () => {
    abortAll.abort();
  },
);
process.send?.({ type: 'ready' });
