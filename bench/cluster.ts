// Section 9, every core: the gateway as an operator runs it (`src/main.ts`, WORKERS worker processes
// sharing the port, PostgreSQL) with N real-time calls arriving at 20 per second, each greeted and then
// listening — once inbound (VAD; carrier DTMF) and once outbound (AMD, beep and fax on every call from
// answer). Per worker and in total, from the Prometheus /metrics that any worker answers: event-loop
// delay p99 over the steady window (prom-client's monitor, its 10 ms tick subtracted), CPU and memory
// per call; first audio after `start` as the callers heard it. Needs PostgreSQL (BENCH_DATABASE_URL or
// TEST_DATABASE_URL): embedded PGlite is single-process. `node bench/cluster.ts [--short] [--n 50,200]`;
// `--embedded` runs it as a newcomer's `npm start` does instead: one process on embedded PGlite.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, getPriority, loadavg, setPriority, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BENCH_FLOW, BENCH_FLOW_ID, BENCH_LIMITS } from './lib/gateway.ts';
import { LoadGenerators, type MergedLoad } from './lib/loadgen.ts';
import { benchDatabaseUrl, createScratchDatabase } from './lib/scratchDb.ts';
import { sleep, waitUntil, type SectionContext, type SectionResult } from './lib/section.ts';
import { percentile, round, summarize } from './lib/stats.ts';
import { freePort } from '../scripts/freePort.ts';

const ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), '..');
/** prom-client's default event-loop monitor resolution (collectDefaultMetrics). */
const PROM_TICK_MS = 10;

type Series = Map<string, number>; // `${name}|${worker}` → value ('' = total)

export async function scrape(url: string): Promise<Series> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const out: Series = new Map();
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})? ([0-9.e+-]+|NaN)$/i.exec(line);
    if (!m) continue;
    const labels = m[2] ?? '';
    const worker = /worker="(\d+)"/.exec(labels)?.[1] ?? '';
    const rest = labels.replace(/,?worker="\d+"/, '').replace(/^,/, '');
    // Labelled series other than per worker are left out, except the young generation's GC time.
    if (rest === 'kind="minor"' && m[1] === 'nodejs_gc_duration_seconds_sum') out.set(`nodejs_gc_minor_seconds|${worker}`, Number(m[3]));
    if (rest !== '') continue;
    out.set(`${m[1]}|${worker}`, Number(m[3]));
  }
  return out;
}

/** The workers' ids in a scrape; [''] (the process's own series) for a single-process gateway (WORKERS=1). */
const workersIn = (s: Series): string[] => {
  const ids = [...new Set([...s.keys()].map((k) => k.split('|')[1] ?? '').filter((w) => w !== ''))].sort();
  return ids.length > 0 ? ids : s.has('process_cpu_seconds_total|') ? [''] : [];
};
const get = (s: Series, name: string, worker = ''): number => s.get(`${name}|${worker}`) ?? Number.NaN;

export interface ClusterLevel {
  n: number;
  direction: 'inbound' | 'outbound';
  workers: number;
  ok: number;
  failed: number;
  failures: string[];
  activeInWindow: number;
  /** Worst worker's event-loop delay p99 over the window (ms, tick subtracted). */
  lagP99Ms: number;
  lagP99ByWorker: number[];
  cpuCoreTotal: number;
  cpuPctCorePerCall: number;
  /** Young-generation GC pauses (main thread, wall time) over the window, as a share of the CPU used. */
  gcMinorShare: number;
  heapMbPerCall: number;
  rssMbPerCall: number;
  rssMbByWorker: number[];
  /** Each worker's RSS at idle (after the warm-up calls): the base a call's memory comes on top of. */
  baseRssMbByWorker: number[];
  firstAudioMs: { p50: number; p90: number; p99: number; max: number };
  /** The load generators' CPU (cores) over the whole level: what the callers took from the shared machine. */
  generatorCpuCore: number;
  /** 1-minute load average of the machine when the window closed (other helpers' work included). */
  loadAvg: number;
}

export async function runLevel(url: string, gens: LoadGenerators, n: number, direction: 'inbound' | 'outbound', steadyMs: number, idle: Series): Promise<ClusterLevel> {
  const rampMs = Math.max(1000, n * 50); // 20 calls per second
  const settleMs = 2500;
  const audioMs = rampMs + settleMs + steadyMs + 1000;
  const load = gens.run({ wsUrl: url.replace(/^http/, 'ws'), calls: n, audioMs, holdMs: 500, speed: 1, rampMs, timeoutMs: audioMs + rampMs + 60_000, direction });
  let failedEarly: Error | undefined;
  load.catch((err: unknown) => (failedEarly = err instanceof Error ? err : new Error(String(err))));
  await sleep(rampMs + settleMs);
  const w0 = await scrape(url); // also resets each worker's event-loop histogram
  const t0 = performance.now();
  const hr0 = process.hrtime.bigint() / 1000n;
  if (process.env.BENCH_GATEWAY_NODE_ARGS) process.stderr.write(`N=${n} ${direction} steady window opens at ${new Date().toISOString()}\n`);
  await sleep(steadyMs);
  const w1 = await scrape(url);
  const windowMs = performance.now() - t0;
  // The steady window on the monotonic clock V8 stamps profile samples with, to read a worker's
  // profile without its start-up and call set-up: `node bench/lib/profileWindow.ts f --from … --to …`.
  if (process.env.BENCH_PROFILE_DIR) process.stderr.write(`N=${n} ${direction} steady window: --from ${hr0} --to ${process.hrtime.bigint() / 1000n}\n`);
  if (failedEarly !== undefined) throw failedEarly;
  const result = await load;
  await waitUntil(async () => get(await scrape(url), 'gateway_active_calls') === 0, 15_000, 250);
  const workers = workersIn(w1);
  const active = Math.max(1, Math.min(get(w0, 'gateway_active_calls'), get(w1, 'gateway_active_calls')));
  const cpu = (get(w1, 'process_cpu_seconds_total') - get(w0, 'process_cpu_seconds_total')) / (windowMs / 1000);
  const lag = workers.map((w) => round(Math.max(0, get(w1, 'nodejs_eventloop_lag_p99_seconds', w) * 1000 - PROM_TICK_MS), 1));
  const ok = result.outcomes.filter((o) => o.ok);
  const firstAudio = ok.flatMap((o) => (o.firstAudioWallMs === null ? [] : [o.firstAudioWallMs]));
  const fa = summarize(firstAudio);
  const genWallMs = Math.max(1, ...result.generators.map((g) => g.wallMs));
  return {
    n,
    direction,
    workers: workers.length,
    ok: ok.length,
    failed: result.outcomes.length - ok.length,
    failures: [...new Set(result.outcomes.filter((o) => !o.ok).map((o) => o.error ?? o.endReason))].slice(0, 3),
    activeInWindow: active,
    lagP99Ms: Math.max(...lag),
    lagP99ByWorker: lag,
    cpuCoreTotal: round(cpu, 3),
    cpuPctCorePerCall: round((cpu / active) * 100, 4),
    gcMinorShare: round((get(w1, 'nodejs_gc_minor_seconds') - get(w0, 'nodejs_gc_minor_seconds')) / (windowMs / 1000) / cpu, 3),
    heapMbPerCall: round(Math.max(0, get(w1, 'nodejs_heap_size_used_bytes') - get(idle, 'nodejs_heap_size_used_bytes')) / 1048576 / active, 3),
    rssMbPerCall: round(Math.max(0, get(w1, 'process_resident_memory_bytes') - get(idle, 'process_resident_memory_bytes')) / 1048576 / active, 3),
    rssMbByWorker: workers.map((w) => round(get(w1, 'process_resident_memory_bytes', w) / 1048576, 0)),
    baseRssMbByWorker: workersIn(idle).map((w) => round(get(idle, 'process_resident_memory_bytes', w) / 1048576, 0)),
    firstAudioMs: { p50: round(fa.p50, 1), p90: round(firstAudio.length ? percentile(firstAudio, 90) : Number.NaN, 1), p99: round(fa.p99, 1), max: round(fa.max, 1) },
    generatorCpuCore: round(result.generators.reduce((s, g) => s + g.cpuMs, 0) / genWallMs, 3),
    loadAvg: round(loadavg()[0] ?? Number.NaN, 1),
  };
}

export interface Gateway {
  url: string;
  logPath: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * `root`: the source tree to run (another checkout, for a paired before/after run); `nodeArgs`: node
 * options for the primary and its workers (cluster.fork passes the primary's execArgv on; V8 flags such
 * as --min-semi-space-size are refused in NODE_OPTIONS).
 */
export async function startClusterGateway(databaseUrl: string, workers: number, opts: { root?: string; nodeArgs?: string[] } = {}): Promise<Gateway> {
  const root = opts.root ?? ROOT;
  const dataDir = await mkdtemp(path.join(tmpdir(), 'gw-bench-cluster-'));
  const flowsDir = path.join(dataDir, 'flows');
  await mkdir(flowsDir);
  await writeFile(path.join(flowsDir, `${BENCH_FLOW_ID}.json`), JSON.stringify(BENCH_FLOW));
  // Below the ephemeral range: a port from it can be the local end of the pool's or the load
  // generators' connections, and the primary's bind then fails with EADDRINUSE (it did, once).
  const port = await freePort();
  const logPath = path.join(tmpdir(), `gw-bench-cluster-${port}.log`);
  const logFile = await open(logPath, 'w');
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), path.join(root, 'src/main.ts')], {
    cwd: root,
    env: {
      ...process.env,
      WORKERS: String(workers),
      HOST: '127.0.0.1',
      PORT: String(port),
      PUBLIC_URL: `http://127.0.0.1:${port}`,
      DATA_DIR: dataDir,
      DATABASE_URL: databaseUrl,
      FLOWS_DIR: flowsDir,
      DEFAULT_FLOW_ID: BENCH_FLOW_ID,
      LOG_LEVEL: 'warn',
      ...BENCH_LIMITS,
      TWILIO_ACCOUNT_SID: '',
      TWILIO_AUTH_TOKEN: '',
      SIGNALWIRE_PROJECT_ID: '',
      SIGNALWIRE_API_TOKEN: '',
      API_KEY: '',
      // BENCH_PROFILE_DIR: a CPU profile per process (primary and each worker) written there on exit.
      ...(process.env.BENCH_PROFILE_DIR ? { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --cpu-prof --cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`.trim() } : {}),
    },
    // Its log (warnings and errors: why a call was refused or failed) goes to a file named in the notes.
    stdio: ['ignore', logFile.fd, 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const up = await waitUntil(
    async () => {
      try {
        return workersIn(await scrape(url)).length === workers;
      } catch {
        return false;
      }
    },
    90_000,
    250,
  );
  const stop = async (): Promise<void> => {
    if (child.exitCode === null) child.kill('SIGTERM');
    const t = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(t);
    await logFile.close();
    await rm(dataDir, { recursive: true, force: true });
  };
  if (!up) {
    await stop();
    throw new Error(`the gateway did not start ${workers} workers`);
  }
  return { url, logPath, child, stop };
}

export async function runClusterBench(ctx: Pick<SectionContext, 'short' | 'progress'>, opts: { levels?: number[]; workers?: number; directions?: Array<'inbound' | 'outbound'>; embedded?: boolean } = {}): Promise<SectionResult> {
  // `embedded`: what a newcomer's `npm start` runs — no DATABASE_URL, so embedded PGlite in one process.
  const title = opts.embedded === true
    ? '10. One process on embedded PGlite (src/main.ts as `npm start` runs it, calls at 20/s, greeting then listening)'
    : '10. Every core (src/main.ts with WORKERS, PostgreSQL, calls at 20/s, greeting then listening)';
  const base = opts.embedded === true ? '' : benchDatabaseUrl();
  if (base === undefined) {
    return { id: 'cluster', title, header: ['note'], rows: [['needs PostgreSQL: set BENCH_DATABASE_URL (embedded PGlite runs one process)']], figures: {}, checks: [], notes: [] };
  }
  const workers = opts.embedded === true ? 1 : (opts.workers ?? availableParallelism());
  // BENCH_NICE (e.g. -10, as root): the gateway, its workers and the load generators inherit this
  // priority, so that on a machine others share the run measures the gateway rather than the queue for
  // the cores. Off by default; the table's load average says what else ran.
  const nice = process.env.BENCH_NICE;
  if (nice !== undefined && nice !== '') setPriority(0, Number(nice));
  const levels = opts.levels ?? (ctx.short ? [50, 200] : [50, 200, 400, 600]);
  const steadyMs = ctx.short ? 6000 : 15_000;
  const db = base === '' ? { url: '', drop: async (): Promise<void> => {} } : await createScratchDatabase(base);
  // BENCH_GATEWAY_NODE_ARGS: node options for the gateway (primary and workers), e.g. `--trace-gc` (its
  // lines go to the gateway's log file, named in the notes).
  const nodeArgs = (process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const gw = await startClusterGateway(db.url, workers, { nodeArgs }).catch(async (err: unknown) => {
    await db.drop();
    throw err;
  });
  const gens = await LoadGenerators.start(2);
  const out: ClusterLevel[] = [];
  try {
    const warm: MergedLoad = await gens.run({ wsUrl: gw.url.replace(/^http/, 'ws'), calls: 4, audioMs: 4000, holdMs: 500, speed: 1, rampMs: 200, timeoutMs: 60_000, direction: 'inbound' });
    const bad = warm.outcomes.find((o) => !o.ok);
    if (bad) throw new Error(`warm-up call failed: ${bad.error ?? bad.endReason}`);
    await sleep(1000);
    const idle = await scrape(gw.url);
    for (const direction of opts.directions ?? (['inbound', 'outbound'] as const)) {
      for (const n of direction === 'inbound' || !ctx.short ? levels : [Math.max(...levels)]) {
        ctx.progress(`cluster: ${workers} workers, N=${n} ${direction}`);
        out.push(await runLevel(gw.url, gens, n, direction, steadyMs, idle));
      }
    }
  } finally {
    await gens.stop();
    await gw.stop();
    await db.drop();
  }
  const at200 = out.find((l) => l.n === 200 && l.direction === 'inbound');
  const at50 = out.find((l) => l.n === 50 && l.direction === 'inbound');
  return {
    id: 'cluster',
    title,
    header: ['N', 'calls', 'workers', 'ok', 'dropped', 'lag p99 (worst worker)', 'lag p99 per worker', 'CPU core', 'CPU %core/call', 'heap MB/call', 'RSS MB/call', 'RSS MB per worker (idle base)', '1st audio p50', '1st audio p90', '1st audio p99', 'gen CPU core', 'load avg'],
    rows: out.map((l) => [
      l.n,
      l.direction === 'inbound' ? 'inbound: VAD+DTMF' : 'outbound: +AMD/beep/fax first s',
      l.workers,
      l.ok,
      l.failed,
      l.lagP99Ms,
      l.lagP99ByWorker.join(' / '),
      l.cpuCoreTotal,
      l.cpuPctCorePerCall,
      l.heapMbPerCall,
      l.rssMbPerCall,
      `${l.rssMbByWorker.join(' / ')} (${l.baseRssMbByWorker.join(' / ')})`,
      l.firstAudioMs.p50,
      l.firstAudioMs.p90,
      l.firstAudioMs.p99,
      l.generatorCpuCore,
      l.loadAvg,
    ]),
    figures: { workers, levels: out },
    checks: [
      ...(at200
        ? [
            { name: 'cluster N=200: calls dropped', value: at200.failed / at200.n, op: '<=' as const, bound: 0.01, unit: 'share', note: 'every call should complete' },
          ]
        : []),
      // Ratios only (a noisy shared machine breaks absolute figures; lag is not checked for that reason).
      // Cost grows linearly: a call's CPU at 200 calls is not dearer than at 50 (a ratio within one run,
      // so a slow machine does not break it; something per call that scans all calls would).
      ...(at200 && at50
        ? [{ name: 'cluster: CPU per call at N=200 ÷ at N=50', value: round(at200.cpuPctCorePerCall / Math.max(1e-9, at50.cpuPctCorePerCall), 2), op: '<=' as const, bound: 1.5, unit: 'ratio', note: 'linear cost: ≈1 or below' }]
        : []),
    ],
    notes: [
      `lag = prom-client nodejs_eventloop_lag_p99_seconds per worker over the steady window, minus its ${PROM_TICK_MS} ms tick; the target is ≤ 20 ms in every worker.`,
      'CPU and memory per call: all workers together over the window ÷ calls live in it; memory is the growth over the idle gateway.',
      '1st audio: wall time from the stream start to the first greeting audio the caller received.',
      'dropped: calls whose webhook, websocket or stream did not complete (the gateway closed it, or a set-up step timed out).',
      'gen CPU core: the two load-generator processes (batched carrier, bench/lib/batchedCarrier.ts) on the same 2 cores; load avg: the machine\'s 1-minute load when the window closed (other work included).',
      `process priority (nice) of the gateway and generators: ${getPriority(0)}${getPriority(0) !== 0 ? ' (BENCH_NICE)' : ''}.`,
      ...out.flatMap((l) => (l.failures.length ? [`N=${l.n} ${l.direction} failures: ${l.failures.join(' | ')} (gateway log: ${gw.logPath})`] : [])),
      ...(nodeArgs.length > 0 ? [`gateway node options: ${nodeArgs.join(' ')} (gateway log: ${gw.logPath})`] : []),
    ],
  };
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { short: { type: 'boolean' }, n: { type: 'string' }, workers: { type: 'string' }, directions: { type: 'string' }, embedded: { type: 'boolean' } } });
  const r = await runClusterBench(
    { short: values.short ?? false, progress: (l) => process.stderr.write(`${l}\n`) },
    { ...(values.n ? { levels: values.n.split(',').map(Number) } : {}), ...(values.workers ? { workers: Number(values.workers) } : {}), ...(values.directions ? { directions: values.directions.split(',') as Array<'inbound' | 'outbound'> } : {}), embedded: values.embedded ?? false },
  );
  const cols = r.header;
  process.stdout.write(`${r.title}\n${cols.join(' | ')}\n${r.rows.map((row) => row.join(' | ')).join('\n')}\n${r.notes.join('\n')}\n`);
}
