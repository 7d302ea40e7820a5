// Section 3, concurrency: N calls replayed at real-time pace (speed 1) against one gateway child
// process, each with its greeting played and the detector chain on. The calls come from one or two
// load-generator child processes (never the gateway's process). After the ramp, the event-loop delay
// histogram of /v1/metrics is reset and read again at the end of a steady window, where every call is
// live; CPU and memory per call come from the same window. Dropped frames: inbound frames sent but not
// processed by the gateway; short greetings: callers that heard less of the greeting than was sent.
// Figure of merit: the largest N whose p99 event-loop lag stays under one 20 ms frame.
// `node bench/concurrency.ts [--short] [--n 50,200]`
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import { FRAME_MS } from '../dsp/frame.ts';
import { startGateway, type BenchGateway } from './lib/gateway.ts';
import { IdleProbe } from './lib/idleProbe.ts';
import { LoadGenerators, type MergedLoad } from './lib/loadgen.ts';
import { bareFloorUsPerMessage } from './mediaPath.ts';
import { lagMs, sleep, waitUntil, type SectionContext, type SectionResult } from './lib/section.ts';
import { round, summarize } from './lib/stats.ts';

export interface ConcurrencyLevel {
  n: number;
  completed: number;
  failed: number;
  failures: string[];
  activeInWindow: number;
  windowMs: number;
  /** Event-loop delay as /v1/metrics reports it (includes its 5 ms tick). */
  reportedDelayMs: { p50: number; p99: number; max: number };
  lagMs: { p50: number; p99: number; max: number };
  /** An idle process's lag over the same window: the scheduler's share on a shared machine. */
  idleProbeLagMs: { p50: number; p99: number; max: number };
  cpuCorePerCall: number;
  cpuCoreTotal: number;
  /** JS heap growth over the idle gateway ÷ live calls (RSS keeps what earlier levels grew). */
  memoryMbPerCall: number;
  /** RSS growth over the idle gateway ÷ live calls (an upper bound: RSS keeps what earlier levels grew). */
  rssMbPerCall: number;
  rssMb: number;
  /** The idle gateway's RSS before this level: the base a call's memory comes on top of. */
  baseRssMb: number;
  framesSent: number;
  framesProcessed: number;
  /** Inbound frames sent but not processed by the time the calls had ended (+15 s grace). */
  droppedFrames: number;
  shortGreetings: number;
  firstAudioMs: { p50: number; p99: number; max: number };
  generatorCpuCore: number;
  generatorLoopDelayMs: { p99: number; max: number };
  holds: boolean;
  /** The gateway's database queries during this level, slowest total first (where set-up waits). */
  queries: Array<{ sql: string; count: number; meanMs: number; maxMs: number }>;
}

export interface ConcurrencyOptions {
  levels?: number[];
  steadyMs?: number;
  /** Extra levels to find the highest N that holds (×1.5 beyond the last, or bisection), at most. */
  extraSteps?: number;
}

const MAX_N = 1500;

async function runLevel(gw: BenchGateway, gens: LoadGenerators, n: number, steadyMs: number, greeting: number, probe: IdleProbe, progress: (l: string) => void): Promise<ConcurrencyLevel> {
  // Calls arrive at 20 per second: capacity for live calls is measured here, not the set-up rate
  // (each set-up is a webhook plus several database writes).
  const rampMs = Math.min(30_000, Math.max(2000, n * 50));
  const settleMs = 2500; // the last greeting (≈2.2 s) is out before the window opens
  const audioMs = rampMs + settleMs + steadyMs + 1000;
  const holdMs = 500;
  await gw.resetQueries();
  const idle = await gw.stats();
  const before = idle;
  progress(`concurrency: N=${n}, ramp ${rampMs} ms, window ${steadyMs} ms`);
  const t0 = performance.now();
  const load = gens.run({ wsUrl: gw.wsUrl, calls: n, audioMs, holdMs, speed: 1, rampMs, timeoutMs: audioMs + rampMs + 60_000, direction: 'outbound' });
  let failedEarly: Error | undefined;
  load.catch((err: unknown) => {
    failedEarly = err instanceof Error ? err : new Error(String(err));
  });
  await sleep(rampMs + settleMs);
  await gw.metrics(true);
  await probe.read(true);
  const w0 = await gw.stats();
  const tw0 = performance.now();
  await sleep(steadyMs);
  const m = await gw.metrics();
  const p = await probe.read();
  const w1 = await gw.stats();
  const windowMs = performance.now() - tw0;
  if (failedEarly) throw failedEarly;
  const result: MergedLoad = await load;
  const totalMs = performance.now() - t0;
  await waitUntil(async () => (await gw.stats()).activeCalls === 0, 15_000, 200);
  const after = await gw.stats();

  const ok = result.outcomes.filter((o) => o.ok);
  const failures = [...new Set(result.outcomes.filter((o) => !o.ok).map((o) => o.error ?? o.endReason))].slice(0, 3);
  const framesSent = result.outcomes.reduce((s, o) => s + Math.round(o.sentAudioMs / FRAME_MS), 0);
  const framesProcessed = after.mediaMessages - before.mediaMessages;
  const shortGreetings = ok.filter((o) => o.receivedAudioMs < greeting - 2 * FRAME_MS).length;
  const fa = summarize(ok.flatMap((o) => (o.firstAudioWallMs === null ? [] : [o.firstAudioWallMs])));
  const active = Math.max(1, Math.min(w0.activeCalls, w1.activeCalls));
  const cpuCore = (w1.cpuUs - w0.cpuUs) / 1000 / windowMs;
  const genCpu = result.generators.reduce((s, g) => s + g.cpuMs, 0) / totalMs;
  const d = m.eventLoopDelayMs;
  const lag = { p50: lagMs(d.p50), p99: lagMs(d.p99), max: lagMs(d.max) };
  const failed = result.outcomes.length - ok.length;
  return {
    n,
    completed: ok.length,
    failed,
    failures,
    activeInWindow: Math.min(w0.activeCalls, w1.activeCalls),
    windowMs: Math.round(windowMs),
    reportedDelayMs: { p50: d.p50, p99: d.p99, max: d.max },
    lagMs: lag,
    idleProbeLagMs: { p50: round(lagMs(p.p50), 2), p99: round(lagMs(p.p99), 2), max: round(lagMs(p.max), 2) },
    cpuCorePerCall: round(cpuCore / active, 5),
    cpuCoreTotal: round(cpuCore, 3),
    memoryMbPerCall: round(Math.max(0, w1.heapMb - idle.heapMb) / active, 3),
    rssMbPerCall: round(Math.max(0, w1.rssMb - idle.rssMb) / active, 3),
    rssMb: round(w1.rssMb, 1),
    baseRssMb: round(idle.rssMb, 1),
    framesSent,
    framesProcessed,
    droppedFrames: Math.max(0, framesSent - framesProcessed),
    shortGreetings,
    firstAudioMs: { p50: fa.p50, p99: fa.p99, max: fa.max },
    generatorCpuCore: round(genCpu, 3),
    generatorLoopDelayMs: { p99: round(Math.max(...result.generators.map((g) => g.loopDelayMs.p99)), 1), max: round(Math.max(...result.generators.map((g) => g.loopDelayMs.max)), 1) },
    holds: failed === 0 && lag.p99 < FRAME_MS && w0.activeCalls >= n && w1.activeCalls >= n,
    queries: [...after.queries].sort((a, b) => b.count * b.meanMs - a.count * a.meanMs).slice(0, 8),
  };
}

/**
 * Two calls at idle: compiles the hot paths and fills the prompt cache, and tells how much greeting
 * audio a caller should receive (the reference for "short greetings").
 */
export async function warmUp(gw: BenchGateway, gens: LoadGenerators): Promise<number> {
  const r = await gens.run({ wsUrl: gw.wsUrl, calls: 2, audioMs: 4000, holdMs: 500, speed: 1, rampMs: 0, timeoutMs: 60_000, direction: 'outbound' });
  const bad = r.outcomes.find((o) => !o.ok);
  if (bad) throw new Error(`warm-up call failed: ${bad.error ?? bad.endReason}`);
  return Math.max(...r.outcomes.map((o) => o.receivedAudioMs));
}

export async function runConcurrencyLevels(gw: BenchGateway, opts: { short: boolean; progress: (l: string) => void } & ConcurrencyOptions): Promise<ConcurrencyLevel[]> {
  const levels = opts.levels ?? (opts.short ? [50, 200] : [50, 200, 500]);
  const steadyMs = opts.steadyMs ?? (opts.short ? 8000 : 20_000);
  const extra = opts.extraSteps ?? (opts.short ? 0 : 2);
  const gens = await LoadGenerators.start(2);
  const probe = await IdleProbe.start();
  const out: ConcurrencyLevel[] = [];
  try {
    const greeting = await warmUp(gw, gens);
    for (const n of levels) out.push(await runLevel(gw, gens, n, steadyMs, greeting, probe, opts.progress));
    // Look for the highest N that holds: beyond the last level while it holds (×1.5), else between
    // the largest that held and the smallest that did not (bisection to a step of 50).
    for (let step = 0; step < extra; step++) {
      const held = out.filter((l) => l.holds).map((l) => l.n);
      const failed = out.filter((l) => !l.holds).map((l) => l.n);
      const lo = held.length ? Math.max(...held) : 0;
      const above = failed.filter((n) => n > lo);
      const hi = above.length ? Math.min(...above) : undefined;
      let next: number;
      if (hi === undefined) next = Math.round((lo * 1.5) / 50) * 50;
      else next = Math.round((lo + hi) / 2 / 50) * 50;
      if (next > MAX_N || next <= lo || next === hi || next <= 0) break;
      out.push(await runLevel(gw, gens, next, steadyMs, greeting, probe, opts.progress));
    }
  } finally {
    await Promise.all([gens.stop(), probe.stop()]);
  }
  return out.sort((a, b) => a.n - b.n);
}

export async function runConcurrencyBench(ctx: SectionContext, opts: ConcurrencyOptions = {}): Promise<SectionResult> {
  const gw = await ctx.gateway();
  // The floor beside each level: a bare websocket server's CPU for a call's 50 media messages per
  // second (JSON, base64, mu-law and nothing else), measured in this run, so a slow or busy machine
  // moves both.
  ctx.progress('concurrency: the bare websocket floor per call');
  const floorUs = await bareFloorUsPerMessage(10, ctx.short ? 500 : 1500, ctx.short ? 1 : 2);
  const floorPctPerCall = (floorUs * (1000 / FRAME_MS)) / 1e4;
  const levels = await runConcurrencyLevels(gw, { short: ctx.short, progress: ctx.progress, ...opts });
  const holding = levels.filter((l) => l.holds).map((l) => l.n);
  const best = holding.length > 0 ? Math.max(...holding) : 0;
  const at200 = levels.find((l) => l.n === 200);
  const detectors = (await gw.stats()).detectors;
  return {
    id: 'concurrency',
    title: '3. Concurrency (one gateway process, calls at real-time pace, greeting + detectors)',
    header: ['N', 'ok', 'failed', 'lag p50', 'lag p99', 'lag max', 'idle proc p99', 'CPU core', 'CPU %core/call', 'floor %core/call', 'call ÷ floor', 'heap MB/call', 'RSS MB/call', 'RSS MB (idle base)', 'unprocessed frames', 'short greetings', '1st audio p50', '1st audio p99', 'gen CPU core', 'gen lag p99', 'holds'],
    rows: levels.map((l) => [
      l.n,
      l.completed,
      l.failed,
      l.lagMs.p50,
      l.lagMs.p99,
      l.lagMs.max,
      l.idleProbeLagMs.p99,
      l.cpuCoreTotal,
      round(l.cpuCorePerCall * 100, 3),
      round(floorPctPerCall, 4),
      round((l.cpuCorePerCall * 100) / floorPctPerCall, 2),
      l.memoryMbPerCall,
      l.rssMbPerCall,
      `${l.rssMb} (${l.baseRssMb})`,
      l.droppedFrames,
      l.shortGreetings,
      l.firstAudioMs.p50,
      l.firstAudioMs.p99,
      l.generatorCpuCore,
      l.generatorLoopDelayMs.p99,
      l.holds,
    ]),
    figures: { levels, largestNHolding: best, detectors, floorUsPerMessage: floorUs, floorPctCorePerCall: round(floorPctPerCall, 4) },
    checks: at200
      ? [
          // 150 ms, not the 20 ms target: on a shared 2-core machine a busy process is preempted for tens of
          // ms at a time (6–110 ms p99 seen at N=200 across runs); a loop that blocks shows far above it.
          { name: 'concurrency N=200: p99 event-loop lag', value: at200.lagMs.p99, op: '<', bound: 150, unit: 'ms', note: 'target < 20 ms at N=500' },
          { name: 'concurrency N=200: calls failed', value: at200.failed / at200.n, op: '<=', bound: 0.01, unit: 'share', note: 'every call should complete' },
          { name: 'concurrency N=200: unprocessed inbound frames', value: at200.droppedFrames / Math.max(1, at200.framesSent), op: '<=', bound: 0.01, unit: 'share', note: 'frames sent but not processed' },
          // CPU time, unlike lag, hardly depends on what else the machine runs; as a ratio to the floor
          // measured in the same run it does not depend on the machine's speed either.
          { name: 'concurrency N=200: gateway CPU per call', value: at200.cpuCorePerCall * 100, op: '<=', bound: 2, unit: '% of a core', note: 'target ≤ 0.1% of a core per listening call' },
          { name: 'concurrency N=200: CPU per call ÷ bare websocket floor', value: round((at200.cpuCorePerCall * 100) / floorPctPerCall, 2), op: '<=', bound: 12, unit: '×', note: 'measured 2–3.2× (fixed costs: heartbeats, timers, the database); bound generous for a shared machine' },
        ]
      : [],
    notes: [
      `Figure of merit: largest N with p99 event-loop lag < 20 ms (and no failed call) = ${best || 'none of those tried'}.`,
      `lag = /v1/metrics eventLoopDelayMs − its 5 ms sampling tick; p50/p99/max over the steady window with all N calls live.`,
      `idle proc p99 = lag of an idle child process over the same window: what the machine's scheduler alone adds.`,
      `unprocessed frames = inbound frames the replay sent that the gateway had not processed 15 s after the calls ended (dropped or hopelessly late).`,
      `CPU core = gateway child's CPU over the window ÷ wall time (1.0 = one core); gen = the two load-generator children together.`,
      `floor = a bare \`ws\` server (JSON + base64 + mu-law only) measured in this run: ${round(floorUs, 2)} µs per media message, × 50 messages/s = ${round(floorPctPerCall, 4)} % of a core per call.`,
      `detectors: ${detectors.programAttached} calls with detectors attached by the call program (outbound defaults: ${JSON.stringify(detectors.outboundDefaults ?? null)}), ${detectors.benchAttached} by the bench${detectors.programAttachedLate ? `, ${detectors.programAttachedLate} where the program attached more later (two chains!)` : ''}.`,
      ...levels.flatMap((l) => (l.failures.length ? [`N=${l.n} failures: ${l.failures.join(' | ')}`] : [])),
      ...levels.map((l) => {
        const q = l.queries.reduce((acc, x) => ({ count: acc.count + x.count, total: acc.total + x.count * x.meanMs, max: Math.max(acc.max, x.maxMs) }), { count: 0, total: 0, max: 0 });
        const slowest = l.queries[0];
        return `N=${l.n} database: ${q.count} queries, mean wait ${round(q.total / Math.max(1, q.count), 1)} ms, max ${q.max} ms${slowest ? `; most time in "${slowest.sql}…" (${slowest.count} × ${slowest.meanMs} ms)` : ''}`;
      }),
    ],
  };
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { short: { type: 'boolean' }, n: { type: 'string' } } });
  let gw: BenchGateway | undefined;
  const levels = values.n ? values.n.split(',').map(Number) : undefined;
  const r = await runConcurrencyBench(
    { short: values.short ?? false, gateway: async () => (gw ??= await startGateway()), progress: (l) => process.stderr.write(`${l}\n`) },
    levels ? { levels } : {},
  ).finally(() => gw?.stop());
  process.stdout.write(`${JSON.stringify(r.figures, null, 2)}\n`);
}
