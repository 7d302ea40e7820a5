// The gateway as the benchmark runs it: a child process composed exactly like src/main.ts
// (loadConfig → composeGateway → buildApp → listen), on a port the OS picks, plus three bench-only
// hooks reachable over IPC: process CPU and media counters (`stats`), a switch that stalls every
// database query (`stall`, for PGlite, whose engine lives on a worker thread inside this process), and
// "AMD on": when the call program attaches no frame consumer of its own at stream start, the full
// detector chain (AMD in message-end mode, VAD, beep, fax) is attached to the call, as an outbound
// call's detectors would be.
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { buildApp, LOG_REDACT, type CallStarter } from '../../src/app.ts';
import type { CallSession } from '../../src/call/CallSession.ts';
import { loadConfig } from '../../src/config.ts';
import { composeGateway } from '../../src/composition.ts';
import { serveParent } from './children.ts';
import { eventLogThroughput } from './eventLogThroughput.ts';
import { observeGc } from './gcStats.ts';
import { threadCpuUs } from './threadCpu.ts';

const gcStats = observeGc();

type Attach = (call: CallSession) => () => void;

/** The detector chain of src/call/detectors.ts (when that module is present) and its outbound defaults. */
async function loadDetectors(): Promise<{ attach: Attach; outboundDefaults: unknown } | undefined> {
  try {
    const mod = await import('../../src/call/detectors.ts');
    return {
      attach: (call) => mod.attachDetectors(call, { amd: { mode: 'message-end' }, vad: true, beep: true, fax: true, dtmfInband: false }),
      outboundDefaults: mod.defaultDetectorOptions('outbound'),
    };
  } catch (err) {
    process.stderr.write(`detectors not available: ${(err as Error).message}\n`);
    return undefined;
  }
}

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const log = pino({ level: config.logLevel, redact: LOG_REDACT }, pino.destination(2));
  const runtime = await composeGateway(config, log);
  const mode = process.env.BENCH_DETECTORS ?? 'auto';
  const detectors = mode === 'off' ? undefined : await loadDetectors();
  const attach = detectors?.attach;

  const counts = { calls: 0, endedMediaMessages: 0, endedFrames: 0, benchAttached: 0, programAttached: 0, programAttachedLate: 0 };
  const real = runtime.appDeps.program;
  const program: CallStarter = {
    start(session, claims) {
      counts.calls++;
      let added = 0;
      const add = session.addFrameConsumer.bind(session);
      session.addFrameConsumer = (consumer) => {
        added++;
        return add(consumer);
      };
      real.start(session, claims);
      const byProgram = added > 0;
      if (byProgram) counts.programAttached++;
      else if (attach) {
        attach(session);
        counts.benchAttached++;
      }
      session.signal.addEventListener(
        'abort',
        () => {
          counts.endedMediaMessages += session.stats.mediaMessages;
          counts.endedFrames += session.stats.framesProcessed;
          // A program that attaches its detectors later (after resolving a flow) now runs two chains.
          if (!byProgram && added > (attach ? 1 : 0)) counts.programAttachedLate++;
        },
        { once: true },
      );
    },
    resolveFlowId: (to) => real.resolveFlowId(to),
  };

  // Stall: every query waits until released, as when the database stops answering. The same wrapper
  // times every query (by its first words), so a run can say where call set-up waits.
  const pool = runtime.appDeps.db.pool;
  let stalled = false;
  let waiters: Array<() => void> = [];
  const queryTimes = new Map<string, { count: number; totalMs: number; maxMs: number }>();
  const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  const timed = (label: string, result: unknown, t0: number): unknown => {
    if (!(result instanceof Promise)) return result;
    const done = (): void => {
      const ms = performance.now() - t0;
      const q = queryTimes.get(label) ?? { count: 0, totalMs: 0, maxMs: 0 };
      q.count++;
      q.totalMs += ms;
      if (ms > q.maxMs) q.maxMs = ms;
      queryTimes.set(label, q);
    };
    result.then(done, done);
    return result;
  };
  (pool as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    const first = args[0];
    const text = typeof first === 'string' ? first : typeof (first as { text?: unknown } | null)?.text === 'string' ? (first as { text: string }).text : '?';
    const label = text.replace(/\s+/g, ' ').trim().slice(0, 48);
    const t0 = performance.now();
    if (!stalled) return timed(label, query(...args), t0);
    return timed(label, new Promise<void>((resolve) => waiters.push(resolve)).then(() => query(...args)), t0);
  };
  // Statements of transactions (a client checked out with `pool.connect()`, as the analytics rollup's
  // refresh does) are counted too, labelled `tx:`: they are database work inside the measured window
  // as much as the pool's. (pool.query checks clients out with a callback and is counted above.)
  const connect = pool.connect.bind(pool) as (...args: unknown[]) => unknown;
  (pool as unknown as { connect: (...args: unknown[]) => unknown }).connect = (...args: unknown[]) => {
    if (args.length > 0) return connect(...args);
    return (connect() as Promise<{ query: (...a: unknown[]) => unknown; release: (...a: unknown[]) => unknown }>).then((client) => {
      const clientQuery = client.query;
      const release = client.release;
      client.query = (...a: unknown[]) => {
        const first = a[0];
        const text = typeof first === 'string' ? first : typeof (first as { text?: unknown } | null)?.text === 'string' ? (first as { text: string }).text : '?';
        return timed(`tx: ${text.replace(/\s+/g, ' ').trim().slice(0, 44)}`, clientQuery.apply(client, a), performance.now());
      };
      client.release = (...a: unknown[]) => {
        client.query = clientQuery;
        client.release = release;
        return release.apply(client, a);
      };
      return client;
    });
  };

  const app = await buildApp({ ...runtime.appDeps, program, logger: log });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;

  /** Media messages received so far, ended calls' and live ones'. */
  const mediaMessages = (): number => {
    let live = 0;
    for (const s of app.gateway.registry.all()) live += s.stats.mediaMessages;
    return counts.endedMediaMessages + live;
  };

  serveParent(
    {
      // What a bench polls while it waits for its messages to arrive: the count alone. (The full
      // `stats` reads every thread's CPU from /proc and asks PGlite's thread for its own, 0.4 ms of this
      // process's CPU each time, against the floor's 0.2 ms, which a measured pass would count.)
      media: () => ({ mediaMessages: mediaMessages() }),
      stats: async () => {
        const engineCpuUs = await runtime.appDeps.db.engineCpuUs();
        const thread = process.threadCpuUsage();
        let liveFrames = 0;
        for (const s of app.gateway.registry.all()) liveFrames += s.stats.framesProcessed;
        const cpu = process.cpuUsage();
        const mem = process.memoryUsage();
        return {
          cpuUs: cpu.user + cpu.system,
          mainThreadCpuUs: thread.user + thread.system,
          engineCpuUs: engineCpuUs ?? null,
          threads: threadCpuUs(),
          gc: structuredClone(gcStats),
          wallMs: performance.now(),
          rssMb: mem.rss / 1048576,
          heapMb: mem.heapUsed / 1048576,
          activeCalls: app.gateway.registry.size,
          mediaMessages: mediaMessages(),
          frames: counts.endedFrames + liveFrames,
          events: runtime.appDeps.eventLog.stats(),
          queries: [...queryTimes].map(([sql, q]) => ({ sql, count: q.count, meanMs: Math.round((q.totalMs / q.count) * 10) / 10, maxMs: Math.round(q.maxMs) })),
          detectors: { mode: attach ? mode : 'not available', outboundDefaults: detectors?.outboundDefaults, ...counts },
        };
      },
      resetQueries: () => {
        queryTimes.clear();
        return {};
      },
      throughput: async (m) => ({ figure: await eventLogThroughput(pool, runtime.appDeps.db.kind, Number(m.events)) }),
      stall: (m) => {
        stalled = m.on === true;
        if (!stalled) {
          const release = waiters;
          waiters = [];
          for (const r of release) r();
        }
        return { stalled };
      },
    },
    async () => {
      stalled = false;
      for (const r of waiters) r();
      await app.gateway.drain();
      await app.close();
      await runtime.close();
    },
  );
  process.send?.({ type: 'ready', port, apiKey: runtime.appDeps.apiKey, database: runtime.appDeps.db.kind });
}

main().catch((err: unknown) => {
  process.stderr.write(`bench gateway failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
