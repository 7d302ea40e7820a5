// GET /metrics in Prometheus text: per worker and in total when the gateway runs worker processes
// (see metrics.ts). Registered only when no other plugin serves /metrics; a plugin that does should
// answer with `clusterMetricsText(itsRegistry)` to keep the cluster view.
import type { FastifyInstance } from 'fastify';
import { collectDefaultMetrics, Gauge, register } from 'prom-client';
import { clusterMetricsText } from './metrics.ts';

export function clusterMetricsRoute(app: FastifyInstance, activeCalls: () => number): void {
  if (app.hasRoute({ method: 'GET', url: '/metrics' })) return;
  collectDefaultMetrics({ register });
  new Gauge({
    name: 'gateway_worker_active_calls',
    help: 'Calls this process is carrying now',
    registers: [register],
    collect() {
      this.set(activeCalls());
    },
  });
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    const text = await clusterMetricsText(register);
    return reply.type(register.contentType).send(text);
  });
}
