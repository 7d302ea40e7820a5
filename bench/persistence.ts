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
import { carrierSid } from '../src/replay/ids.ts';
import { postVoiceWebhook } from '../src/replay/webhook.ts';
import { openDatabase } from '../src/store/db.ts';
import { eventLogThroughput, type ThroughputFigure } from './lib/eventLogThroughput.ts';
import { probeCall } from './lib/firstAudioProbe.ts';
import { startGateway, type BenchGateway } from './lib/gateway.ts';
import { IdleProbe } from './lib/idleProbe.ts';
import { LoadGenerators } from './lib/loadgen.ts';
import { benchDatabaseUrl, createScratchDatabase } from './lib/scratchDb.ts';
import { lagMs, sleep, waitUntil, type SectionContext, type SectionResult } from './lib/section.ts';
import { round, summarize } from './lib/stats.ts';
import type { Check } from './lib/stats.ts';
import type { Cell } from './lib/table.ts';
import { TcpProxy } from './lib/tcpProxy.ts';
import { TwimlReplay, type PreparedCall } from './lib/twimlReplay.ts';

const quietLog = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };

/** EventLog throughput on PostgreSQL (a database URL) or a fresh embedded PGlite, in this process. */
export async function localThroughput(databaseUrl: string | undefined, total: number): Promise<ThroughputFigure> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'gw-bench-el-'));
  try {
    const db = await openDatabase({ databaseUrl, dataDir, log: quietLog });
    try {
      return await eventLogThroughput(db.pool, db.kind, total);
    } finally {
      await db.close();
    }
  } finally {
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

/** Probe calls all at once (so the window's length does not depend on how they fare). */
async function firstAudioProbes(calls: PreparedCall[], gw: BenchGateway, timeoutMs: number): Promise<number[]> {
  const results = await Promise.all(calls.map((call) => probeCall(gw, timeoutMs, call)));
  return results.flatMap((r) => (r.ok ? [r.firstAudioMs] : []));
}

export async function measureStall(gw: BenchGateway, database: string, stall: (on: boolean) => Promise<void> | void, short: boolean, progress: (l: string) => void): Promise<StallFigure> {
  const calls = short ? 40 : 100;
  const windowMs = short ? 5000 : 10_000;
  const probes = short ? 4 : 8;
  const rampMs = calls * 50;
  const gens = await LoadGenerators.start(1);
  const probe = await IdleProbe.start();
  const twiml = await TwimlReplay.start();
  try {
    // TwiML for the probe calls is fetched while the database is healthy (see TwimlReplay).
    const healthyCalls: PreparedCall[] = [];
    const stallCalls: PreparedCall[] = [];
    for (let i = 0; i < probes; i++) healthyCalls.push(await twiml.prepare(gw.httpUrl));
    for (let i = 0; i < probes; i++) stallCalls.push(await twiml.prepare(gw.httpUrl));
    await firstAudioProbes([await twiml.prepare(gw.httpUrl)], gw, 3000); // warm-up

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
    const healthyStart = performance.now();
    const healthyFa = await firstAudioProbes(healthyCalls, gw, 3000);
    await sleep(Math.max(0, windowMs - (performance.now() - healthyStart)));
    const mh = await gw.metrics(true);
    const ph = await probe.read(true);

    progress(`persistence: ${database} — database stalled`);
    const beforeStall = await gw.stats();
    await stall(true);
    const stallStart = performance.now();
    const stalledFa = await firstAudioProbes(stallCalls, gw, Math.min(3000, windowMs - 1000));
    // A brand-new call arriving during the stall needs its webhook answered. It is an inbound call: an
    // outbound one is placed through the API, which records it first and so cannot start during a stall.
    const webhookT0 = performance.now();
    const newCall = await postVoiceWebhook({
      carrier: 'twilio',
      url: `${gw.httpUrl}/voice/twilio`,
      params: { CallSid: carrierSid('twilio', 'call'), AccountSid: carrierSid('twilio', 'account'), From: '+15005550006', To: '+15005550001', Direction: 'inbound', CallStatus: 'ringing' },
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
        firstAudioTried: stallCalls.length,
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

  const failed = (database: string, err: unknown): ThroughputFigure => ({ database, events: total, eventsPerSecond: Number.NaN, appendUs: Number.NaN, failedWrites: 0, error: (err as Error).message });
  const shared = await ctx.gateway();
  ctx.progress(`persistence: ${total} events through the EventLog on ${shared.database} (inside the gateway child)`);
  throughput.push(await shared.eventLogThroughput(total).catch((err: unknown) => failed(shared.database, err)));
  // The other database in this process: PostgreSQL when the gateway runs on PGlite, and vice versa.
  if (shared.database === 'postgres') {
    ctx.progress(`persistence: ${total} events through the EventLog on PGlite (in this process)`);
    throughput.push(await localThroughput(undefined, total).catch((err: unknown) => failed('pglite', err)));
  } else if (pgUrl) {
    const scratch = await createScratchDatabase(pgUrl);
    try {
      ctx.progress(`persistence: ${total} events through the EventLog on PostgreSQL (in this process)`);
      throughput.push(await localThroughput(scratch.url, total).catch((err: unknown) => failed('postgres', err)));
    } finally {
      await scratch.drop();
    }
  } else {
    notes.push('PostgreSQL: not measured (set BENCH_DATABASE_URL or TEST_DATABASE_URL).');
  }

  // Stall on the shared gateway: its queries are held inside the child (for PGlite: as a paused engine).
  stalls.push(await measureStall(shared, `${shared.database} (queries held)`, (on) => shared.stall(on), ctx.short, ctx.progress));
  // The full run also stalls PostgreSQL for real (a TCP proxy that stops forwarding) and, when the
  // shared gateway is on PostgreSQL, PGlite; each needs a gateway of its own, which the short pass
  // skips to stay well under its time budget.
  if (!ctx.short && pgUrl) {
    const scratch = await createScratchDatabase(pgUrl);
    const target = new URL(scratch.url);
    const proxy = await TcpProxy.start({ host: target.hostname, port: Number(target.port || 5432) });
    let gw: BenchGateway | undefined;
    try {
      gw = await startGateway({ databaseUrl: proxy.rewrite(scratch.url) });
      stalls.push(await measureStall(gw, 'postgres (TCP proxy)', (on) => (on ? proxy.stall() : proxy.restore()), ctx.short, ctx.progress));
    } finally {
      await gw?.stop();
      await proxy.close();
      await scratch.drop();
    }
  }
  if (!ctx.short && shared.database !== 'pglite') {
    const gw = await startGateway();
    try {
      stalls.push(await measureStall(gw, 'pglite (queries held)', (on) => gw.stall(on), ctx.short, ctx.progress));
    } finally {
      await gw.stop();
    }
  }
  if (ctx.short) notes.push('Stalls of the other database (PostgreSQL through a TCP proxy, PGlite): full run only (npm run bench -- --only persistence).');

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
    // Lag is noisy on a shared machine: compare with the worse of the healthy window and an idle
    // process over the stalled window, with room for noise; a stall that blocked the loop would add
    // whole seconds.
    const reference = Math.max(s.healthy.lagP99, s.stalled.idleProbeP99);
    checks.push({ name: `stall ${s.database}: lag p99 stalled ÷ max(healthy, idle process)`, value: round(s.stalled.lagP99 / Math.max(reference, 10), 2), op: '<', bound: 3, unit: '×', note: 'a stalled database must not slow the event loop' });
    checks.push({ name: `stall ${s.database}: events lost`, value: s.recovery.dropped + s.recovery.buffered, op: '<=', bound: 0, unit: 'events', note: 'buffered, then written after recovery' });
    checks.push({ name: `stall ${s.database}: live calls failed`, value: s.callsFailed, op: '<=', bound: 0, unit: 'calls', note: 'calls in progress carry on' });
    // A stream started while the database is stalled must still hear its greeting (its flow read times
    // out and falls back to the cache). Half of the probes is the floor: a loaded machine can push one
    // past the 3 s window, while a start path that waits for the database fails them all. The healthy
    // probes guard the harness itself (a probe that cannot start a call would pass nothing).
    checks.push({ name: `stall ${s.database}: healthy-window probes that heard the greeting`, value: s.healthy.firstAudioOk, op: '>=', bound: Math.ceil(s.stalled.firstAudioTried / 2), unit: 'calls', note: 'the probe harness starts calls' });
    checks.push({ name: `stall ${s.database}: streams started in the stall that heard the greeting`, value: s.stalled.firstAudioOk, op: '>=', bound: Math.ceil(s.stalled.firstAudioTried / 2), unit: 'calls', note: 'stream start must not wait for the database' });
  }
  notes.push('lag = /v1/metrics eventLoopDelayMs − its 5 ms tick; "idle process" = an idle child over the same window (the machine\'s share).');
  return {
    id: 'persistence',
    title: '8. Persistence under load (batched EventLog; stalled database vs audio)',
    header: ['figure', 'value', 'detail'],
    rows,
    figures: { throughput, stalls },
    checks,
    notes: [
      ...notes,
      ...stalls.flatMap((s) =>
        s.stalled.firstAudioOk < s.stalled.firstAudioTried
          ? [`TARGET MISSED (${s.database}): ${s.stalled.firstAudioTried - s.stalled.firstAudioOk} of ${s.stalled.firstAudioTried} streams started during the stall heard no greeting within 3 s — something on the path from stream start to the greeting waits for the database.`]
          : [],
      ),
    ],
  };
}

if (import.meta.main) {
  const short = process.argv.includes('--short');
  let gw: BenchGateway | undefined;
  const r = await runPersistenceBench({ short, gateway: async () => (gw ??= await startGateway()), progress: (l) => process.stderr.write(`${l}\n`) }).finally(() => gw?.stop());
  process.stdout.write(`${JSON.stringify(r.figures, null, 2)}\n`);
}
