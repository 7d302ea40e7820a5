// Departments over REST: the numbers a transfer rings, business hours in an IANA time zone, and what
// happens outside hours (another flow, a number, or a message then hang-up).
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { createError } from '../errors.ts';
import { isValidTimeZone, RANGE } from '../flow/hours.ts';
import type { Department } from '../flow/types.ts';
import type { FlowStore } from '../store/flows.ts';
import { errorSchema } from './flows.ts';
import { pageHandler, pageQuerySchema, pageSchema } from './paging.ts';

export interface DepartmentRoutesOptions {
  flows: FlowStore;
}

const E164_PATTERN = '^\\+[1-9][0-9]{6,14}$';
const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9 _.-]{0,99}$';
const dayRanges = { type: 'array', maxItems: 10, items: { type: 'string', pattern: RANGE.source, description: 'HH:MM-HH:MM; an end not after the start runs past midnight' } } as const;

const departmentBody = {
  type: 'object',
  required: ['numbers', 'timeZone'],
  additionalProperties: false,
  properties: {
    numbers: { type: 'array', minItems: 1, maxItems: 10, items: { type: 'string', pattern: E164_PATTERN }, description: 'E.164 numbers, tried in order' },
    timeZone: { type: 'string', minLength: 1, maxLength: 64, description: 'IANA time zone of the hours, e.g. Europe/Paris' },
    hours: {
      type: 'object',
      additionalProperties: false,
      description: 'Opening hours per weekday; a missing day is closed; no hours at all = always open',
      properties: { mon: dayRanges, tue: dayRanges, wed: dayRanges, thu: dayRanges, fri: dayRanges, sat: dayRanges, sun: dayRanges },
    },
    closedDates: { type: 'array', maxItems: 366, items: { type: 'string', pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' } },
    outsideHours: {
      type: 'object',
      additionalProperties: false,
      description: "Used when a transfer node has no outsideHours exit: run another flow, ring another number, or say text and hang up",
      properties: {
        flowId: { type: 'string', minLength: 1, maxLength: 64 },
        number: { type: 'string', pattern: E164_PATTERN },
        text: { type: 'string', minLength: 1, maxLength: 1000 },
      },
    },
  },
} as const;

const departmentSchema = {
  type: 'object',
  properties: { name: { type: 'string' }, ...departmentBody.properties, updatedAt: { type: 'string', format: 'date-time' } },
} as const;

const nameParam = { type: 'object', required: ['name'], properties: { name: { type: 'string', pattern: NAME_PATTERN } } } as const;

export async function departmentRoutes(app: FastifyInstance, opts: DepartmentRoutesOptions): Promise<void> {
  const { flows } = opts;

  app.put(
    '/departments/:name',
    {
      schema: {
        summary: 'Create or replace a department',
        tags: ['departments'],
        params: nameParam,
        body: departmentBody,
        response: { 200: departmentSchema, 400: errorSchema },
      },
    },
    async (request: FastifyRequest<{ Params: { name: string }; Body: Omit<Department, 'name'> }>) => {
      const body = request.body;
      if (!isValidTimeZone(body.timeZone)) {
        throw createError('GW_ERR_DEPARTMENT_INVALID', `timeZone: "${body.timeZone}" is not an IANA time zone (e.g. America/New_York)`, { statusCode: 400 });
      }
      if (body.outsideHours !== undefined && Object.keys(body.outsideHours).length === 0) {
        throw createError('GW_ERR_DEPARTMENT_INVALID', 'outsideHours: give flowId, number or text', { statusCode: 400 });
      }
      return flows.putDepartment({ ...body, name: request.params.name });
    },
  );

  app.get(
    '/departments',
    {
      schema: {
        summary: 'List departments, by name, a page at a time',
        tags: ['departments'],
        querystring: pageQuerySchema('Name of the last department of the previous page'),
        response: { 200: pageSchema('departments', departmentSchema) },
      },
    },
    pageHandler('departments', (page) => flows.listDepartments(page), (d) => d.name),
  );

  app.get(
    '/departments/:name',
    { schema: { summary: 'One department', tags: ['departments'], params: nameParam, response: { 200: departmentSchema, 404: errorSchema } } },
    async (request: FastifyRequest<{ Params: { name: string } }>) => {
      const dept = await flows.getDepartment(request.params.name);
      if (dept === undefined) throw createError('GW_ERR_DEPARTMENT_NOT_FOUND', `department "${request.params.name}" does not exist`, { statusCode: 404 });
      return dept;
    },
  );

  app.delete(
    '/departments/:name',
    { schema: { summary: 'Delete a department', tags: ['departments'], params: nameParam, response: { 204: { type: 'null' }, 404: errorSchema } } },
    async (request: FastifyRequest<{ Params: { name: string } }>, reply) => {
      if (!(await flows.deleteDepartment(request.params.name))) {
        throw createError('GW_ERR_DEPARTMENT_NOT_FOUND', `department "${request.params.name}" does not exist`, { statusCode: 404 });
      }
      return reply.code(204).send();
    },
  );
}
