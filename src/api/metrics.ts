// GET /v1/metrics: what an operator (and the benchmark suite) needs to see whether the process keeps
// up: event-loop delay (the real-time budget is one 20 ms frame), active calls, CPU and memory, and
// the counters of refused streams, malformed messages and event-log health.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { FastifyInstance } from 'fastify';
import type { Gateway } from '../app.ts';
import type { EventLog } from '../store/eventLog.ts';

export async function metricsRoutes(app: FastifyInstance, deps: { gateway: () => Gateway; eventLog: EventLog }): Promise<void> {
  const loop = monitorEventLoopDelay({ resolution: 5 });
  loop.enable();
  app.addHook('onClose', async () => loop.disable());
  const ms = (ns: number): number => Math.round(ns / 1e4) / 100;

  app.get<{ Querystring: { reset?: boolean } }>(
    '/metrics',
    {
      schema: {
        summary: 'Process health: event-loop delay, calls, CPU, memory, counters',
        tags: ['operations'],
        querystring: { type: 'object', properties: { reset: { type: 'boolean', description: 'reset the event-loop histogram after reading' } } },
      },
    },
    async (request) => {
      const gw = deps.gateway();
      const mem = process.memoryUsage();
      const cpu = process.cpuUsage();
      const body = {
        activeCalls: gw.registry.size,
        draining: gw.registry.draining,
        calls: gw.registry.counters,
        streams: gw.counters,
        eventLoopDelayMs: { p50: ms(loop.percentile(50)), p99: ms(loop.percentile(99)), max: ms(loop.max), samples: loop.count },
        cpuMs: { user: Math.round(cpu.user / 1000), system: Math.round(cpu.system / 1000) },
        memoryMb: { rss: Math.round(mem.rss / 1048576), heapUsed: Math.round(mem.heapUsed / 1048576) },
        events: deps.eventLog.stats(),
        callWrites: gw.callWrites(),
        tokens: gw.tokens,
        uptimeS: Math.round(process.uptime()),
      };
      if (request.query.reset === true) loop.reset();
      return body;
    },
  );
}
