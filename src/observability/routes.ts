// GET /metrics: the Prometheus text format. Scraped from loopback without credentials, or from
// anywhere with `Authorization: Bearer $METRICS_TOKEN`. The address checked is the socket's, never
// X-Forwarded-For: a proxy on the same host that forwards public traffic must block /metrics itself.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { clusterMetricsText } from '../cluster/metrics.ts';
import { metricsRegistry } from './metrics.ts';

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

/** Constant-time comparison (of digests, so lengths match): the token cannot be guessed byte by byte from response times. */
function sameToken(header: string | undefined, token: string): boolean {
  if (header === undefined) return false;
  const digest = (s: string): Buffer => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(header), digest(`Bearer ${token}`));
}

export async function prometheusRoute(app: FastifyInstance, opts: { token: string | undefined }): Promise<void> {
  app.get(
    '/metrics',
    {
      schema: {
        summary: 'Prometheus metrics (text exposition format)',
        description: 'Loopback scrapes need no credentials; others need `Authorization: Bearer <METRICS_TOKEN>` (403 when METRICS_TOKEN is unset).',
        tags: ['operations'],
        security: [],
        response: {
          401: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } },
          403: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } },
          200: { type: 'string', description: 'text/plain; version=0.0.4', examples: ['# HELP gateway_active_calls Calls with a live media stream in this process\n# TYPE gateway_active_calls gauge\ngateway_active_calls 3\n'] },
        },
      },
    },
    async (request, reply) => {
      const remote = request.socket.remoteAddress ?? '';
      const auth = request.headers.authorization;
      const tokenOk = opts.token !== undefined && sameToken(auth, opts.token);
      if (!tokenOk && !LOOPBACK.test(remote)) {
        return reply.code(opts.token === undefined ? 403 : 401).send({
          code: 'GW_ERR_METRICS_FORBIDDEN',
          message: opts.token === undefined ? 'metrics are served to loopback only; set METRICS_TOKEN to scrape from elsewhere' : 'send Authorization: Bearer <METRICS_TOKEN>',
        });
      }
      // Under WORKERS > 1 the answer holds every worker's series and the totals (through the primary).
      return reply.header('content-type', metricsRegistry.contentType).send(await clusterMetricsText(metricsRegistry));
    },
  );
}
