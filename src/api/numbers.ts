// Number → flow routing over REST. Inbound calls to a routed number run its flow (a pinned version,
// or the latest); other numbers run the default flow. Numbers are E.164.
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { createError } from '../errors.ts';
import { E164 } from '../flow/types.ts';
import type { FlowStore } from '../store/flows.ts';
import { errorSchema } from './flows.ts';
import { pageHandler, pageQuerySchema, pageSchema } from './paging.ts';

export interface NumberRoutesOptions {
  flows: FlowStore;
}

const E164_PATTERN = '^\\+[1-9][0-9]{6,14}$';

const routeSchema = {
  type: 'object',
  properties: {
    e164: { type: 'string' },
    flowId: { type: 'string' },
    version: { type: ['integer', 'null'], description: 'null: the latest version at call time' },
    updatedAt: { type: 'string', format: 'date-time' },
  },
} as const;

const numberParam = {
  type: 'object',
  required: ['e164'],
  properties: { e164: { type: 'string', pattern: E164_PATTERN, description: 'E.164 number, e.g. +14155550100 (URL-encode + as %2B if your client needs to)' } },
} as const;

/** Fastify's own message for a bad parameter does not say what E.164 is; this one does. */
function checkRequest(request: FastifyRequest): string {
  const e164 = (request.params as { e164?: unknown }).e164;
  if (typeof e164 !== 'string' || !E164.test(e164)) {
    throw createError('GW_ERR_NUMBER_INVALID', 'the number must be E.164: "+", country code and number, up to 15 digits (e.g. +14155550100)', { statusCode: 400 });
  }
  if (request.validationError !== undefined) throw createError('GW_ERR_VALIDATION', request.validationError.message, { statusCode: 400 });
  return e164;
}

export async function numberRoutes(app: FastifyInstance, opts: NumberRoutesOptions): Promise<void> {
  const { flows } = opts;

  app.put(
    '/numbers/:e164',
    {
      attachValidation: true,
      schema: {
        summary: 'Route a number to a flow',
        tags: ['numbers'],
        params: numberParam,
        body: {
          type: 'object',
          required: ['flowId'],
          additionalProperties: false,
          properties: {
            flowId: { type: 'string', minLength: 1, maxLength: 64 },
            version: { type: ['integer', 'null'], minimum: 1, description: 'pin a version; omit or null for the latest' },
          },
        },
        response: { 200: routeSchema, 400: errorSchema, 404: errorSchema },
      },
    },
    async (request: FastifyRequest<{ Params: { e164: string }; Body: { flowId: string; version?: number | null } }>) => {
      const e164 = checkRequest(request);
      const route = await flows.setNumber(e164, request.body.flowId, request.body.version ?? null);
      request.log.info({ e164, flowId: route.flowId, version: route.version }, 'number routed');
      return route;
    },
  );

  app.get(
    '/numbers',
    {
      schema: {
        summary: 'List number routes, by number, a page at a time',
        tags: ['numbers'],
        querystring: pageQuerySchema('Number (E.164) of the last item of the previous page'),
        response: { 200: pageSchema('numbers', routeSchema) },
      },
    },
    pageHandler('numbers', (page) => flows.listNumbers(page), (n) => n.e164),
  );

  app.get(
    '/numbers/:e164',
    {
      attachValidation: true,
      schema: { summary: 'One number route', tags: ['numbers'], params: numberParam, response: { 200: routeSchema, 400: errorSchema, 404: errorSchema } },
    },
    async (request) => {
      const e164 = checkRequest(request);
      const route = await flows.getNumber(e164);
      if (route === undefined) throw createError('GW_ERR_NUMBER_NOT_FOUND', 'this number has no route (calls to it run the default flow)', { statusCode: 404 });
      return route;
    },
  );

  app.delete(
    '/numbers/:e164',
    {
      attachValidation: true,
      schema: { summary: 'Remove a number route (calls then run the default flow)', tags: ['numbers'], params: numberParam, response: { 204: { type: 'null' }, 400: errorSchema, 404: errorSchema } },
    },
    async (request, reply) => {
      const e164 = checkRequest(request);
      if (!(await flows.deleteNumber(e164))) throw createError('GW_ERR_NUMBER_NOT_FOUND', 'this number has no route', { statusCode: 404 });
      return reply.code(204).send();
    },
  );
}
