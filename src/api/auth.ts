// REST API authentication: `Authorization: Bearer <API key>`, compared in constant time, plus a
// per-client request rate limit. Registered as a hook on the API's plugin scope only.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { createError, errorBody } from '../errors.ts';
import { RateLimiter } from '../gateway/rateLimit.ts';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

export function requireApiKey(app: FastifyInstance, opts: { apiKey: string; rateLimitPerMinute: number }): void {
  const expected = digest(opts.apiKey);
  const limiter = new RateLimiter(opts.rateLimitPerMinute);
  app.addHook('onRequest', async (request, reply) => {
    const header = request.headers.authorization;
    const given = header?.startsWith('Bearer ') ? header.slice(7).trim() : '';
    if (given === '' || !timingSafeEqual(digest(given), expected)) {
      request.log.warn({ path: request.routeOptions.url, ip: request.ip }, 'rejected API request: missing or wrong API key');
      return reply
        .code(401)
        .header('www-authenticate', 'Bearer')
        .send(errorBody(createError('GW_ERR_UNAUTHORIZED', 'send the API key as "Authorization: Bearer <key>" (see data/api-key or the API_KEY variable)', { statusCode: 401 })));
    }
    const wait = limiter.hit(request.ip);
    if (wait > 0) {
      return reply.code(429).header('retry-after', Math.ceil(wait / 1000)).send({ code: 'GW_ERR_RATE_LIMITED', message: 'too many API requests; retry later' });
    }
    return undefined;
  });
}
