// Every state-changing /v1 request that succeeds becomes an audit event (who, when, method, route,
// the ids it touched). Done once for the whole scope in onResponse, so routes other people add are
// covered without their help. The write is off the response path; a failing write is logged.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isSafeMethod } from './actor.ts';
import type { AuthStore } from './store.ts';

/** Body fields that name what was changed. Anything else (passwords, flow bodies, CSV) is left out. */
const TARGET_FIELDS = ['id', 'name', 'flowId', 'version', 'role', 'campaignId', 'contactId', 'phone', 'e164', 'disabled', 'recordings', 'state', 'action', 'disposition', 'flowVersion'];

function targetOf(request: FastifyRequest): Record<string, unknown> {
  const target: Record<string, unknown> = {};
  const params = request.params;
  if (params !== null && typeof params === 'object') Object.assign(target, params);
  const body = request.body;
  if (body !== null && typeof body === 'object' && !Array.isArray(body)) {
    for (const f of TARGET_FIELDS) {
      const v = (body as Record<string, unknown>)[f];
      if (v !== undefined && (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') && !(f in target)) target[f] = v;
    }
  }
  return target;
}

export function auditChanges(api: FastifyInstance, store: AuthStore): void {
  api.addHook('onResponse', async (request, reply) => {
    if (isSafeMethod(request.method) || reply.statusCode >= 400) return;
    const actor = request.actor;
    if (actor === undefined) return;
    const event = {
      actor: { kind: actor.kind, id: actor.id, name: actor.name },
      method: request.method,
      route: request.routeOptions.url ?? request.url,
      url: request.url.slice(0, 500),
      status: reply.statusCode,
      target: targetOf(request),
    };
    try {
      await store.addAudit(event);
    } catch (err) {
      request.log.error({ err, audit: event }, 'could not write an audit event');
    }
  });
}
