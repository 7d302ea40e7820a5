// /v1/campaigns/{id}/contacts: import (CSV streamed, or JSON), list with filters and paging, one
// contact with its attempts, and streamed CSV exports of contacts and attempts.
import { Readable } from 'node:stream';
import { stringify } from 'csv-stringify';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { createError } from '../errors.ts';
import { actorOf } from './actor.ts';
import { importCsv, importJson, type RawContact } from './import.ts';
import { ATTEMPT, CONTACT, ID_PARAMS, IMPORT_REPORT, PAGE_QUERY, TAG } from './schemas.ts';
import { CONTACT_STATES, toAttempt, toContact, type AttemptRow, type ContactRow, type ContactState } from './records.ts';
import type { CampaignStore } from './store.ts';

const MAX_JSON_CONTACTS = 10_000;
const EXPORT_PAGE = 1000;

export async function contactRoutes(api: FastifyInstance, deps: { store: CampaignStore }): Promise<void> {
  const { store } = deps;

  api.post<{ Params: { id: string } }>(
    '/campaigns/:id/contacts',
    {
      bodyLimit: 16 * 1024 * 1024,
      schema: {
        summary: 'Import contacts: CSV (text/csv, streamed) or JSON {contacts:[...]}',
        description:
          'CSV columns: phone (required), name, priority, timezone, consent (none|express|written), consentSource, consentAt; any other column becomes a flow variable ({{vars.column}}). ' +
          'Numbers are normalized to E.164 with the campaign\'s default country; invalid rows are reported by line with the reason and the valid rows kept; duplicates within the campaign are merged; numbers on the do-not-call list are kept but never dialed. ' +
          'The time zone of each contact comes from its timezone column, else its number, else the campaign; timezoneSources counts each rule.',
        tags: [TAG],
        params: ID_PARAMS,
        consumes: ['text/csv', 'application/json'],
        response: { 200: IMPORT_REPORT },
      },
    },
    async (request) => {
      const campaign = await store.mustGet(request.params.id);
      if (campaign.state === 'stopped' || campaign.state === 'completed') {
        throw createError('GW_ERR_CAMPAIGN_ENDED', `campaign is ${campaign.state}; import into a new campaign`, { statusCode: 409 });
      }
      const opts = { campaignId: campaign.id, defaultCountry: campaign.defaultCountry, campaignTimezone: campaign.timezone };
      const body = request.body;
      const report =
        body instanceof Readable
          ? await importCsv(store.db, body, opts)
          : await importJson(store.db, jsonContacts(body), opts);
      await store.addEvent(campaign.id, actorOf(request), 'contacts.imported', { accepted: report.accepted, invalid: report.invalid, duplicate: report.duplicate, doNotCall: report.doNotCall });
      return report;
    },
  );

  api.get<{ Params: { id: string }; Querystring: { state?: ContactState; limit: number; cursor?: string } }>(
    '/campaigns/:id/contacts',
    {
      schema: {
        summary: 'List a campaign\'s contacts, filtered by state',
        tags: [TAG],
        params: ID_PARAMS,
        querystring: { type: 'object', additionalProperties: false, properties: { state: { type: 'string', enum: [...CONTACT_STATES] }, ...PAGE_QUERY } },
        response: { 200: { type: 'object', properties: { contacts: { type: 'array', items: CONTACT }, nextCursor: { type: ['string', 'null'] } } } },
      },
    },
    async (request) => {
      await store.mustGet(request.params.id);
      return store.listContacts(request.params.id, request.query);
    },
  );

  api.get<{ Params: { id: string } }>(
    '/campaigns/:id/contacts/export',
    { schema: { summary: 'All contacts as CSV (streamed)', tags: [TAG], params: ID_PARAMS, produces: ['text/csv'] } },
    async (request, reply) => {
      await store.mustGet(request.params.id);
      const columns = ['id', 'phone', 'name', 'priority', 'timezone', 'timezoneSource', 'consent', 'state', 'disposition', 'attempts', 'lastOutcome', 'nextAttemptAt', 'sourceLine', 'variables'];
      const rows = pages<ContactRow>(store, 'SELECT * FROM campaign_contacts WHERE campaign_id = $1 AND id > $2 ORDER BY id LIMIT $3', request.params.id, (r) => {
        const c = toContact(r);
        return [c.id, c.phone, c.name, c.priority, c.timezone, c.timezoneSource, c.consent, c.state, c.disposition, c.attempts, c.lastOutcome, c.nextAttemptAt, c.sourceLine, JSON.stringify(c.variables)];
      });
      return sendCsv(reply, `campaign-${request.params.id}-contacts.csv`, columns, rows);
    },
  );

  api.get<{ Params: { id: string } }>(
    '/campaigns/:id/attempts/export',
    { schema: { summary: 'All dial attempts as CSV (streamed), each with its call id', tags: [TAG], params: ID_PARAMS, produces: ['text/csv'] } },
    async (request, reply) => {
      await store.mustGet(request.params.id);
      const columns = ['id', 'contactId', 'attempt', 'phone', 'callerId', 'callId', 'carrierCallId', 'instanceId', 'state', 'outcome', 'amdResult', 'disposition', 'abandoned', 'voicemailLeft', 'createdAt', 'placedAt', 'settledAt'];
      const rows = pages<AttemptRow>(store, 'SELECT * FROM campaign_attempts WHERE campaign_id = $1 AND id > $2 ORDER BY id LIMIT $3', request.params.id, (r) => {
        const a = toAttempt(r);
        return [a.id, a.contactId, a.attempt, a.phone, a.callerId, a.callId, a.carrierCallId, a.instanceId, a.state, a.outcome, a.amdResult, a.disposition, a.abandoned, a.voicemailLeft, a.createdAt, a.placedAt, a.settledAt];
      });
      return sendCsv(reply, `campaign-${request.params.id}-attempts.csv`, columns, rows);
    },
  );

  api.get<{ Params: { id: string; contactId: string } }>(
    '/campaigns/:id/contacts/:contactId',
    {
      schema: {
        summary: 'One contact with its attempts (each linked to its call record)',
        tags: [TAG],
        params: { type: 'object', required: ['id', 'contactId'], properties: { id: ID_PARAMS.properties.id, contactId: { type: 'string', maxLength: 64 } } },
        response: { 200: { type: 'object', properties: { contact: CONTACT, attempts: { type: 'array', items: ATTEMPT } } } },
      },
    },
    async (request) => {
      const found = await store.getContact(request.params.id, request.params.contactId);
      if (found === null) throw createError('GW_ERR_CAMPAIGN_CONTACT_NOT_FOUND', `contactId: no contact ${request.params.contactId} in campaign ${request.params.id}`, { statusCode: 404 });
      return found;
    },
  );
}

function jsonContacts(body: unknown): RawContact[] {
  const contacts = (body as { contacts?: unknown } | null)?.contacts;
  if (!Array.isArray(contacts)) throw createError('GW_ERR_CAMPAIGN_IMPORT', 'contacts: send text/csv, or JSON {"contacts": [{"phone": "+14155550123", "name": "Ada"}]}', { statusCode: 400 });
  if (contacts.length > MAX_JSON_CONTACTS) throw createError('GW_ERR_CAMPAIGN_IMPORT', `contacts: at most ${MAX_JSON_CONTACTS} per JSON request; send larger lists as CSV`, { statusCode: 400 });
  return contacts.map((c: unknown, i) => {
    if (c === null || typeof c !== 'object' || Array.isArray(c)) throw createError('GW_ERR_CAMPAIGN_IMPORT', `contacts[${i}]: must be an object with a phone`, { statusCode: 400 });
    const o = c as Record<string, unknown>;
    const variables = o.variables;
    if (variables !== undefined && (variables === null || typeof variables !== 'object' || Array.isArray(variables))) {
      throw createError('GW_ERR_CAMPAIGN_IMPORT', `contacts[${i}].variables: must be an object`, { statusCode: 400 });
    }
    return { phone: o.phone, name: o.name, priority: o.priority, timezone: o.timezone, consent: o.consent, consentSource: o.consentSource, consentAt: o.consentAt, variables: variables as Record<string, unknown> | undefined };
  });
}

/** Keyset pages of one campaign's rows, mapped to CSV records, read as the client consumes them. */
async function* pages<R extends { id: string }>(store: CampaignStore, sql: string, campaignId: string, map: (r: R) => unknown[]): AsyncGenerator<unknown[]> {
  let after = '';
  for (;;) {
    const { rows } = await store.db.query<R>(sql, [campaignId, after, EXPORT_PAGE]);
    for (const r of rows) yield map(r);
    const last = rows.at(-1);
    if (last === undefined || rows.length < EXPORT_PAGE) return;
    after = last.id;
  }
}

function sendCsv(reply: FastifyReply, filename: string, columns: string[], rows: AsyncIterable<unknown[]>): FastifyReply {
  const csv = stringify({ header: true, columns, cast: { boolean: (b) => (b ? 'true' : 'false') } });
  // Readable.from pulls a page only when the socket drains: memory stays flat for any size.
  Readable.from(rows).pipe(csv);
  return reply.header('content-type', 'text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${filename}"`).send(csv);
}
