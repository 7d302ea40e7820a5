// /v1/dnc: the deployment's do-not-call list — add, remove, check, list, and import a CSV.
import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { createError } from '../errors.ts';
import { actorOf } from './actor.ts';
import { toE164, type DncStore } from './dnc.ts';
import { PAGE_QUERY } from './schemas.ts';

const TAG = 'do-not-call';
const ENTRY = {
  type: 'object',
  properties: { e164: { type: 'string' }, source: { type: 'string' }, reason: { type: ['string', 'null'] }, actor: { type: 'string' }, createdAt: { type: 'string' } },
} as const;
const E164_PARAMS = { type: 'object', required: ['e164'], properties: { e164: { type: 'string', maxLength: 32, description: 'E.164, URL-encoded (%2B for +)' } } } as const;

function mustE164(text: string, field: string): string {
  const e164 = toE164(text, 'US');
  if (e164 === undefined) throw createError('GW_ERR_DNC_INVALID_NUMBER', `${field}: "${text}" is not a valid phone number; use E.164 such as +14155550123`, { statusCode: 400 });
  return e164;
}

export async function dncRoutes(api: FastifyInstance, deps: { dnc: DncStore }): Promise<void> {
  const { dnc } = deps;

  api.post<{ Body: { phone: string; reason?: string } }>(
    '/dnc',
    {
      schema: {
        summary: 'Add a number to the do-not-call list (idempotent); queued contacts with it are never dialed',
        tags: [TAG],
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['phone'],
          properties: { phone: { type: 'string', minLength: 3, maxLength: 32 }, reason: { type: 'string', maxLength: 200 } },
          examples: [{ phone: '+14155550123', reason: 'asked on the phone' }],
        },
        response: { 200: ENTRY, 201: ENTRY },
      },
    },
    async (request, reply) => {
      const e164 = mustE164(request.body.phone, 'phone');
      const { entry, created } = await dnc.add(e164, { source: 'api', reason: request.body.reason ?? null, actor: actorOf(request) });
      return reply.code(created ? 201 : 200).send(entry);
    },
  );

  api.delete<{ Params: { e164: string } }>(
    '/dnc/:e164',
    { schema: { summary: 'Remove a number from the do-not-call list', tags: [TAG], params: E164_PARAMS, response: { 204: { type: 'null' } } } },
    async (request, reply) => {
      const e164 = mustE164(request.params.e164, 'e164');
      if (!(await dnc.remove(e164))) throw createError('GW_ERR_DNC_NOT_FOUND', `e164: ${e164} is not on the do-not-call list`, { statusCode: 404 });
      return reply.code(204).send();
    },
  );

  api.get<{ Params: { e164: string } }>(
    '/dnc/:e164',
    {
      schema: {
        summary: 'Is a number on the do-not-call list?',
        tags: [TAG],
        params: E164_PARAMS,
        response: { 200: { type: 'object', properties: { e164: { type: 'string' }, listed: { type: 'boolean' }, entry: { anyOf: [ENTRY, { type: 'null' }] } } } },
      },
    },
    async (request) => {
      const e164 = mustE164(request.params.e164, 'e164');
      const entry = await dnc.get(e164);
      return { e164, listed: entry !== null, entry };
    },
  );

  api.get<{ Querystring: { limit: number; cursor?: string } }>(
    '/dnc',
    {
      schema: {
        summary: 'The do-not-call list, by number',
        tags: [TAG],
        querystring: { type: 'object', additionalProperties: false, properties: PAGE_QUERY },
        response: { 200: { type: 'object', properties: { entries: { type: 'array', items: ENTRY }, nextCursor: { type: ['string', 'null'] } } } },
      },
    },
    async (request) => dnc.list(request.query),
  );

  api.post(
    '/dnc/import',
    {
      bodyLimit: 64 * 1024 * 1024,
      schema: {
        summary: 'Import a CSV (text/csv, streamed) with a phone column and an optional reason column',
        tags: [TAG],
        consumes: ['text/csv'],
        response: {
          200: {
            type: 'object',
            properties: {
              added: { type: 'integer' },
              alreadyListed: { type: 'integer' },
              invalid: { type: 'integer' },
              problems: { type: 'array', items: { type: 'object', properties: { line: { type: 'integer' }, reason: { type: 'string' }, field: { type: 'string' }, value: { type: 'string' } } } },
            },
          },
        },
      },
    },
    async (request) => {
      if (!(request.body instanceof Readable)) throw createError('GW_ERR_DNC_IMPORT', 'body: send the list as text/csv with a "phone" column', { statusCode: 400 });
      return dnc.importCsv(request.body, { actor: actorOf(request), defaultCountry: 'US' });
    },
  );
}
