// Who did something through the API, for the campaign's audit trail: the operator or API key the
// access layer (src/auth/access.ts) authenticated, as `user:<name>` or `key:<name>`.
import type { FastifyRequest } from 'fastify';
import type { Actor } from '../auth/actor.ts';

export function actorOf(request: FastifyRequest): string {
  const actor = (request as FastifyRequest & { actor?: Actor }).actor;
  if (actor === undefined) return 'api-key';
  return `${actor.kind}:${actor.name}`;
}
