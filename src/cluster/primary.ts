// The primary of a multi-worker gateway (WORKERS > 1): it serves no calls itself. It creates the
// shared secrets once (the REST API key and the stream-token HMAC secret, in the data folder) before
// any worker starts, so workers read the same values instead of racing to create them; forks the
// workers, which share the listening port through node's cluster module (connections are handed out
// round-robin); replaces a worker that dies; merges the workers' metrics for whichever worker is
// scraped; and on SIGTERM/SIGINT asks every worker to drain and waits for them all.
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import { loadOrCreateSecret } from '../secrets.ts';
import { serveClusterMetrics } from './metrics.ts';

/** A worker that dies sooner than this after its start is restarted only after RESTART_BACKOFF_MS. */
const MIN_UPTIME_MS = 5000;
const RESTART_BACKOFF_MS = 2000;
/** Time beyond the drain timeout a worker gets to flush and exit before it is killed. */
const EXIT_GRACE_MS = 15_000;

export async function runPrimary(config: Config, log: Logger): Promise<void> {
  if (config.apiKey === undefined) {
    const stored = await loadOrCreateSecret(config.dataDir, 'api-key', 24);
    if (stored.created) log.info({ apiKeyFile: stored.path }, 'created a REST API key (set API_KEY to choose your own)');
  }
  if (config.streamTokenSecret === undefined) await loadOrCreateSecret(config.dataDir, 'stream-token-secret');
  serveClusterMetrics();

  let stopping = false;
  const started = new Map<number, number>();
  const fork = (): void => {
    const w = cluster.fork();
    started.set(w.id, Date.now());
  };
  cluster.on('exit', (worker: Worker, code: number | null, signal: string | null) => {
    const uptime = Date.now() - (started.get(worker.id) ?? 0);
    started.delete(worker.id);
    if (stopping) return;
    log.error({ worker: worker.id, pid: worker.process.pid, code, signal, uptimeMs: uptime }, 'worker died; starting a replacement');
    if (uptime < MIN_UPTIME_MS) setTimeout(fork, RESTART_BACKOFF_MS).unref();
    else fork();
  });
  for (let i = 0; i < config.workers; i++) fork();
  log.info({ workers: config.workers, pid: process.pid }, 'primary started the workers');

  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    const workers = Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined);
    log.info({ signal, workers: workers.length }, 'draining every worker');
    // Each worker drains its own calls (SIGTERM runs its shutdown); the primary exits when all have.
    for (const w of workers) w.process.kill('SIGTERM');
    const killer = setTimeout(() => {
      for (const w of Object.values(cluster.workers ?? {})) {
        if (w === undefined) continue;
        log.error({ worker: w.id }, 'worker did not exit after draining; killing it');
        w.process.kill('SIGKILL');
      }
    }, config.drainTimeoutMs + EXIT_GRACE_MS);
    killer.unref();
    const done = (): void => {
      if (Object.keys(cluster.workers ?? {}).length > 0) return;
      clearTimeout(killer);
      log.info('stopped');
      process.exit(0);
    };
    cluster.on('exit', done);
    done();
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}
