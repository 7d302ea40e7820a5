// GET /v1/analytics/latency: the agent's per-turn figures already on the timeline, as percentiles
// overall, per flow and per TTS provider: caller speech end → first audio (media clock), LLM first
// token and TTS first byte (wall clock from request), and barge-in (speech start → clear).
import type { Queryable } from '../store/db.ts';
import { buildWhere, type CallFilter } from './filters.ts';

export const LATENCY_METRICS = {
  responseMs: { event: 'turn.first_audio', field: 'responseLatencyMs' },
  llmFirstTokenMs: { event: 'turn.llm_first_token', field: 'sinceRequestWallMs' },
  ttsFirstByteMs: { event: 'turn.tts_first_byte', field: 'sinceRequestWallMs' },
  bargeInMs: { event: 'turn.barge_in', field: 'latencyMs' },
} as const;
export type LatencyMetric = keyof typeof LATENCY_METRICS;

export interface LatencyRow {
  metric: LatencyMetric;
  /** null on the overall and per-provider rows. */
  flowId: string | null;
  /** TTS provider (ttsFirstByteMs only); null elsewhere. */
  provider: string | null;
  count: number;
  p50: number | null;
  p90: number | null;
  p95: number | null;
  p99: number | null;
  max: number | null;
}

export interface Latency {
  overall: LatencyRow[];
  byFlow: LatencyRow[];
  byProvider: LatencyRow[];
}

const r1 = (v: unknown): number | null => (v === null || v === undefined ? null : Math.round(Number(v) * 10) / 10);

export async function latency(db: Queryable, filter: CallFilter): Promise<Latency> {
  const w = buildWhere(filter, { requireRange: true, alias: 'c' });
  const cases = Object.entries(LATENCY_METRICS)
    .map(([name, m]) => `WHEN '${m.event}' THEN '${name}'`)
    .join(' ');
  const values = Object.values(LATENCY_METRICS)
    .map((m) => `WHEN '${m.event}' THEN (e.data->>'${m.field}')`)
    .join(' ');
  const types = Object.values(LATENCY_METRICS)
    .map((m) => `'${m.event}'`)
    .join(', ');
  const { rows } = await db.query<{ metric: LatencyMetric; flow_id: string | null; provider: string | null; g_flow: number; g_provider: number; count: number; p: number[] | null; max: number | null }>(
    `WITH v AS (
       SELECT CASE e.type ${cases} END AS metric, c.flow_id, e.data->>'provider' AS provider,
              (CASE e.type ${values} END)::double precision AS ms
         FROM calls c JOIN call_events e ON e.call_id = c.id
         ${w.sql} ${w.sql === '' ? 'WHERE' : 'AND'} e.type IN (${types})
           AND jsonb_typeof(e.data->(CASE e.type ${Object.values(LATENCY_METRICS).map((m) => `WHEN '${m.event}' THEN '${m.field}'`).join(' ')} END)) = 'number'
     )
     SELECT metric, flow_id, provider, GROUPING(flow_id) AS g_flow, GROUPING(provider) AS g_provider, count(*)::int AS count,
            percentile_cont(ARRAY[0.5, 0.9, 0.95, 0.99]::double precision[]) WITHIN GROUP (ORDER BY ms) AS p, max(ms) AS max
       FROM v GROUP BY GROUPING SETS ((metric), (metric, flow_id), (metric, provider))
      ORDER BY metric, flow_id NULLS FIRST, provider NULLS FIRST`,
    w.values,
  );
  const out: Latency = { overall: [], byFlow: [], byProvider: [] };
  for (const x of rows) {
    const row: LatencyRow = {
      metric: x.metric,
      flowId: x.g_flow === 0 ? x.flow_id : null,
      provider: x.g_provider === 0 ? x.provider : null,
      count: x.count,
      p50: r1(x.p?.[0]),
      p90: r1(x.p?.[1]),
      p95: r1(x.p?.[2]),
      p99: r1(x.p?.[3]),
      max: r1(x.max),
    };
    if (x.g_flow === 1 && x.g_provider === 1) out.overall.push(row);
    else if (x.g_flow === 0) out.byFlow.push(row);
    else if (x.provider !== null) out.byProvider.push(row);
  }
  return out;
}
