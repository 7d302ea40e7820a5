// Per-client request limits on @fastify/rate-limit. Explicit limits keep one noisy client from
// starving the calls. Clients are keyed by clientKey (IPv4 address, IPv6 /64, IPv4-mapped as IPv4:
// the plugin's own IPv6 subnetting would fold every IPv4-mapped client of a dual-stack listener into
// one key). The store is the plugin's LRU, bounded at LIMITER_MAX_CLIENTS entries whatever the number
// of addresses seen; counts are per process (a store shared by instances is not built yet).
import type { RateLimitPluginOptions } from '@fastify/rate-limit';
import { createError } from '../errors.ts';
import { clientKey } from './clientKey.ts';

/** Clients tracked per limiter; the least recently seen are forgotten beyond it (bounded memory). */
export const LIMITER_MAX_CLIENTS = 10_000;

/**
 * Options for a limit of `perMinute` requests per client, charged at `preHandler`: after the
 * onRequest/preValidation checks (API key, carrier signature), so refused requests cost no quota.
 */
export function rateLimitOptions(what: string, perMinute: number): RateLimitPluginOptions {
  return {
    max: perMinute,
    timeWindow: 60_000,
    hook: 'preHandler',
    cache: LIMITER_MAX_CLIENTS,
    keyGenerator: (request) => clientKey(request.ip),
    errorResponseBuilder: (_request, context) =>
      createError('GW_ERR_RATE_LIMITED', `too many ${what}; retry in ${context.after}`, { statusCode: context.statusCode }),
  };
}
