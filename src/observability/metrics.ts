// Prometheus metrics (prom-client), in ONE registry for the process: `metricsRegistry`. Cluster
// workers each hold their own; the primary aggregates them (prom-client's AggregatorRegistry reads
// `metricsRegistry` in each worker). Counters and histograms are updated from call events off the
// frame path; gauges that mirror state elsewhere (event log, breakers) are read at scrape time.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const metricsRegistry = new Registry();
// prom-client's event-loop lag at its default 10 ms resolution. Sampling every 50 ms would save ≈3 ms of
// CPU a second at rest, but nodejs_eventloop_lag_* include the sampling interval, so every reading (and
// every operator's alert on it) would be 40 ms higher.
collectDefaultMetrics({ register: metricsRegistry });

const registers = [metricsRegistry];

export const activeCalls = new Gauge({ name: 'gateway_active_calls', help: 'Calls with a live media stream in this process', registers });

export const callsStarted = new Counter({
  name: 'gateway_calls_started_total',
  help: 'Calls whose media stream started, by carrier and direction',
  labelNames: ['carrier', 'direction'] as const,
  registers,
});

export const callsEnded = new Counter({
  name: 'gateway_calls_ended_total',
  help: 'Calls ended, by carrier, direction and outcome category (src/outcome/vocabulary.ts)',
  labelNames: ['carrier', 'direction', 'outcome'] as const,
  registers,
});

/**
 * Values taken on a hot or frequent path (a frame, a timer tick), handed to a prom-client histogram in
 * batches after it: observe() (a labels object, a hash, a closure per call) cost a worker of 300 calls
 * ≈1 % of its CPU when called from the frame path, where its code and data are cold, and an idle
 * gateway's 50 ms loop probe spent more in it than in its own timer. Every value reaches the histogram
 * by the next scrape (its collect() flushes), or sooner once half the buffer is used.
 */
class BatchedObservations {
  readonly #histogram: Histogram;
  readonly #values: Float64Array;
  #count = 0;
  #queued = false;

  constructor(histogram: Histogram, size: number) {
    this.#histogram = histogram;
    this.#values = new Float64Array(size);
  }

  add(value: number): void {
    if (this.#count === this.#values.length) this.flush(); // the event loop never got to the flush
    this.#values[this.#count++] = value;
    if (!this.#queued && this.#count >= this.#values.length / 2) {
      this.#queued = true;
      setImmediate(this.flush).unref();
    }
  }

  readonly flush = (): void => {
    this.#queued = false;
    const values = this.#values;
    for (let i = 0; i < this.#count; i++) this.#histogram.observe(values[i] as number);
    this.#count = 0;
  };
}

export const eventLoopDelay = new Histogram({
  name: 'gateway_event_loop_delay_seconds',
  help: 'Event-loop delay sampled every 50 ms (the real-time budget is one 20 ms frame)',
  buckets: [0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1],
  registers,
  collect() {
    loopDelays.flush();
  },
});
/** The probe's samples: 20 a second, handed over every 3.2 s or at a scrape. */
const loopDelays = new BatchedObservations(eventLoopDelay, 128);

export const frameProcessing = new Histogram({
  name: 'gateway_frame_processing_seconds',
  help: 'Wall time to process one inbound 20 ms frame (all detectors and consumers), sampled',
  buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.02],
  registers,
  collect() {
    frameTimes.flush();
  },
});
// Frame times are taken on the media path (one frame in 64 of every call).
const frameTimes = new BatchedObservations(frameProcessing, 256);

/** Record one frame's processing time (seconds); it reaches the histogram by the next scrape. */
export function observeFrameProcessing(seconds: number): void {
  frameTimes.add(seconds);
}

export const firstAudio = new Histogram({
  name: 'gateway_first_audio_seconds',
  help: 'Media time from stream start to the first audio the gateway sent',
  buckets: [0.1, 0.25, 0.5, 1, 2, 3, 5, 10],
  registers,
});

export const amdDecision = new Histogram({
  name: 'gateway_amd_decision_seconds',
  help: 'Media time from answer to the AMD verdict, by result',
  labelNames: ['result'] as const,
  buckets: [0.5, 1, 1.5, 2, 3, 4, 5, 8, 15, 30],
  registers,
});

export const agentTurnLatency = new Histogram({
  name: 'gateway_agent_turn_latency_seconds',
  help: "Caller's speech end to the agent's first audio (media clock), per turn",
  buckets: [0.25, 0.5, 0.75, 1, 1.25, 1.5, 2, 3, 5],
  registers,
});

export const bargeIn = new Histogram({
  name: 'gateway_barge_in_seconds',
  help: "Caller's speech start to the gateway clearing its audio",
  buckets: [0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2],
  registers,
});

export const providerErrors = new Counter({
  name: 'gateway_provider_errors_total',
  help: 'Speech/LLM provider failures seen on calls, by error code',
  labelNames: ['code'] as const,
  registers,
});

export const recordingsStopped = new Counter({
  name: 'gateway_recordings_stopped_total',
  help: 'Recordings stopped early (disk full, write error, size limit, backlog)',
  labelNames: ['reason'] as const,
  registers,
});

/** For the dialer: increment when it places a call and when an attempt ends. */
export const campaignDials = new Counter({ name: 'gateway_campaign_dials_total', help: 'Campaign dial attempts placed', labelNames: ['campaign'] as const, registers });
export const campaignOutcomes = new Counter({
  name: 'gateway_campaign_outcomes_total',
  help: 'Campaign attempt outcomes (ATTEMPT_OUTCOMES)',
  labelNames: ['campaign', 'outcome'] as const,
  registers,
});

type BreakerSource = () => Record<string, { current(): 'closed' | 'open' | 'half_open' }>;
let breakerSource: BreakerSource = () => ({});
const BREAKER_VALUE = { closed: 0, half_open: 1, open: 2 } as const;
export const breakerState = new Gauge({
  name: 'gateway_provider_breaker_state',
  help: 'Circuit breaker per provider: 0 closed, 1 half-open, 2 open',
  labelNames: ['provider'] as const,
  registers,
  collect() {
    this.reset();
    for (const [name, b] of Object.entries(breakerSource())) this.set({ provider: name }, BREAKER_VALUE[b.current()]);
  },
});

/** The providers' breakers, read at each scrape. */
export function watchBreakers(source: BreakerSource): void {
  breakerSource = source;
}

interface EventLogStats {
  buffered: number;
  dropped: number;
}
let eventLogSource: (() => EventLogStats) | undefined;
export const eventLogBuffered = new Gauge({
  name: 'gateway_event_log_buffered',
  help: 'Call events waiting to be written to the database',
  registers,
  collect() {
    if (eventLogSource) this.set(eventLogSource().buffered);
  },
});
export const eventLogDropped = new Gauge({
  name: 'gateway_event_log_dropped',
  help: 'Call events dropped because the buffer was full (since start)',
  registers,
  collect() {
    if (eventLogSource) this.set(eventLogSource().dropped);
  },
});

/** The event log whose buffer and drops are reported. */
export function watchEventLog(source: () => EventLogStats): void {
  eventLogSource = source;
}

/** Samples event-loop delay every 50 ms until stopped (timer drift: how late the loop ran it). */
export function startEventLoopProbe(intervalMs = 50): () => void {
  let expected = performance.now() + intervalMs;
  const timer = setInterval(() => {
    const now = performance.now();
    loopDelays.add(Math.max(0, now - expected) / 1000);
    expected = now + intervalMs;
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
