// REST API authentication: `Authorization: Bearer <API key>`, compared in constant time. Registered
// as a hook on the API's plugin scope only (its rate limit is registered beside it, in app.ts).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { createError, errorBody } from '../errors.ts';

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

export function requireApiKey(app: FastifyInstance, opts: { apiKey: string }): void {
  const expected = digest(opts.apiKey);
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
    return undefined;
  });
}
