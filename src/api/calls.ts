// GET /v1/calls and GET /v1/calls/{id}: the call records and their event timelines.
import type { FastifyInstance } from 'fastify';
import { createError } from '../errors.ts';
import { isCallStatus, type CallStatus, type CallStore } from '../store/calls.ts';
import type { EventLog } from '../store/eventLog.ts';

export interface CallRoutesDeps {
  calls: CallStore;
  eventLog: EventLog;
}

const callSchema = {
  type: 'object',
  additionalProperties: true,
  properties: {
    id: { type: 'string' },
    carrier: { type: 'string', enum: ['twilio', 'signalwire'] },
    carrierCallId: { type: ['string', 'null'] },
    streamId: { type: ['string', 'null'] },
    direction: { type: 'string', enum: ['inbound', 'outbound'] },
    fromNumber: { type: 'string' },
    toNumber: { type: 'string' },
    status: { type: 'string' },
    flowId: { type: ['string', 'null'] },
    flowVersion: { type: ['integer', 'null'] },
    createdAt: { type: 'string', format: 'date-time' },
    answeredAt: { type: ['string', 'null'] },
    endedAt: { type: ['string', 'null'] },
    endReason: { type: ['string', 'null'] },
    amdResult: { type: ['string', 'null'] },
    amdAnsweredBy: { type: ['string', 'null'] },
    amdConfidence: { type: ['number', 'null'] },
    amdDecisionMs: { type: ['integer', 'null'] },
    recordingPath: { type: ['string', 'null'] },
    metadata: { type: 'object', additionalProperties: true },
  },
} as const;

/** Events per timeline page: a long agent call has thousands; a page stays a few hundred KB (16 KiB per event at most). */
const TIMELINE_MAX_PAGE = 1000;

const errorSchema = { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } } as const;

interface ListQuery {
  status?: string;
  direction?: 'inbound' | 'outbound';
  number?: string;
  since?: string;
  until?: string;
  limit?: number;
  cursor?: string;
}

export async function callRoutes(app: FastifyInstance, deps: CallRoutesDeps): Promise<void> {
  app.get<{ Querystring: ListQuery }>(
    '/calls',
    {
      schema: {
        summary: 'List calls, newest first',
        tags: ['calls'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            status: { type: 'string', description: 'one status or a comma-separated list', pattern: '^[a-z-]+(,[a-z-]+)*$' },
            direction: { type: 'string', enum: ['inbound', 'outbound'] },
            number: { type: 'string', pattern: '^\\+?[0-9A-Za-z:@._-]{1,64}$', description: 'matches the caller or the called number' },
            since: { type: 'string', format: 'date-time' },
            until: { type: 'string', format: 'date-time' },
            limit: { type: 'integer', minimum: 1, maximum: 100, default: 50 },
            cursor: { type: 'string', maxLength: 200 },
          },
        },
        response: {
          200: { type: 'object', properties: { calls: { type: 'array', items: callSchema }, nextCursor: { type: ['string', 'null'] } } },
          400: errorSchema,
        },
      },
    },
    async (request) => {
      const q = request.query;
      let status: CallStatus[] | undefined;
      if (q.status !== undefined) {
        const list = q.status.split(',');
        const bad = list.filter((s) => !isCallStatus(s));
        if (bad.length > 0) throw createError('GW_ERR_BAD_QUERY', `status: unknown value(s) ${bad.join(', ')}`, { statusCode: 400 });
        status = list as CallStatus[];
      }
      return deps.calls.list({
        status,
        direction: q.direction,
        number: q.number,
        since: q.since ? new Date(q.since) : undefined,
        until: q.until ? new Date(q.until) : undefined,
        limit: q.limit,
        cursor: q.cursor,
      });
    },
  );

  app.get<{ Params: { id: string }; Querystring: { eventsAfter?: number; eventsLimit: number } }>(
    '/calls/:id',
    {
      schema: {
        summary: 'One call with its event timeline (a page of events at a time)',
        tags: ['calls'],
        params: { type: 'object', properties: { id: { type: 'string', minLength: 1, maxLength: 64 } }, required: ['id'] },
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            eventsAfter: { type: 'integer', minimum: 0, description: 'Sequence number of the last event already read' },
            eventsLimit: { type: 'integer', minimum: 1, maximum: TIMELINE_MAX_PAGE, default: TIMELINE_MAX_PAGE, description: 'Events per page' },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              call: callSchema,
              events: { type: 'array', items: { type: 'object', additionalProperties: true } },
              nextEventsAfter: { type: ['integer', 'null'], description: 'Pass as eventsAfter for the next page of events; null on the last page' },
            },
          },
          400: errorSchema,
          404: errorSchema,
        },
      },
    },
    async (request) => {
      const call = await deps.calls.get(request.params.id).catch((err: unknown) => {
        // A malformed id is simply not found (the column is a uuid in PostgreSQL).
        if ((err as { code?: string }).code === '22P02') return null;
        throw err;
      });
      if (call === null) throw createError('GW_ERR_CALL_NOT_FOUND', `no call with id ${request.params.id}`, { statusCode: 404 });
      const { eventsAfter, eventsLimit } = request.query;
      const rows = await deps.eventLog.listEvents(call.id, { ...(eventsAfter === undefined ? {} : { afterSeq: eventsAfter }), limit: eventsLimit + 1 });
      const events = rows.slice(0, eventsLimit);
      return { call, events, nextEventsAfter: rows.length > eventsLimit ? (events.at(-1)?.seq ?? null) : null };
    },
  );
}
