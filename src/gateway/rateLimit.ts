// Per-client request limits on @fastify/rate-limit. Explicit limits keep one noisy client from
// starving the calls. Clients are keyed by clientKey (IPv4 address, IPv6 /64, IPv4-mapped as IPv4:
// the plugin's own IPv6 subnetting would fold every IPv4-mapped client of a dual-stack listener into
// one key). Counts live in the database (rateLimitStore.ts), shared by every instance; while the
// database does not answer they fall back to the plugin's LRU, bounded at LIMITER_MAX_CLIENTS entries
// whatever the number of addresses seen.
import type { FastifyRateLimitStoreCtor, RateLimitPluginOptions } from '@fastify/rate-limit';
import { createError } from '../errors.ts';
import { clientKey } from './clientKey.ts';

/**
 * How long a voice webhook waits for its shared count before this process's count decides (the
 * caller hears ringing meanwhile); the database still counts it, given SHARED_COUNT_TIMEOUT_MS.
 */
export const WEBHOOK_COUNT_WAIT_MS = 20;

/** Clients tracked per limiter; the least recently seen are forgotten beyond it (bounded memory). */
export const LIMITER_MAX_CLIENTS = 10_000;

/**
 * Options for a limit of `perMinute` requests per client, charged at `preHandler`: after the
 * onRequest/preValidation checks (API key, carrier signature), so refused requests cost no quota.
 */
export function rateLimitOptions(scope: string, what: string, perMinute: number, store?: FastifyRateLimitStoreCtor): RateLimitPluginOptions {
  return {
    max: perMinute,
    timeWindow: 60_000,
    hook: 'preHandler',
    cache: LIMITER_MAX_CLIENTS,
    ...(store === undefined ? {} : { store }),
    keyGenerator: (request) => `${scope}:${clientKey(request.ip)}`,
    errorResponseBuilder: (_request, context) =>
      createError('GW_ERR_RATE_LIMITED', `too many ${what}; retry in ${context.after}`, { statusCode: context.statusCode }),
  };
}
