// Flows over REST: deploy (create or new version), list, read a version, validate without saving.
// A flow that fails validation is refused with every problem at once, each naming node and field.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createError, errorBody } from '../errors.ts';
import type { HttpAllowList } from '../flow/httpAllowList.ts';
import { formatIssue, validateFlow, type ValidationContext, type ValidationIssue } from '../flow/validate.ts';
import type { FlowStore } from '../store/flows.ts';
import { nextSchema, pageHandler, pageQuerySchema, pageSchema, toPage, type PageRequest } from './paging.ts';
import type { FlowDefinition } from '../flow/types.ts';

export interface FlowRoutesOptions {
  flows: FlowStore;
  /** What the deployment can do, so validation can warn (speech without STT, agent without LLM). */
  capabilities?: { speech: boolean; agent: boolean; httpAllowList?: HttpAllowList };
  /** A flow was deployed: its static prompts are synthesized now, so its first calls do not wait. */
  onDeployed?: (flow: FlowDefinition) => void;
}

export const errorSchema = {
  type: 'object',
  properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} },
} as const;

const issueSchema = {
  type: 'object',
  properties: { path: { type: 'string' }, message: { type: 'string' }, text: { type: 'string', description: '`path: message`' } },
} as const;

const invalidSchema = {
  type: 'object',
  properties: {
    code: { type: 'string', enum: ['GW_ERR_FLOW_INVALID'] },
    message: { type: 'string' },
    errors: { type: 'array', items: issueSchema },
    warnings: { type: 'array', items: issueSchema },
  },
} as const;

const flowBody = {
  type: 'object',
  description: 'A flow definition (see flows/flow.schema.json); validated in full by the handler so every problem is reported at once.',
  additionalProperties: true,
} as const;

const flowIdParam = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'string', minLength: 1, maxLength: 64 } },
} as const;

const storedFlowSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    version: { type: 'integer' },
    createdAt: { type: 'string', format: 'date-time' },
    definition: { type: 'object', additionalProperties: true },
  },
} as const;

const withText = (issues: ValidationIssue[]): Array<ValidationIssue & { text: string }> => issues.map((i) => ({ ...i, text: formatIssue(i) }));

export async function flowRoutes(app: FastifyInstance, opts: FlowRoutesOptions): Promise<void> {
  const { flows } = opts;

  const context = async (): Promise<ValidationContext> => ({
    ...(opts.capabilities ?? {}),
    departments: new Set((await flows.listDepartments()).map((d) => d.name)),
  });

  const refuse = (reply: FastifyReply, errors: ValidationIssue[], warnings: ValidationIssue[]): FastifyReply =>
    reply.code(400).send(
      errorBody(
        createError('GW_ERR_FLOW_INVALID', `the flow has ${errors.length} problem${errors.length === 1 ? '' : 's'}: ${errors.slice(0, 3).map(formatIssue).join('; ')}${errors.length > 3 ? '; …' : ''}`, {
          statusCode: 400,
        }),
        { errors: withText(errors), warnings: withText(warnings) },
      ),
    );

  app.post(
    '/flows',
    {
      schema: {
        summary: 'Deploy a flow: creates it, or stores a new version of it (the same definition again returns the latest version)',
        tags: ['flows'],
        body: flowBody,
        response: {
          200: {
            description: 'identical to the latest version; nothing stored',
            type: 'object',
            properties: { id: { type: 'string' }, version: { type: 'integer' }, created: { type: 'boolean' }, warnings: { type: 'array', items: issueSchema } },
          },
          201: {
            type: 'object',
            properties: { id: { type: 'string' }, version: { type: 'integer' }, created: { type: 'boolean' }, warnings: { type: 'array', items: issueSchema } },
          },
          400: invalidSchema,
        },
      },
    },
    async (request: FastifyRequest<{ Body: Record<string, unknown> }>, reply) => {
      const result = validateFlow(request.body, await context());
      if (!result.ok || result.flow === undefined) return refuse(reply, result.errors, result.warnings);
      const saved = await flows.save(result.flow);
      request.log.info({ flowId: saved.id, version: saved.version, created: saved.created }, 'flow deployed');
      opts.onDeployed?.(result.flow);
      return reply.code(saved.created ? 201 : 200).send({ ...saved, warnings: withText(result.warnings) });
    },
  );

  app.get(
    '/flows',
    {
      schema: {
        summary: 'List flows (latest version of each), by id, a page at a time',
        tags: ['flows'],
        querystring: pageQuerySchema('Flow id of the last item of the previous page'),
        response: {
          200: pageSchema('flows', {
            type: 'object',
            properties: {
              id: { type: 'string' },
              latestVersion: { type: 'integer' },
              versions: { type: 'integer' },
              name: { type: ['string', 'null'] },
              updatedAt: { type: 'string', format: 'date-time' },
            },
          }),
        },
      },
    },
    pageHandler('flows', (page) => flows.list(page), (f) => f.id),
  );

  app.get(
    '/flows/:id',
    {
      schema: {
        summary: 'A flow: the latest version, or ?version=n',
        tags: ['flows'],
        params: flowIdParam,
        querystring: { type: 'object', additionalProperties: false, properties: { version: { type: 'integer', minimum: 1 } } },
        response: { 200: storedFlowSchema, 404: errorSchema },
      },
    },
    async (request: FastifyRequest<{ Params: { id: string }; Querystring: { version?: number } }>) => {
      const { id } = request.params;
      const { version } = request.query;
      const stored = await flows.get(id, version);
      if (stored === undefined) {
        throw createError('GW_ERR_FLOW_NOT_FOUND', version === undefined ? `flow "${id}" does not exist` : `flow "${id}" has no version ${version}`, { statusCode: 404 });
      }
      return stored;
    },
  );

  app.get(
    '/flows/:id/versions',
    {
      schema: {
        summary: 'The versions of a flow, oldest first, a page at a time',
        tags: ['flows'],
        params: flowIdParam,
        querystring: pageQuerySchema('Version number of the last item of the previous page'),
        response: {
          200: {
            type: 'object',
            properties: {
              id: { type: 'string' },
              versions: { type: 'array', items: { type: 'object', properties: { version: { type: 'integer' }, createdAt: { type: 'string', format: 'date-time' } } } },
              next: nextSchema,
            },
          },
          400: errorSchema,
          404: errorSchema,
        },
      },
    },
    async (request: FastifyRequest<{ Params: { id: string }; Querystring: PageRequest }>) => {
      const { limit, after } = request.query;
      const afterVersion = after === undefined ? undefined : Number(after);
      if (afterVersion !== undefined && !Number.isInteger(afterVersion)) throw createError('GW_ERR_VALIDATION', 'after must be a version number', { statusCode: 400 });
      const page = toPage(await flows.versions(request.params.id, { after: afterVersion, limit: limit + 1 }), limit, (v) => String(v.version));
      if (page.items.length === 0 && afterVersion === undefined) throw createError('GW_ERR_FLOW_NOT_FOUND', `flow "${request.params.id}" does not exist`, { statusCode: 404 });
      return { id: request.params.id, versions: page.items, next: page.next };
    },
  );

  app.post(
    '/flows/:id/validate',
    {
      schema: {
        summary: 'Validate a flow without saving it',
        tags: ['flows'],
        params: flowIdParam,
        body: flowBody,
        response: {
          200: {
            type: 'object',
            properties: { valid: { type: 'boolean' }, errors: { type: 'array', items: issueSchema }, warnings: { type: 'array', items: issueSchema } },
          },
        },
      },
    },
    async (request: FastifyRequest<{ Params: { id: string }; Body: Record<string, unknown> }>) => {
      const result = validateFlow(request.body, await context());
      const errors = [...result.errors];
      if (typeof request.body.id === 'string' && request.body.id !== request.params.id) {
        errors.push({ path: 'id', message: `must match the id in the URL ("${request.params.id}")` });
      }
      return { valid: errors.length === 0, errors: withText(errors), warnings: withText(result.warnings) };
    },
  );
}
