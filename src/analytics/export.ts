// Streams every call matching the filters as CSV or JSON Lines without holding them in memory: rows
// are read in keyset pages (created_at, id) — the same statement on PostgreSQL and PGlite, no
// server-side cursor to keep open — and flow through csv-stringify with the socket's backpressure.
import { Readable } from 'node:stream';
import { stringify } from 'csv-stringify';
import type { Queryable } from '../store/db.ts';
import { buildWhere, campaignIdSql, contactIdSql, type CallFilter } from './filters.ts';

const PAGE_ROWS = 1000;

/** The export's columns, in order (also the CSV header). Times are UTC ISO 8601; numbers are numbers. */
export const EXPORT_COLUMNS = [
  'id',
  'created_at',
  'answered_at',
  'ended_at',
  'direction',
  'carrier',
  'from_number',
  'to_number',
  'status',
  'flow_id',
  'flow_version',
  'duration_ms',
  'end_reason',
  'outcome',
  'failure_reason',
  'disposition',
  'amd_result',
  'amd_answered_by',
  'amd_confidence',
  'amd_decision_ms',
  'campaign_id',
  'contact_id',
  'recording_duration_ms',
] as const;
export type ExportRow = Record<(typeof EXPORT_COLUMNS)[number], string | number | null>;

interface Row {
  id: string;
  created_at: Date;
  answered_at: Date | null;
  ended_at: Date | null;
  direction: string;
  carrier: string;
  from_number: string;
  to_number: string;
  status: string;
  flow_id: string | null;
  flow_version: number | null;
  end_reason: string | null;
  outcome: string | null;
  failure_reason: string | null;
  disposition: string | null;
  amd_result: string | null;
  amd_answered_by: string | null;
  amd_confidence: number | null;
  amd_decision_ms: number | null;
  campaign_id: string | null;
  contact_id: string | null;
  recording_duration_ms: number | null;
}

function toExportRow(r: Row): ExportRow {
  return {
    id: r.id,
    created_at: r.created_at.toISOString(),
    answered_at: r.answered_at?.toISOString() ?? null,
    ended_at: r.ended_at?.toISOString() ?? null,
    direction: r.direction,
    carrier: r.carrier,
    from_number: r.from_number,
    to_number: r.to_number,
    status: r.status,
    flow_id: r.flow_id,
    flow_version: r.flow_version,
    duration_ms: r.answered_at !== null && r.ended_at !== null ? r.ended_at.getTime() - r.answered_at.getTime() : null,
    end_reason: r.end_reason,
    outcome: r.outcome,
    failure_reason: r.failure_reason,
    disposition: r.disposition,
    amd_result: r.amd_result,
    amd_answered_by: r.amd_answered_by,
    amd_confidence: r.amd_confidence,
    amd_decision_ms: r.amd_decision_ms,
    campaign_id: r.campaign_id,
    contact_id: r.contact_id,
    recording_duration_ms: r.recording_duration_ms,
  };
}

/** Matching calls, oldest first, one page in memory at a time. Validates the filters before the first row. */
export function exportRows(db: Queryable, filter: CallFilter, signal?: AbortSignal): AsyncGenerator<ExportRow> {
  const w = buildWhere(filter, { requireRange: false });
  return (async function* () {
    let after: { createdAt: Date; id: string } | undefined;
    for (;;) {
      if (signal?.aborted === true) return;
      const keyset = after === undefined ? '' : `${w.sql === '' ? 'WHERE' : 'AND'} (created_at, id) > ($${w.next}::timestamptz, $${w.next + 1}::text)`;
      const { rows } = await db.query<Row>(
        `SELECT id, created_at, answered_at, ended_at, direction, carrier, from_number, to_number, status, flow_id, flow_version, end_reason,
                outcome, failure_reason, disposition, amd_result, amd_answered_by, amd_confidence, amd_decision_ms,
                ${campaignIdSql()} AS campaign_id, ${contactIdSql()} AS contact_id, recording_duration_ms
           FROM calls ${w.sql} ${keyset}
          ORDER BY created_at, id LIMIT ${PAGE_ROWS}`,
        after === undefined ? w.values : [...w.values, after.createdAt, after.id],
      );
      for (const r of rows) yield toExportRow(r);
      const last = rows.at(-1);
      if (last === undefined || rows.length < PAGE_ROWS) return;
      after = { createdAt: last.created_at, id: last.id };
    }
  })();
}

/** The rows as a byte stream in the format asked for. */
export function exportStream(rows: AsyncIterable<ExportRow>, format: 'csv' | 'jsonl'): Readable {
  if (format === 'jsonl') {
    return Readable.from(
      (async function* () {
        for await (const r of rows) yield `${JSON.stringify(r)}\n`;
      })(),
    );
  }
  const csv = stringify({ header: true, columns: [...EXPORT_COLUMNS], cast: { number: (v) => String(v) } });
  const source = Readable.from(rows, { objectMode: true });
  // pipe() does not forward errors or closes: a failed query ends the download, a gone client the query loop.
  source.on('error', (err) => csv.destroy(err));
  csv.on('close', () => source.destroy());
  return source.pipe(csv);
}
