// POST /v1/campaigns/{id}/contacts/{contactId}/resolve: a person decides what happens to a contact held
// for review (review.ts). Listing the contacts in review is GET .../contacts?state=review (paged).
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { actorOf } from './actor.ts';
import { resolveReview, REVIEW_ACTIONS, type ReviewAction } from './review.ts';
import { CONTACT, ID_PARAMS, TAG } from './schemas.ts';

interface ResolveBody {
  action: ReviewAction;
  disposition?: string;
  at?: string;
  note?: string;
}

/** `wake` tells this process's dialer that a campaign may be running again (a requeue reopens a completed one). */
export async function reviewRoutes(api: FastifyInstance, deps: { pool: pg.Pool; wake?: () => void }): Promise<void> {
  api.post<{ Params: { id: string; contactId: string }; Body: ResolveBody }>(
    '/campaigns/:id/contacts/:contactId/resolve',
    {
      config: { role: 'supervisor' },
      schema: {
        summary: 'Resolve a contact held for review: mark it done, requeue it, or put it on the do-not-call list',
        description:
          'Only a contact in state `review` (its last call\'s outcome is unknown) can be resolved, once (409 GW_ERR_CAMPAIGN_NOT_IN_REVIEW otherwise). ' +
          '`done` closes it with `disposition` (default `reviewed`). `requeue` makes it due at `at` (default now) — but never before its last call is ' +
          'certainly over (ended with a carrier status, or ring time + maxCallS after it was dialed): `notBefore` says when that is, and nextAttemptAt honours it. ' +
          '`do-not-call` adds the number to the do-not-call list (source `review`) and closes the contact. Recorded in the campaign\'s events and the audit log.',
        tags: [TAG],
        params: { type: 'object', required: ['id', 'contactId'], properties: { id: ID_PARAMS.properties.id, contactId: { type: 'string', maxLength: 64 } } },
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['action'],
          properties: {
            action: { type: 'string', enum: [...REVIEW_ACTIONS] },
            disposition: { type: 'string', minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9][A-Za-z0-9 _.:-]*$' },
            at: { type: 'string', format: 'date-time' },
            note: { type: 'string', maxLength: 500 },
          },
          examples: [{ action: 'requeue', note: 'carrier confirmed the call never rang' }, { action: 'done', disposition: 'reached-by-email' }],
        },
        response: { 200: { type: 'object', properties: { contact: CONTACT, notBefore: { type: ['string', 'null'] } } } },
      },
    },
    async (request) => {
      const b = request.body;
      const resolved = await resolveReview(
        deps.pool,
        request.params.id,
        request.params.contactId,
        { action: b.action, ...(b.disposition === undefined ? {} : { disposition: b.disposition }), ...(b.at === undefined ? {} : { at: new Date(b.at) }), ...(b.note === undefined ? {} : { note: b.note }) },
        actorOf(request),
      );
      if (b.action === 'requeue') deps.wake?.();
      return resolved;
    },
  );
}
