// GET /v1/calls/export?format=csv|jsonl: every call matching the list filters, streamed.
import type { FastifyInstance } from 'fastify';
import { exportRows, exportStream } from '../analytics/export.ts';
import { filterQueryProperties, type CallFilter } from '../analytics/filters.ts';
import type { Queryable } from '../store/db.ts';

export async function exportRoutes(api: FastifyInstance, deps: { db: Queryable }): Promise<void> {
  api.get<{ Querystring: CallFilter & { format?: 'csv' | 'jsonl' } }>(
    '/calls/export',
    {
      schema: {
        summary: 'Export every matching call (outcome, AMD, duration, disposition, campaign/contact) as CSV or JSON Lines, streamed',
        description:
          'Same filters as GET /v1/calls plus flowId, campaignId and tz (for YYYY-MM-DD dates). Oldest first; times are UTC ISO 8601; empty CSV cells are nulls. Columns: id, created_at, answered_at, ended_at, direction, carrier, from_number, to_number, status, flow_id, flow_version, duration_ms, end_reason, outcome, failure_reason, disposition, amd_result, amd_answered_by, amd_confidence, amd_decision_ms, campaign_id, contact_id, recording_duration_ms.',
        tags: ['calls'],
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            format: { type: 'string', enum: ['csv', 'jsonl'], default: 'csv' },
            ...filterQueryProperties,
            status: { type: 'string', pattern: '^[a-z-]+(,[a-z-]+)*$', description: 'one status or a comma-separated list' },
            number: { type: 'string', pattern: '^\\+?[0-9A-Za-z:@._-]{1,64}$', description: 'matches the caller or the called number' },
          },
        },
        response: {
          200: {
            description: 'The file (text/csv or application/x-ndjson)',
            type: 'string',
            examples: ['id,created_at,answered_at,ended_at,direction,...\nc1,2026-03-02T10:00:00.000Z,2026-03-02T10:00:05.000Z,2026-03-02T10:01:05.000Z,inbound,...\n'],
          },
        },
      },
    },
    async (request, reply) => {
      const format = request.query.format ?? 'csv';
      const { format: _f, ...filter } = request.query;
      const abort = new AbortController();
      request.raw.on('close', () => abort.abort());
      const rows = exportRows(deps.db, filter, abort.signal); // throws a 400 on a bad filter, before any byte is sent
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      return reply
        .header('content-type', format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8')
        .header('content-disposition', `attachment; filename="calls-${stamp}.${format}"`)
        .send(exportStream(rows, format));
    },
  );
}
