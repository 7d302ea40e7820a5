// The call filters shared by the analytics queries and the export, as one parameterized WHERE clause.
// Dates are instants (ISO 8601 with an offset) or calendar dates (YYYY-MM-DD) read in the request's
// time zone, so `since=2026-03-01&until=2026-04-01&tz=Europe/Paris` is March in Paris.
import { createError } from '../errors.ts';
import { isCallStatus } from '../store/calls.ts';

export interface CallFilter {
  since?: string;
  until?: string;
  /** IANA zone for calendar dates and buckets; default UTC. */
  tz?: string;
  flowId?: string;
  /** Matches calls of this campaign (metadata.campaign.id, set by the dialer, or metadata.campaignId). */
  campaignId?: string;
  direction?: 'inbound' | 'outbound';
  /** One status or a comma-separated list. */
  status?: string;
  /** Either party, exactly. */
  number?: string;
}

/**
 * A call's campaign: the dialer writes `metadata.campaign.id` (src/campaign/engine.ts); calls placed
 * through POST /v1/calls may carry a flat `metadata.campaignId`. One expression, used by the filters,
 * the rollup and the export (migration 008 indexes it).
 */
export const campaignIdSql = (alias = ''): string => `COALESCE(${alias}metadata->>'campaignId', ${alias}metadata->'campaign'->>'id')`;
export const contactIdSql = (alias = ''): string => `COALESCE(${alias}metadata->>'contactId', ${alias}metadata->'campaign'->>'contactId')`;

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
/** The default range when `since` is absent: the last 30 days. */
const DEFAULT_RANGE_MS = 30 * 24 * 3600 * 1000;

export function badQuery(field: string, message: string): Error {
  return createError('GW_ERR_ANALYTICS_BAD_QUERY', `${field}: ${message}`, { statusCode: 400, details: { field } });
}

/** Throws a 400 naming `tz` unless it is an IANA zone name this runtime knows. */
export function checkTimeZone(tz: string): string {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
  } catch {
    throw badQuery('tz', `unknown time zone "${tz}": use an IANA name such as Europe/Paris or UTC`);
  }
  return tz;
}

export interface SqlWhere {
  sql: string;
  values: unknown[];
  /** Next free parameter number. */
  next: number;
  tz: string;
  /** The range's bounds on their own (null when open), for queries that need them without the rest. */
  since: RangeBound | null;
  until: RangeBound | null;
  /** The conditions without the WHERE keyword ('TRUE' for none). */
  conditions: string;
}

/** A calendar date (midnight in tz) or an instant. */
export type RangeBound = { date: string; tz: string } | { instant: string };

/** `bound` as a timestamptz SQL expression whose parameters are numbered from `first`. */
export function boundSql(bound: RangeBound, first: number): { sql: string; values: unknown[] } {
  return 'date' in bound ? { sql: `($${first}::timestamp AT TIME ZONE $${first + 1})`, values: [bound.date, bound.tz] } : { sql: `$${first}::timestamptz`, values: [bound.instant] };
}

/**
 * `requireRange`: analytics always scan a bounded range (default: the last 30 days); the export scans
 * whatever the filters say.
 */
export function buildWhere(f: CallFilter, opts: { requireRange: boolean; alias?: string }): SqlWhere {
  const a = opts.alias === undefined ? '' : `${opts.alias}.`;
  const tz = checkTimeZone(f.tz ?? 'UTC');
  const values: unknown[] = [];
  const conditions: string[] = [];
  const param = (v: unknown): string => {
    values.push(v);
    return `$${values.length}`;
  };
  const instant = (field: 'since' | 'until', v: string): string => {
    if (DATE_ONLY.test(v)) {
      if (Number.isNaN(Date.parse(`${v}T00:00:00Z`))) throw badQuery(field, `"${v}" is not a date`);
      return `(${param(v)}::timestamp AT TIME ZONE ${param(tz)})`;
    }
    if (Number.isNaN(Date.parse(v))) throw badQuery(field, `"${v}" is not an ISO 8601 date-time or YYYY-MM-DD date`);
    return `${param(new Date(v).toISOString())}::timestamptz`;
  };
  let since = f.since;
  if (since === undefined && opts.requireRange) since = new Date((f.until !== undefined && !DATE_ONLY.test(f.until) ? Date.parse(f.until) : Date.now()) - DEFAULT_RANGE_MS).toISOString();
  const bound = (v: string): RangeBound => (DATE_ONLY.test(v) ? { date: v, tz } : { instant: new Date(v).toISOString() });
  if (since !== undefined) conditions.push(`${a}created_at >= ${instant('since', since)}`);
  if (f.until !== undefined) conditions.push(`${a}created_at < ${instant('until', f.until)}`);
  if (f.since !== undefined && f.until !== undefined && !DATE_ONLY.test(f.since) && !DATE_ONLY.test(f.until) && Date.parse(f.until) <= Date.parse(f.since)) {
    throw badQuery('until', 'must be after since');
  }
  if (f.flowId !== undefined) conditions.push(`${a}flow_id = ${param(f.flowId)}`);
  if (f.campaignId !== undefined) conditions.push(`${campaignIdSql(a)} = ${param(f.campaignId)}`);
  if (f.direction !== undefined) conditions.push(`${a}direction = ${param(f.direction)}`);
  if (f.number !== undefined) {
    const p = param(f.number);
    conditions.push(`(${a}from_number = ${p} OR ${a}to_number = ${p})`);
  }
  if (f.status !== undefined) {
    const list = f.status.split(',');
    const bad = list.filter((s) => !isCallStatus(s));
    if (bad.length > 0) throw badQuery('status', `unknown value(s) ${bad.join(', ')}`);
    conditions.push(`${a}status = ANY(${param(list)}::text[])`);
  }
  return {
    sql: conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '',
    conditions: conditions.length > 0 ? conditions.join(' AND ') : 'TRUE',
    values,
    next: values.length + 1,
    tz,
    since: since === undefined ? null : bound(since),
    until: f.until === undefined ? null : bound(f.until),
  };
}

/** Query-string schema of the shared filters (for route schemas and the OpenAPI document). */
export const filterQueryProperties = {
  since: { type: 'string', maxLength: 40, description: 'ISO 8601 instant or YYYY-MM-DD (midnight in tz); default 30 days before until/now for analytics', examples: ['2026-03-01'] },
  until: { type: 'string', maxLength: 40, description: 'exclusive end: ISO 8601 instant or YYYY-MM-DD in tz', examples: ['2026-04-01'] },
  tz: { type: 'string', maxLength: 64, description: 'IANA time zone for calendar dates and buckets (default UTC)', examples: ['Europe/Paris'] },
  flowId: { type: 'string', maxLength: 64 },
  campaignId: { type: 'string', maxLength: 64, description: 'calls of this campaign (metadata.campaign.id as the dialer writes it, or metadata.campaignId)', examples: ['spring-renewals'] },
  direction: { type: 'string', enum: ['inbound', 'outbound'] },
} as const;
