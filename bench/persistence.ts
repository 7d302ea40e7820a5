// Section 8, persistence under load.
// (a) Throughput of the batched EventLog (src/store/eventLog.ts): events from many calls appended as
//     fast as the real-time path could, timed until the database has all of them — on embedded PGlite
//     and, when BENCH_DATABASE_URL or TEST_DATABASE_URL is set, on PostgreSQL (a scratch database).
// (b) A stalled database must not touch audio: calls run against a gateway child; the database is
//     stalled mid-call (PostgreSQL: a TCP proxy stops forwarding; PGlite: every query of the gateway
//     is held, as a paused engine would), and we compare event-loop lag and first audio with the
//     healthy window before, watch events pile up in the buffer, then release the database and wait
//     until they are all written. First audio during the stall is measured on calls whose webhook was
//     answered before it (the carrier has the TwiML) — and one brand-new webhook shows whether new
//     calls can still be answered. `node bench/persistence.ts [--short]`
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setImmediate as yieldLoop } from 'node:timers/promises';
import type { CallEvent } from '../src/call/events.ts';
import { replayCall } from '../src/replay/client.ts';
import { carrierSid } from '../src/replay/ids.ts';
import { postVoiceWebhook } from '../src/replay/webhook.ts';
import { openDatabase } from '../src/store/db.ts';
import { EventLog } from '../src/store/eventLog.ts';
import { callerAudio } from './lib/callerAudio.ts';
import { startGateway, type BenchGateway } from './lib/gateway.ts';
import { IdleProbe } from './lib/idleProbe.ts';
import { LoadGenerators } from './lib/loadgen.ts';
import { benchDatabaseUrl, createScratchDatabase } from './lib/scratchDb.ts';
import { lagMs, sleep, waitUntil, type SectionContext, type SectionResult } from './lib/section.ts';
import { round, summarize } from './lib/stats.ts';
import type { Check } from './lib/stats.ts';
import type { Cell } from './lib/table.ts';
import { StallableProxy } from './lib/tcpProxy.ts';
import { TwimlReplay } from './lib/twimlReplay.ts';

const quietLog = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };

export interface ThroughputFigure {
  database: string;
  events: number;
  eventsPerSecond: number;
  appendUs: number;
  failedWrites: number;
  error?: string;
}

/** The mix of a call's timeline: mostly speech and playout events, some detector verdicts. */
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

export async function measureThroughput(kind: 'pglite' | 'postgres', total: number, databaseUrl?: string): Promise<ThroughputFigure> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'gw-bench-el-'));
  const db = await openDatabase({ databaseUrl, dataDir, log: quietLog });
  const log = new EventLog({ db: db.pool, log: quietLog, maxBuffered: total * 2 });
  try {
    const calls = 200;
    const ids = Array.from({ length: calls }, (_, i) => `bench-${process.pid}-${kind}-${i}`);
    let appendMs = 0;
    const t0 = performance.now();
    for (let k = 0; k < total; ) {
      const a0 = performance.now();
      for (let j = 0; j < 2000 && k < total; j++, k++) log.append(ids[k % calls] as string, sampleEvent(k));
      appendMs += performance.now() - a0;
      // Let the flusher run between bursts, as the real-time path does between media messages.
      await yieldLoop();
    }
    const done = await waitUntil(async () => log.stats().written >= total, 120_000, 5);
    const elapsed = performance.now() - t0;
    const s = log.stats();
    if (!done) throw new Error(`only ${s.written} of ${total} events written within 120 s (${s.lastError ?? 'no error'})`);
    return { database: kind, events: total, eventsPerSecond: Math.round((total * 1000) / elapsed), appendUs: round((appendMs * 1000) / total, 2), failedWrites: s.failedWrites };
  } finally {
    await log.close();
    await db.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

export interface StallFigure {
  database: string;
  calls: number;
  healthy: { lagP99: number; lagMax: number; idleProbeP99: number; firstAudioP50: number; firstAudioOk: number };
  stalled: { lagP99: number; lagMax: number; idleProbeP99: number; firstAudioP50: number; firstAudioOk: number; firstAudioTried: number; bufferedPeak: number; writtenDuring: number };
  newWebhookDuringStall: string;
  recovery: { ms: number; buffered: number; dropped: number; writtenAfter: number };
  callsFailed: number;
  note?: string;
}

async function firstAudioProbes(urls: string[], gw: BenchGateway, waitMs: number): Promise<number[]> {
  const audio = callerAudio(500);
  const out: number[] = [];
  for (const url of urls) {
    const r = await replayCall({ carrier: 'twilio', audio, url: gw.wsUrl, speed: 1, holdMs: waitMs, maxHoldMs: waitMs, webhook: { url }, signal: AbortSignal.timeout(waitMs + 10_000) }).catch(() => undefined);
    if (r?.firstAudio) out.push(r.firstAudio.wallMs);
  }
  return out;
}

export async function measureStall(gw: BenchGateway, database: string, stall: (on: boolean) => Promise<void> | void, short: boolean, progress: (l: string) => void): Promise<StallFigure> {
  const calls = short ? 40 : 100;
  const windowMs = short ? 5000 : 10_000;
  const probes = short ? 4 : 8;
  const rampMs = 2000;
  const gens = await LoadGenerators.start(1);
  const probe = await IdleProbe.start();
  const twiml = await TwimlReplay.start();
  try {
    // TwiML for the probe calls is fetched while the database is healthy (see TwimlReplay).
    const healthyUrls: string[] = [];
    const stallUrls: string[] = [];
    for (let i = 0; i < probes; i++) healthyUrls.push(await twiml.prepare(gw.httpUrl));
    for (let i = 0; i < probes; i++) stallUrls.push(await twiml.prepare(gw.httpUrl));
    await firstAudioProbes([await twiml.prepare(gw.httpUrl)], gw, 1500); // warm-up

    const audioMs = rampMs + 2500 + 2 * windowMs + 15_000;
    const load = gens.run({ wsUrl: gw.wsUrl, calls, audioMs, holdMs: 0, speed: 1, rampMs, timeoutMs: audioMs + 90_000, direction: 'outbound' });
    let loadError: Error | undefined;
    load.catch((err: unknown) => {
      loadError = err instanceof Error ? err : new Error(String(err));
    });
    await sleep(rampMs + 2500);
    progress(`persistence: ${database} — healthy window, ${calls} calls`);
    await gw.metrics(true);
    await probe.read(true);
    const healthyFa = await firstAudioProbes(healthyUrls, gw, 1500);
    const remaining = windowMs - 0;
    await sleep(Math.max(0, remaining - healthyFa.length * 2000));
    const mh = await gw.metrics(true);
    const ph = await probe.read(true);

    progress(`persistence: ${database} — database stalled`);
    const beforeStall = await gw.stats();
    await stall(true);
    const stallStart = performance.now();
    const stalledFa = await firstAudioProbes(stallUrls, gw, 3000);
    // A brand-new call needs its webhook answered, and the webhook records the call first.
    const webhookT0 = performance.now();
    const newCall = await postVoiceWebhook({
      carrier: 'twilio',
      url: `${gw.httpUrl}/voice/twilio`,
      params: { CallSid: carrierSid('twilio', 'call'), AccountSid: carrierSid('twilio', 'account'), From: '+15005550006', To: '+15005550001', Direction: 'outbound-api', CallStatus: 'in-progress' },
      timeoutMs: 3000,
    }).then(
      (a) => `answered in ${Math.round(performance.now() - webhookT0)} ms (${a.twiml.verbs.join(' ')})`,
      (err: unknown) => `not answered within 3 s (${(err as Error).message.slice(0, 80)})`,
    );
    await sleep(Math.max(0, windowMs - (performance.now() - stallStart)));
    const ms = await gw.metrics();
    const ps = await probe.read(true);
    const duringStall = await gw.stats();

    progress(`persistence: ${database} — database released`);
    await stall(false);
    const r0 = performance.now();
    let after = await gw.stats();
    await waitUntil(async () => {
      after = await gw.stats();
      return after.events.buffered === 0;
    }, 60_000, 50);
    const recoveryMs = performance.now() - r0;
    if (loadError) throw loadError;
    const result = await load;
    const h = summarize(healthyFa);
    const s = summarize(stalledFa);
    return {
      database,
      calls,
      healthy: { lagP99: lagMs(mh.eventLoopDelayMs.p99), lagMax: lagMs(mh.eventLoopDelayMs.max), idleProbeP99: round(lagMs(ph.p99), 2), firstAudioP50: h.p50, firstAudioOk: h.count },
      stalled: {
        lagP99: lagMs(ms.eventLoopDelayMs.p99),
        lagMax: lagMs(ms.eventLoopDelayMs.max),
        idleProbeP99: round(lagMs(ps.p99), 2),
        firstAudioP50: s.p50,
        firstAudioOk: s.count,
        firstAudioTried: stallUrls.length,
        bufferedPeak: duringStall.events.buffered,
        writtenDuring: duringStall.events.written - beforeStall.events.written,
      },
      newWebhookDuringStall: newCall,
      recovery: { ms: Math.round(recoveryMs), buffered: after.events.buffered, dropped: after.events.dropped, writtenAfter: after.events.written - duringStall.events.written },
      callsFailed: result.outcomes.filter((o) => !o.ok).length,
    };
  } finally {
    await Promise.all([gens.stop(), probe.stop(), twiml.close()]);
  }
}

export async function runPersistenceBench(ctx: SectionContext): Promise<SectionResult> {
  const total = ctx.short ? 20_000 : 100_000;
  const pgUrl = benchDatabaseUrl();
  const throughput: ThroughputFigure[] = [];
  const stalls: StallFigure[] = [];
  const notes: string[] = [];

  ctx.progress(`persistence: ${total} events through the EventLog on PGlite`);
  throughput.push(await measureThroughput('pglite', total).catch((err: unknown) => ({ database: 'pglite', events: total, eventsPerSecond: Number.NaN, appendUs: Number.NaN, failedWrites: 0, error: (err as Error).message })));
  if (pgUrl) {
    const scratch = await createScratchDatabase(pgUrl);
    try {
      ctx.progress(`persistence: ${total} events through the EventLog on PostgreSQL`);
      throughput.push(await measureThroughput('postgres', total, scratch.url).catch((err: unknown) => ({ database: 'postgres', events: total, eventsPerSecond: Number.NaN, appendUs: Number.NaN, failedWrites: 0, error: (err as Error).message })));
    } finally {
      await scratch.drop();
    }
  } else {
    notes.push('PostgreSQL: not measured (set BENCH_DATABASE_URL or TEST_DATABASE_URL).');
  }

  // Stall on PGlite: the shared gateway, its queries held inside the child.
  const shared = await ctx.gateway();
  stalls.push(await measureStall(shared, shared.database, (on) => shared.stall(on), ctx.short, ctx.progress));
  if (pgUrl) {
    const scratch = await createScratchDatabase(pgUrl);
    const proxy = await StallableProxy.start(scratch.url);
    let gw: BenchGateway | undefined;
    try {
      gw = await startGateway({ databaseUrl: proxy.rewrite(scratch.url) });
      stalls.push(await measureStall(gw, 'postgres (TCP proxy)', (on) => (on ? proxy.stall() : proxy.resume()), ctx.short, ctx.progress));
    } finally {
      await gw?.stop();
      await proxy.close();
      await scratch.drop();
    }
  }

  const rows: Cell[][] = [
    ...throughput.map((t) => [`EventLog throughput, ${t.database}`, t.error ? `error: ${t.error.slice(0, 60)}` : `${t.eventsPerSecond} events/s`, t.error ? '' : `${t.events} events, append ${t.appendUs} µs each, failed writes ${t.failedWrites}`]),
    ...stalls.flatMap((s) => [
      [`stall ${s.database}: lag p99 healthy → stalled`, `${s.healthy.lagP99} → ${s.stalled.lagP99} ms`, `max ${s.healthy.lagMax} → ${s.stalled.lagMax} ms; idle process p99 ${s.healthy.idleProbeP99} → ${s.stalled.idleProbeP99} ms; ${s.calls} calls live`],
      [`stall ${s.database}: first audio p50 healthy → stalled`, `${s.healthy.firstAudioP50} → ${s.stalled.firstAudioP50} ms`, `${s.stalled.firstAudioOk}/${s.stalled.firstAudioTried} stalled-window calls heard the greeting (TwiML fetched before the stall)`],
      [`stall ${s.database}: events buffered`, `${s.stalled.bufferedPeak}`, `written during stall ${s.stalled.writtenDuring}; after release: ${s.recovery.writtenAfter} written in ${s.recovery.ms} ms, ${s.recovery.buffered} left, ${s.recovery.dropped} dropped`],
      [`stall ${s.database}: new call's webhook`, s.newWebhookDuringStall.startsWith('answered') ? 'answered' : 'blocked', s.newWebhookDuringStall],
    ]),
  ];
  const checks: Check[] = [];
  const pglite = throughput.find((t) => t.database === 'pglite');
  if (pglite) checks.push({ name: 'EventLog events/s on PGlite', value: pglite.eventsPerSecond, op: '>', bound: 500, unit: 'events/s', note: 'low floor: a few hundred calls make ~100 events/s' });
  const pg = throughput.find((t) => t.database === 'postgres');
  if (pg) checks.push({ name: 'EventLog events/s on PostgreSQL', value: pg.eventsPerSecond, op: '>', bound: 1000, unit: 'events/s', note: 'low floor' });
  for (const s of stalls) {
    checks.push({ name: `stall ${s.database}: lag p99 stalled − healthy`, value: round(s.stalled.lagP99 - Math.max(s.healthy.lagP99, s.stalled.idleProbeP99), 2), op: '<', bound: 50, unit: 'ms', note: 'a stalled database must not slow the event loop' });
    checks.push({ name: `stall ${s.database}: events lost`, value: s.recovery.dropped + s.recovery.buffered, op: '<=', bound: 0, unit: 'events', note: 'buffered, then written after recovery' });
    checks.push({ name: `stall ${s.database}: live calls failed`, value: s.callsFailed, op: '<=', bound: 0, unit: 'calls', note: 'calls in progress carry on' });
  }
  notes.push('lag = /v1/metrics eventLoopDelayMs − its 5 ms tick; "idle process" = an idle child over the same window (the machine\'s share).');
  return {
    id: 'persistence',
    title: '8. Persistence under load (batched EventLog; stalled database vs audio)',
    header: ['figure', 'value', 'detail'],
    rows,
    figures: { throughput, stalls },
    checks,
    notes,
  };
}

if (import.meta.main) {
  const short = process.argv.includes('--short');
  let gw: BenchGateway | undefined;
  const r = await runPersistenceBench({ short, gateway: async () => (gw ??= await startGateway()), progress: (l) => process.stderr.write(`${l}\n`) }).finally(() => gw?.stop());
  process.stdout.write(`${JSON.stringify(r.figures, null, 2)}\n`);
}
