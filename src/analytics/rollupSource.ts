// Where the rows of a summary or volume query come from: the hourly rollup for whole UTC hours inside
// the range that are clean, the raw calls (aggregated by the same SQL, rollup.ts) for the partial
// hours at the edges and for dirty hours. Both halves yield the same columns, keyed by an hour, so a
// query sums them without knowing which is which.
import type { Queryable } from '../store/db.ts';
import { boundSql, buildWhere, type CallFilter, type SqlWhere } from './filters.ts';
import { aggregateSql, HOURLY_COLUMNS } from './rollup.ts';

const HOUR_MS = 3600_000;

const ROLLUP_COLUMNS = {
  hourly: `hour, ${HOURLY_COLUMNS.join(', ')}`,
  volume: 'hour, calls, answered, success, ended',
  reasons: 'hour, failure_reason, calls',
  amd: 'hour, amd_result, calls, decision_count, decision_sum_ms, decision_hist',
} as const;
const TABLES = { hourly: 'analytics_hourly', volume: 'analytics_hourly', reasons: 'analytics_hourly_reasons', amd: 'analytics_hourly_amd' } as const;

export interface SourceOptions {
  /** False reads only raw calls: the reference the rollup is tested against. */
  useRollup?: boolean;
  /**
   * The query groups by local hours of `tz`: the rollup's UTC hours serve only when every local hour
   * of the range is a whole UTC hour (not in zones with a :30 or :45 offset).
   */
  localHours?: boolean;
}

/** Offset of `tz` from UTC at `at`, in minutes. */
function offsetMinutes(tz: string, at: Date): number {
  const name = new Intl.DateTimeFormat('en-US', { timeZone: tz, timeZoneName: 'longOffset' }).formatToParts(at).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const m = /GMT([+-])(\d{2}):(\d{2})/.exec(name);
  return m === null ? 0 : (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
}

function wholeHourOffsets(tz: string, from: Date, to: Date): boolean {
  // Offsets change at most a few times a year; checking each day and both ends catches every change.
  for (let t = from.getTime(); t < to.getTime(); t += 24 * HOUR_MS) if (offsetMinutes(tz, new Date(t)) % 60 !== 0) return false;
  return offsetMinutes(tz, to) % 60 === 0;
}

export class RollupSource {
  readonly where: SqlWhere;
  readonly filter: CallFilter;
  /** Whole clean hours read from the rollup: [from, to), or null. */
  readonly rollup: { from: Date; to: Date; dirty: Date[] } | null;
  /** Ranges read from the raw calls. */
  readonly raw: Array<[Date, Date]>;

  private constructor(where: SqlWhere, filter: CallFilter, rollup: RollupSource['rollup'], raw: Array<[Date, Date]>) {
    this.where = where;
    this.filter = filter;
    this.rollup = rollup;
    this.raw = raw;
  }

  static async plan(db: Queryable, filter: CallFilter, opts: SourceOptions = {}): Promise<RollupSource> {
    const w = buildWhere(filter, { requireRange: true });
    const values: unknown[] = [];
    const s = boundSql(w.since ?? { instant: new Date(0).toISOString() }, 1);
    values.push(...s.values);
    const u = w.until === null ? { sql: 'now()', values: [] } : boundSql(w.until, values.length + 1);
    values.push(...u.values);
    const { rows } = await db.query<{ s: Date; u: Date; dirty: Date[] }>(
      `WITH b AS (SELECT ${s.sql} AS s, ${u.sql}::timestamptz AS u)
       SELECT s, u, ARRAY(SELECT DISTINCT d.hour FROM analytics_dirty_hours d WHERE d.hour >= b.s - interval '1 hour' AND d.hour < b.u ORDER BY 1) AS dirty FROM b`,
      values,
    );
    const row = rows[0] as { s: Date; u: Date; dirty: Date[] };
    const since = row.s;
    const until = row.u;
    const from = new Date(Math.ceil(since.getTime() / HOUR_MS) * HOUR_MS);
    const to = new Date(Math.floor(until.getTime() / HOUR_MS) * HOUR_MS);
    const usable =
      opts.useRollup !== false &&
      filter.status === undefined &&
      filter.number === undefined &&
      from < to &&
      (opts.localHours !== true || wholeHourOffsets(w.tz, since, until));
    if (!usable) return new RollupSource(w, filter, null, since < until ? [[since, until]] : []);
    const dirty = row.dirty.filter((h) => h >= from && h < to);
    const pieces: Array<[Date, Date]> = [];
    if (since < from) pieces.push([since, from]);
    for (const h of dirty) pieces.push([h, new Date(h.getTime() + HOUR_MS)]);
    if (to < until) pieces.push([to, until]);
    // Adjacent pieces become one range: fewer index range scans.
    const raw: Array<[Date, Date]> = [];
    for (const p of pieces) {
      const last = raw[raw.length - 1];
      if (last !== undefined && last[1].getTime() === p[0].getTime()) last[1] = p[1];
      else raw.push([p[0], p[1]]);
    }
    return new RollupSource(w, filter, { from, to, dirty }, raw);
  }

  /**
   * SQL yielding the rows of one rollup table over the range (the hour column is the hour start; in
   * raw rows, the hour of the request's zone), and its parameters.
   */
  sql(kind: keyof typeof TABLES): { text: string; values: unknown[] } {
    const values = [...this.where.values];
    const param = (v: unknown): string => {
      values.push(v);
      return `$${values.length}`;
    };
    const parts: string[] = [];
    if (this.rollup !== null) {
      const conditions = [`hour >= ${param(this.rollup.from)}`, `hour < ${param(this.rollup.to)}`];
      if (this.rollup.dirty.length > 0) conditions.push(`hour <> ALL(${param(this.rollup.dirty)}::timestamptz[])`);
      const f = this.filter;
      if (f.flowId !== undefined) conditions.push(`flow_id = ${param(f.flowId)}`);
      if (f.campaignId !== undefined) conditions.push(`campaign_id = ${param(f.campaignId)}`);
      if (f.direction !== undefined) conditions.push(`direction = ${param(f.direction)}`);
      parts.push(`SELECT ${ROLLUP_COLUMNS[kind]} FROM ${TABLES[kind]} WHERE ${conditions.join(' AND ')}`);
    }
    if (this.raw.length > 0) {
      const join = `JOIN unnest(${param(this.raw.map((r) => r[0]))}::timestamptz[], ${param(this.raw.map((r) => r[1]))}::timestamptz[]) AS r(lo, hi) ON created_at >= r.lo AND created_at < r.hi`;
      parts.push(aggregateSql(kind, `date_trunc('hour', created_at, ${param(this.where.tz)})`, join, this.where.conditions, false));
    }
    // With the rollup alone the raw calls' parameters stay referenced by an empty branch.
    if (this.raw.length === 0) parts.push(`${aggregateSql(kind, 'created_at', '', `FALSE AND ${this.where.conditions}`, false)}`);
    return { text: parts.map((p) => `(${p})`).join(' UNION ALL '), values };
  }
}
