// GET /v1/flows/{id}/exits: for a period, how many calls left each node by each exit — where callers
// drop out of a flow. Counted in SQL from the `flow.node.exited` events of the flow's calls.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Queryable } from '../store/db.ts';

const DAY_MS = 24 * 60 * 60 * 1000;

/** A field of a flow event: the event log keeps an event's own `data` object under `data`. */
const field = (name: 'node' | 'exit' | 'next'): string => `COALESCE(e.data->'data'->>'${name}', e.data->>'${name}')`;

export async function flowExitRoutes(api: FastifyInstance, opts: { db: Queryable }): Promise<void> {
  api.get(
    '/flows/:id/exits',
    {
      schema: {
        summary: 'Calls per node exit of a flow over a period (default: the last 7 days)',
        tags: ['flows'],
        params: { type: 'object', required: ['id'], properties: { id: { type: 'string', minLength: 1, maxLength: 64 } } },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { since: { type: 'string', format: 'date-time' }, until: { type: 'string', format: 'date-time' }, version: { type: 'integer', minimum: 1 } },
          examples: [{ since: '2026-11-01T00:00:00Z', until: '2026-11-08T00:00:00Z' }],
        },
        response: {
          200: {
            type: 'object',
            properties: {
              flowId: { type: 'string' },
              since: { type: 'string' },
              until: { type: 'string' },
              calls: { type: 'integer' },
              exits: { type: 'array', items: { type: 'object', properties: { node: { type: 'string' }, exit: { type: 'string' }, next: { type: ['string', 'null'] }, calls: { type: 'integer' } } } },
              entered: { type: 'array', items: { type: 'object', properties: { node: { type: 'string' }, calls: { type: 'integer' } } } },
            },
          },
        },
      },
    },
    async (request: FastifyRequest<{ Params: { id: string }; Querystring: { since?: string; until?: string; version?: number } }>) => {
      const until = request.query.until !== undefined ? new Date(request.query.until) : new Date();
      const since = request.query.since !== undefined ? new Date(request.query.since) : new Date(until.getTime() - 7 * DAY_MS);
      const args = [request.params.id, since, until, request.query.version ?? null];
      const scope = `FROM calls c JOIN call_events e ON e.call_id = c.id
        WHERE c.flow_id = $1 AND c.created_at >= $2 AND c.created_at < $3 AND ($4::int IS NULL OR c.flow_version = $4)`;
      const [exits, entered, total] = await Promise.all([
        opts.db.query<{ node: string; exit: string; next: string | null; calls: number }>(
          `SELECT ${field('node')} AS node, COALESCE(${field('exit')}, '') AS exit, ${field('next')} AS next, count(DISTINCT c.id)::int AS calls
             ${scope} AND e.type = 'flow.node.exited' GROUP BY 1, 2, 3 ORDER BY 1, 2`,
          args,
        ),
        opts.db.query<{ node: string; calls: number }>(`SELECT ${field('node')} AS node, count(DISTINCT c.id)::int AS calls ${scope} AND e.type = 'flow.node.entered' GROUP BY 1 ORDER BY 1`, args),
        opts.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM calls c WHERE c.flow_id = $1 AND c.created_at >= $2 AND c.created_at < $3 AND ($4::int IS NULL OR c.flow_version = $4)`, args),
      ]);
      return { flowId: request.params.id, since: since.toISOString(), until: until.toISOString(), calls: total.rows[0]?.n ?? 0, exits: exits.rows, entered: entered.rows };
    },
  );
}
