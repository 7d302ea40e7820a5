// Starts the gateway in a child process for a benchmark section and reads its figures: /v1/metrics
// (event-loop delay, CPU, memory; what an operator sees) and the child's own counters over IPC.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { missingTuning } from '../../src/processTuning.ts';
import { BenchChild } from './children.ts';
import type { ThroughputFigure } from './eventLogThroughput.ts';
import type { GcStats } from './gcStats.ts';
import type { ThreadCpu } from './threadCpu.ts';

const CHILD = fileURLToPath(new URL('./gatewayChild.ts', import.meta.url));

/**
 * The flow every benchmark call runs: a short static greeting (synthesized once and cached at start,
 * as the runtime does for shipped flows' static prompts), then listening for a key until the caller
 * hangs up — so calls stay up for as long as the replay plays, with their detectors running.
 */
export const BENCH_FLOW_ID = 'bench-greet-listen';
export const BENCH_FLOW = {
  id: BENCH_FLOW_ID,
  name: 'Benchmark: greet, then listen',
  start: 'greet',
  nodes: {
    greet: { type: 'say', text: 'Hello, and thank you for calling.', next: 'listen' },
    listen: { type: 'gather', input: ['dtmf'], maxDigits: 1, noInputTimeoutMs: 60_000, retries: 10, next: 'bye', noInput: 'bye', noMatch: 'bye' },
    bye: { type: 'hangup', reason: 'bench_done' },
  },
};

export interface GatewayMetrics {
  activeCalls: number;
  eventLoopDelayMs: { p50: number; p99: number; max: number; samples: number };
  cpuMs: { user: number; system: number };
  memoryMb: { rss: number; heapUsed: number };
  events: { buffered: number; written: number; dropped: number; failedWrites: number };
}

export interface GatewayStats {
  /** The whole process (every thread). */
  cpuUs: number;
  /** The main thread alone (event loop: sockets, calls, flows, node-postgres). */
  mainThreadCpuUs: number;
  /** The embedded database's thread (PGlite); null on PostgreSQL, whose CPU is another process's. */
  engineCpuUs: number | null;
  /** CPU µs by thread name (bench/lib/threadCpu.ts). */
  threads: ThreadCpu;
  /** GC pauses by kind since the child started (bench/lib/gcStats.ts). */
  gc: GcStats;
  wallMs: number;
  rssMb: number;
  heapMb: number;
  activeCalls: number;
  mediaMessages: number;
  frames: number;
  events: { buffered: number; written: number; dropped: number; failedWrites: number; rejected: number };
  /** Every database query of the gateway since the last resetQueries(), by its first words. */
  queries: Array<{ sql: string; count: number; meanMs: number; maxMs: number }>;
  detectors: { mode: string; outboundDefaults?: unknown; calls: number; benchAttached: number; programAttached: number; programAttachedLate: number };
}

export interface GatewayOptions {
  /** postgres://… or undefined for embedded PGlite in a fresh data folder. */
  databaseUrl?: string;
  /** 'auto' (default): the full detector chain on every call unless the call program attaches its own. */
  detectors?: 'auto' | 'off';
  env?: Record<string, string>;
  /** Another checkout to run the gateway from (its bench/lib/gatewayChild.ts and src/), for paired A/B runs. */
  root?: string;
  /** Node options for this gateway child alone (after BENCH_GATEWAY_NODE_ARGS): one side of a paired A/B run. */
  nodeArgs?: string[];
}

export interface BenchGateway {
  /** ws://127.0.0.1:PORT, what the replay client takes. */
  wsUrl: string;
  httpUrl: string;
  apiKey: string;
  pid: number;
  database: string;
  metrics(reset?: boolean): Promise<GatewayMetrics>;
  stats(): Promise<GatewayStats>;
  /** Media messages received so far: cheap, for polling during a measurement (stats() costs the child 0.4 ms of CPU). */
  mediaMessages(): Promise<number>;
  resetQueries(): Promise<void>;
  /** EventLog throughput measured inside the gateway child, on its own open database. */
  eventLogThroughput(events: number): Promise<ThroughputFigure>;
  /** Stall (or release) every database query inside the gateway. */
  stall(on: boolean): Promise<void>;
  /** The last few kB the gateway wrote to stderr (its log at BENCH_LOG_LEVEL, default warn). */
  logTail(): string;
  stop(): Promise<void>;
}

/**
 * Capacity and rate limits raised so that a benchmark measures the process, not the limits. Every
 * benchmark call comes from 127.0.0.1: the per-address bound on streams not yet started would refuse
 * them (503) whenever set-up lags, as it should for real carriers' few addresses at that rate.
 */
export const BENCH_LIMITS = {
  MAX_CONCURRENT_CALLS: '100000',
  WEBHOOK_RATE_LIMIT_PER_MINUTE: '1000000',
  API_RATE_LIMIT_PER_MINUTE: '1000000',
  MAX_PENDING_STREAMS: '100000',
  MAX_PENDING_STREAMS_PER_ADDRESS: '100000',
  DRAIN_TIMEOUT_MS: '1000',
} as const;

export async function startGateway(opts: GatewayOptions = {}): Promise<BenchGateway> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'gw-bench-'));
  const flowsDir = path.join(dataDir, 'flows');
  await mkdir(flowsDir);
  await writeFile(path.join(flowsDir, `${BENCH_FLOW_ID}.json`), JSON.stringify(BENCH_FLOW, null, 2));
  const env: Record<string, string | undefined> = {
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    DATABASE_URL: opts.databaseUrl ?? '',
    ...BENCH_LIMITS,
    FLOWS_DIR: flowsDir,
    DEFAULT_FLOW_ID: BENCH_FLOW_ID,
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    BENCH_DETECTORS: opts.detectors ?? 'auto',
    // Carrier credentials would switch signature checks on; the replay client sends none.
    TWILIO_ACCOUNT_SID: undefined,
    TWILIO_AUTH_TOKEN: undefined,
    SIGNALWIRE_PROJECT_ID: undefined,
    SIGNALWIRE_API_TOKEN: undefined,
    API_KEY: undefined,
    ...opts.env,
  };
  // BENCH_GATEWAY_NODE_ARGS: node options for the gateway child alone (`--cpu-prof`, `--perf-basic-prof`,
  // V8 flags), to profile it or try a flag without touching the floor's process. Besides them, the
  // child runs as src/main.ts runs itself (src/processTuning.ts): its V8 flags and malloc's variable.
  const nodeArgs = [...(process.env.BENCH_GATEWAY_NODE_ARGS ?? '').split(' ').filter((a) => a !== ''), ...(opts.nodeArgs ?? [])];
  const tuning = missingTuning({ ...process.env, ...env }, [...process.execArgv, ...nodeArgs]);
  const child = BenchChild.start('gateway', opts.root === undefined ? CHILD : path.join(opts.root, 'bench/lib/gatewayChild.ts'), { ...env, ...tuning.env }, [], [...tuning.execArgv, ...nodeArgs]);
  let ready;
  try {
    ready = await child.waitFor('ready', 120_000);
  } catch (err) {
    await child.stop(1000);
    await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  const port = ready.port as number;
  const apiKey = ready.apiKey as string;
  const httpUrl = `http://127.0.0.1:${port}`;
  return {
    wsUrl: `ws://127.0.0.1:${port}`,
    httpUrl,
    apiKey,
    pid: child.pid,
    database: String(ready.database),
    async metrics(reset = false) {
      const res = await fetch(`${httpUrl}/v1/metrics${reset ? '?reset=true' : ''}`, {
        headers: { authorization: `Bearer ${apiKey}` },
        signal: AbortSignal.timeout(10_000),
      });
      if (!res.ok) throw new Error(`GET /v1/metrics answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
      return (await res.json()) as GatewayMetrics;
    },
    async stats() {
      return (await child.request({ type: 'stats' }, 10_000)) as unknown as GatewayStats;
    },
    async mediaMessages() {
      // A child from another checkout (bench/mediaAb.ts --b-root) may not answer `media` yet.
      const reply = await child.request({ type: 'media' }, 10_000).catch(() => undefined);
      if (typeof reply?.mediaMessages === 'number') return reply.mediaMessages;
      return ((await child.request({ type: 'stats' }, 10_000)) as unknown as GatewayStats).mediaMessages;
    },
    async resetQueries() {
      await child.request({ type: 'resetQueries' }, 10_000);
    },
    async eventLogThroughput(events) {
      return (await child.request({ type: 'throughput', events }, 180_000)).figure as ThroughputFigure;
    },
    async stall(on) {
      await child.request({ type: 'stall', on }, 10_000);
    },
    logTail: () => child.stderrTail,
    async stop() {
      await child.stop(10_000);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
