// Per-client request rate limit of the REST API, registered as a hook on the API's plugin scope.
// Who may do what (API keys, sessions, roles, CSRF) is src/auth/access.ts.
import type { FastifyInstance } from 'fastify';
import { RateLimiter } from '../gateway/rateLimit.ts';

export function rateLimitApi(app: FastifyInstance, opts: { rateLimitPerMinute: number }): void {
  const limiter = new RateLimiter(opts.rateLimitPerMinute);
  app.addHook('onRequest', async (request, reply) => {
    const wait = limiter.hit(request.ip);
    if (wait > 0) {
      return reply.code(429).header('retry-after', Math.ceil(wait / 1000)).send({ code: 'GW_ERR_RATE_LIMITED', message: 'too many API requests; retry later' });
    }
    return undefined;
  });
}
