// Who did something through the API, for the campaign's audit trail. The auth layer sets
// `request.actor` (an operator or an API key); until it exists every request is the API key. This is
// the one place to change when it lands.
import type { FastifyRequest } from 'fastify';

export function actorOf(request: FastifyRequest): string {
  const actor = (request as FastifyRequest & { actor?: { id?: unknown } }).actor;
  return typeof actor?.id === 'string' && actor.id !== '' ? actor.id : 'api-key';
}
