// GET /v1/analytics/summary, /volume, /latency: what a team asks every morning, computed in SQL.
import type { FastifyInstance } from 'fastify';
import { filterQueryProperties, type CallFilter } from '../analytics/filters.ts';
import { latency } from '../analytics/latency.ts';
import { summary, volume } from '../analytics/summary.ts';
import type { Queryable } from '../store/db.ts';

const errorSchema = { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } } as const;
const rateSchema = { type: ['number', 'null'], minimum: 0, maximum: 1 } as const;
const nullableNumber = { type: ['number', 'null'] } as const;

const querystring = { type: 'object', additionalProperties: false, properties: filterQueryProperties } as const;

const summarySchema = {
  type: 'object',
  properties: {
    range: { type: 'object', properties: { since: { type: ['string', 'null'] }, until: { type: ['string', 'null'] }, tz: { type: 'string' } } },
    calls: { type: 'integer' },
    answered: { type: 'integer' },
    answerRate: rateSchema,
    ended: { type: 'integer' },
    outcomes: { type: 'object', additionalProperties: { type: 'integer' } },
    successRate: rateSchema,
    durationMs: { type: 'object', properties: { avg: nullableNumber, p50: nullableNumber, p95: nullableNumber } },
    amd: {
      type: 'object',
      additionalProperties: { type: 'object', properties: { count: { type: 'integer' }, avgDecisionMs: nullableNumber, p50DecisionMs: nullableNumber } },
    },
    transferRate: rateSchema,
    abandonedRate: rateSchema,
    failureReasons: { type: 'array', items: { type: 'object', properties: { reason: { type: 'string' }, count: { type: 'integer' } } } },
  },
  examples: [
    {
      range: { since: '2026-03-01', until: '2026-04-01', tz: 'Europe/Paris' },
      calls: 1200,
      answered: 800,
      answerRate: 0.6667,
      ended: 1198,
      outcomes: { success: 420, completed: 200, transferred: 90, 'voicemail-dropped': 110, failed: 378 },
      successRate: 0.3506,
      durationMs: { avg: 61234.5, p50: 48000, p95: 180000 },
      amd: { human: { count: 700, avgDecisionMs: 1800.2, p50DecisionMs: 1650 }, machine: { count: 150, avgDecisionMs: 3100, p50DecisionMs: 2900 }, fax: { count: 2, avgDecisionMs: 900, p50DecisionMs: 900 }, unknown: { count: 8, avgDecisionMs: 30000, p50DecisionMs: 30000 } },
      transferRate: 0.1125,
      abandonedRate: 0.05,
      failureReasons: [{ reason: 'no-answer', count: 250 }, { reason: 'busy', count: 80 }],
    },
  ],
} as const;

const volumeSchema = {
  type: 'object',
  properties: {
    bucket: { type: 'string', enum: ['hour', 'day'] },
    tz: { type: 'string' },
    buckets: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          start: { type: 'string' },
          startLocal: { type: 'string' },
          utcOffsetMinutes: { type: 'integer' },
          calls: { type: 'integer' },
          answered: { type: 'integer' },
          success: { type: 'integer' },
          successRate: rateSchema,
        },
      },
    },
    byHourOfDay: {
      type: 'array',
      items: {
        type: 'object',
        properties: { hour: { type: 'integer' }, calls: { type: 'integer' }, answered: { type: 'integer' }, answerRate: rateSchema, success: { type: 'integer' }, successRate: rateSchema },
      },
    },
  },
  examples: [
    {
      bucket: 'day',
      tz: 'America/New_York',
      buckets: [{ start: '2026-03-08T05:00:00.000Z', startLocal: '2026-03-08T00:00', utcOffsetMinutes: -300, calls: 40, answered: 25, success: 12, successRate: 0.3 }],
      byHourOfDay: [{ hour: 9, calls: 12, answered: 9, answerRate: 0.75, success: 4, successRate: 0.3333 }],
    },
  ],
} as const;

const latencyRow = {
  type: 'object',
  properties: {
    metric: { type: 'string', enum: ['responseMs', 'llmFirstTokenMs', 'ttsFirstByteMs', 'bargeInMs'] },
    flowId: { type: ['string', 'null'] },
    provider: { type: ['string', 'null'] },
    count: { type: 'integer' },
    p50: nullableNumber,
    p90: nullableNumber,
    p95: nullableNumber,
    p99: nullableNumber,
    max: nullableNumber,
  },
} as const;

const latencySchema = {
  type: 'object',
  properties: { overall: { type: 'array', items: latencyRow }, byFlow: { type: 'array', items: latencyRow }, byProvider: { type: 'array', items: latencyRow } },
  examples: [
    {
      overall: [{ metric: 'responseMs', flowId: null, provider: null, count: 310, p50: 820, p90: 1210, p95: 1400, p99: 2100, max: 3050 }],
      byFlow: [{ metric: 'responseMs', flowId: 'booking', provider: null, count: 310, p50: 820, p90: 1210, p95: 1400, p99: 2100, max: 3050 }],
      byProvider: [{ metric: 'ttsFirstByteMs', flowId: null, provider: 'elevenlabs', count: 300, p50: 180, p90: 260, p95: 300, p99: 410, max: 900 }],
    },
  ],
} as const;

export async function analyticsRoutes(api: FastifyInstance, deps: { db: Queryable }): Promise<void> {
  api.get<{ Querystring: CallFilter }>(
    '/analytics/summary',
    {
      schema: {
        summary: 'Calls, answer and success rates, durations, AMD, transfers, abandonment and failure reasons over a range',
        description: 'Range defaults to the 30 days before `until` (or now). Rates are fractions 0–1, null when their denominator is 0. The campaign filter matches the dialer calls (metadata.campaign.id) and calls placed with metadata.campaignId.',
        tags: ['analytics'],
        querystring,
        response: { 200: summarySchema, 400: errorSchema },
      },
    },
    async (request) => summary(deps.db, request.query),
  );

  api.get<{ Querystring: CallFilter & { bucket?: 'hour' | 'day' } }>(
    '/analytics/volume',
    {
      schema: {
        summary: 'Call volume, answers and success per hour or day, and by hour of day (0–23) in a time zone',
        tags: ['analytics'],
        querystring: { ...querystring, properties: { ...filterQueryProperties, bucket: { type: 'string', enum: ['hour', 'day'], default: 'day' } } },
        response: { 200: volumeSchema, 400: errorSchema },
      },
    },
    async (request) => volume(deps.db, request.query, request.query.bucket ?? 'day'),
  );

  api.get<{ Querystring: CallFilter }>(
    '/analytics/latency',
    {
      schema: {
        summary: "The agent's per-turn latency percentiles (response, LLM first token, TTS first byte, barge-in), overall, per flow and per TTS provider",
        tags: ['analytics'],
        querystring,
        response: { 200: latencySchema, 400: errorSchema },
      },
    },
    async (request) => latency(deps.db, request.query),
  );
}
