// The analytics endpoints against hand-counted fixtures (tests/analytics/fixtures.ts), on PGlite and
// PostgreSQL, including time-zone bucketing across both DST changes of 2026 in New York.
import { beforeAll, describe, expect, it } from 'vitest';
import { testDatabases } from '../helpers/db.ts';
import { gatewayForSuite } from '../helpers/gateway.ts';
import { insertCalls, MARCH, NEW_YORK_DST } from './fixtures.ts';

describe.each(testDatabases())('analytics API (%s)', (kind) => {
  const gw = gatewayForSuite(kind);
  beforeAll(async () => {
    await insertCalls(gw.tdb.db.pool, [...MARCH, ...NEW_YORK_DST]);
    const ev = (callId: string, seq: number, type: string, data: object): Promise<unknown> =>
      gw.tdb.db.pool.query(`INSERT INTO call_events (call_id, seq, media_ms, wall_time, type, data) VALUES ($1, $2, 0, now(), $3, $4::jsonb)`, [callId, seq, type, JSON.stringify(data)]);
    await ev('c1', 1, 'turn.first_audio', { turn: 1, responseLatencyMs: 800 });
    await ev('c1', 2, 'turn.first_audio', { turn: 2, responseLatencyMs: 1200 });
    await ev('c1', 3, 'turn.tts_first_byte', { turn: 1, provider: 'elevenlabs', sinceRequestWallMs: 200 });
    await ev('c1', 4, 'turn.tts_first_byte', { turn: 2, provider: 'openai', sinceRequestWallMs: 300 });
    await ev('c5', 1, 'turn.first_audio', { turn: 1, responseLatencyMs: 2000 });
    await ev('c5', 2, 'turn.barge_in', { turn: 1, latencyMs: 240 });
    await ev('c5', 3, 'turn.first_audio', { turn: 2 }); // no figure: not counted
  });

  it('summarizes a month: counts, rates, duration percentiles, AMD, failure reasons', async () => {
    const r = await gw.api('/v1/analytics/summary?since=2026-03-01&until=2026-03-07');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      range: { since: '2026-03-01', until: '2026-03-07', tz: 'UTC' },
      calls: 7,
      answered: 5,
      answerRate: 0.7143,
      ended: 6,
      outcomes: { success: 1, completed: 0, transferred: 1, 'voicemail-dropped': 1, failed: 3 },
      successRate: 0.1667,
      durationMs: { avg: 75000, p50: 75000, p95: 115500 },
      amd: {
        human: { count: 1, avgDecisionMs: 1500, p50DecisionMs: 1500 },
        machine: { count: 1, avgDecisionMs: 3000, p50DecisionMs: 3000 },
        fax: { count: 0, avgDecisionMs: null, p50DecisionMs: null },
        unknown: { count: 0, avgDecisionMs: null, p50DecisionMs: null },
      },
      transferRate: 0.2,
      abandonedRate: 0.2,
      failureReasons: [
        { reason: 'busy', count: 1 },
        { reason: 'caller-hung-up-early', count: 1 },
        { reason: 'no-answer', count: 1 },
      ],
    });
  });

  it('filters by campaign (metadata.campaignId), flow and direction', async () => {
    const k1 = await gw.api('/v1/analytics/summary?since=2026-03-01&until=2026-03-07&campaignId=K1');
    expect(k1.body).toMatchObject({ calls: 3, answered: 2, outcomes: { failed: 2, 'voicemail-dropped': 1 } });
    const b = await gw.api('/v1/analytics/summary?since=2026-03-01&until=2026-03-07&flowId=B&direction=outbound');
    expect(b.body).toMatchObject({ calls: 2, answered: 1, failureReasons: [{ reason: 'busy', count: 1 }] });
  });

  it('documents the analytics, export and recording endpoints with examples in the OpenAPI document', async () => {
    const doc = (await gw.app.inject({ method: 'GET', url: '/docs/json' })).json<{ paths: Record<string, Record<string, { summary?: string; tags?: string[]; responses?: Record<string, unknown> }>> }>();
    for (const [p, method] of [
      ['/v1/analytics/summary', 'get'],
      ['/v1/analytics/volume', 'get'],
      ['/v1/analytics/latency', 'get'],
      ['/v1/calls/export', 'get'],
      ['/v1/calls/{id}/recording', 'get'],
    ] as const) {
      const op = doc.paths[p]?.[method];
      expect(op?.summary, p).toBeTruthy();
      expect(op?.tags?.length, p).toBeGreaterThan(0);
      // An example of the answer (fastify-swagger renders schema examples as example/examples).
      expect(JSON.stringify(op?.responses?.['200']), p).toMatch(/"examples?"/);
    }
    expect(doc.paths['/v1/calls/{id}/recording']?.delete?.summary).toBeTruthy();
  });

  it('refuses bad input naming the field', async () => {
    for (const [q, field] of [
      ['tz=Mars/Olympus', 'tz'],
      ['since=yesterday', 'since'],
      ['since=2026-03-05T00:00:00Z&until=2026-03-01T00:00:00Z', 'until'],
    ] as const) {
      const r = await gw.api(`/v1/analytics/summary?${q}`);
      expect(r.status).toBe(400);
      expect(r.body.message).toContain(field);
    }
    expect((await gw.api('/v1/analytics/volume?bucket=week')).status).toBe(400);
  });

  it('counts volume per day and by hour of day', async () => {
    const r = await gw.api('/v1/analytics/volume?bucket=day&since=2026-03-01&until=2026-03-07');
    expect(r.status).toBe(200);
    expect(r.body.buckets.map((b: { startLocal: string; calls: number; answered: number; success: number; successRate: number | null }) => [b.startLocal, b.calls, b.answered, b.success, b.successRate])).toEqual([
      ['2026-03-02T00:00', 2, 2, 1, 0.5],
      ['2026-03-03T00:00', 2, 1, 0, 0],
      ['2026-03-04T00:00', 2, 1, 0, 0],
      ['2026-03-05T00:00', 1, 1, 0, null],
    ]);
    expect(r.body.byHourOfDay).toHaveLength(24);
    const hours = Object.fromEntries(r.body.byHourOfDay.filter((h: { calls: number }) => h.calls > 0).map((h: { hour: number; calls: number }) => [h.hour, h.calls]));
    expect(hours).toEqual({ 0: 1, 9: 2, 10: 1, 11: 2, 12: 1 });
  });

  it('buckets by local hour across the fall-back change: the two 01:00 hours stay apart', async () => {
    const r = await gw.api('/v1/analytics/volume?bucket=hour&since=2026-11-01&until=2026-11-03&tz=America/New_York&flowId=NY');
    expect(r.body.buckets.map((b: { start: string; startLocal: string; utcOffsetMinutes: number; calls: number }) => [b.start, b.startLocal, b.utcOffsetMinutes, b.calls])).toEqual([
      ['2026-11-01T04:00:00.000Z', '2026-11-01T00:00', -240, 1],
      ['2026-11-01T05:00:00.000Z', '2026-11-01T01:00', -240, 1],
      ['2026-11-01T06:00:00.000Z', '2026-11-01T01:00', -300, 1],
      ['2026-11-02T04:00:00.000Z', '2026-11-01T23:00', -300, 1],
    ]);
    const day = await gw.api('/v1/analytics/volume?bucket=day&since=2026-11-01&until=2026-11-03&tz=America/New_York&flowId=NY');
    // One 25-hour local day holds all four (the last is 2 Nov in UTC).
    expect(day.body.buckets.map((b: { start: string; calls: number; success: number }) => [b.start, b.calls, b.success])).toEqual([['2026-11-01T04:00:00.000Z', 4, 2]]);
    expect(day.body.byHourOfDay.find((h: { hour: number }) => h.hour === 1).calls).toBe(2);
  });

  it('buckets across spring-forward: 01:30 EST and 03:30 EDT are consecutive hours', async () => {
    const r = await gw.api('/v1/analytics/volume?bucket=hour&since=2026-03-08&until=2026-03-09&tz=America/New_York&flowId=NY');
    expect(r.body.buckets.map((b: { start: string; startLocal: string; calls: number }) => [b.start, b.startLocal, b.calls])).toEqual([
      ['2026-03-08T06:00:00.000Z', '2026-03-08T01:00', 1],
      ['2026-03-08T07:00:00.000Z', '2026-03-08T03:00', 1],
    ]);
  });

  it('reports agent latency percentiles overall, per flow and per TTS provider', async () => {
    const r = await gw.api('/v1/analytics/latency?since=2026-03-01&until=2026-03-07');
    expect(r.status).toBe(200);
    const pick = (rows: Array<Record<string, unknown>>) => rows.map((x) => [x.metric, x.flowId, x.provider, x.count, x.p50]);
    expect(pick(r.body.overall)).toEqual([
      ['bargeInMs', null, null, 1, 240],
      ['responseMs', null, null, 3, 1200],
      ['ttsFirstByteMs', null, null, 2, 250],
    ]);
    expect(pick(r.body.byFlow)).toEqual([
      ['bargeInMs', 'B', null, 1, 240],
      ['responseMs', 'A', null, 2, 1000],
      ['responseMs', 'B', null, 1, 2000],
      ['ttsFirstByteMs', 'A', null, 2, 250],
    ]);
    expect(pick(r.body.byProvider)).toEqual([
      ['ttsFirstByteMs', null, 'elevenlabs', 1, 200],
      ['ttsFirstByteMs', null, 'openai', 1, 300],
    ]);
  });
});
