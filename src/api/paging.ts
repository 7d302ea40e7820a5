// Keyset paging for list endpoints: `?limit=` (default 100, at most 500) and `?after=<key of the last
// item seen>`; the answer's `next` is the key to ask after, or null on the last page. Lists grow
// with use (numbers, flows, departments), so no endpoint returns an unbounded array.
import type { FastifyRequest } from 'fastify';
export const PAGE_DEFAULT_LIMIT = 100;
export const PAGE_MAX_LIMIT = 500;

export interface PageRequest {
  after?: string | undefined;
  limit: number;
}

export const pageQuerySchema = (afterDescription: string) => ({
  type: 'object',
  additionalProperties: false,
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: PAGE_MAX_LIMIT, default: PAGE_DEFAULT_LIMIT, description: 'Items per page' },
    after: { type: 'string', minLength: 1, maxLength: 200, description: afterDescription },
  },
});

export const nextSchema = { type: ['string', 'null'], description: 'Pass as `after` for the next page; null on the last page' } as const;

/** Store reads fetch limit + 1 rows: the extra one only says whether there is a next page. */
export function toPage<T>(rows: T[], limit: number, key: (item: T) => string): { items: T[]; next: string | null } {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, next: rows.length > limit && last !== undefined ? key(last) : null };
}

/** The response of a list endpoint: `{ <name>: [items], next }`. */
export const pageSchema = (name: string, items: object) => ({ type: 'object', properties: { [name]: { type: 'array', items }, next: nextSchema } });

/** The handler of a list endpoint: reads `limit + 1` items after the key asked for and answers them as `name`. */
export function pageHandler<T>(name: string, read: (page: PageRequest) => Promise<T[]>, key: (item: T) => string) {
  return async (request: FastifyRequest<{ Querystring: PageRequest }>): Promise<Record<string, T[] | string | null>> => {
    const { limit, after } = request.query;
    const page = toPage(await read({ after, limit: limit + 1 }), limit, key);
    return { [name]: page.items, next: page.next };
  };
}
