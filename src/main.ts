// Process entry: configuration, database, secrets, the app, listen, and an orderly shutdown.
import './processTuningEntry.ts';
import cluster from 'node:cluster';
import { ConfigError, loadConfig, shutdownPlan } from './config.ts';
import { createLogger } from './observability/logger.ts';
import { reportWorkerMetrics } from './cluster/metrics.ts';
import { metricsRegistry } from './observability/metrics.ts';
import { runPrimary } from './cluster/primary.ts';
import { releaseStartupMemory } from './startupMemory.ts';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  // WORKERS > 1: this process is the primary (secrets, workers, metrics, drain) and serves no calls.
  if (config.workers > 1 && cluster.isPrimary) {
    await runPrimary(config, createLogger(config.logLevel).child({ pid: process.pid, role: 'primary' }));
    return;
  }
  // Loaded only here: the primary serves no calls, and the app's modules cost a process ~30 MB.
  const [{ buildApp }, { composeGateway }] = await Promise.all([import('./app.ts'), import('./composition.ts')]);
  const base = createLogger(config.logLevel);
  const log = cluster.isWorker ? base.child({ pid: process.pid, worker: cluster.worker?.id }) : base;
  if (cluster.isWorker) reportWorkerMetrics(metricsRegistry);
  // Each worker runs its own runtime: its own calls, detectors, flows, caches and instance identity.
  const runtime = await composeGateway(config, log);
  const app = await buildApp({ ...runtime.appDeps, logger: log });

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    const plan = shutdownPlan(config);
    log.info({ signal, activeCalls: app.gateway.registry.size, ...plan, shutdownGraceMs: config.shutdownGraceMs }, 'draining');
    // The orchestrator kills the process at the end of its grace period; exit first, saying so.
    const hardStop = setTimeout(() => {
      log.error({ shutdownGraceMs: config.shutdownGraceMs }, 'shutdown did not finish within the grace period; exiting');
      process.exit(1);
    }, config.shutdownGraceMs - 500);
    hardStop.unref();
    try {
      await app.gateway.drain();
      await app.close();
      await runtime.close(Math.min(500, plan.closeMs / 4));
      log.info({ callWrites: app.gateway.callWrites(), events: runtime.appDeps.eventLog.stats() }, 'stopped');
      process.exit(0);
    } catch (err) {
      log.error({ err }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));

  await app.ready();
  const startupGcMs = releaseStartupMemory();
  await app.listen({ host: config.host, port: config.port });
  log.info(
    {
      host: config.host,
      port: config.port,
      publicUrl: config.publicUrl.toString(),
      database: runtime.appDeps.db.kind,
      apiKeyFile: runtime.apiKeyFile,
      dashboard: `http://${config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host}:${config.port}/`,
      adminPasswordFile: runtime.adminPasswordFile,
      localUnauthenticated: config.localUnauthenticated,
      startupGcMs,
    },
    runtime.apiKeyFile ? `gateway listening; the REST API key is in ${runtime.apiKeyFile}` : 'gateway listening',
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`gateway failed to start: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
