// The hourly rollup (migration 008) gives exactly the figures of the raw calls: on the hand-counted
// fixtures, across both DST changes, in a zone with a half-hour offset, after a call is revised once
// it ended, and while a writer's transaction is still open during a refresh (PostgreSQL).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AMD_BOUNDS_MS, DURATION_BOUNDS_MS, refreshAll, refreshDirtyHours } from '../../src/analytics/rollup.ts';
import { RollupSource } from '../../src/analytics/rollupSource.ts';
import { summary, volume } from '../../src/analytics/summary.ts';
import type { CallFilter } from '../../src/analytics/filters.ts';
import { openTestDatabase, testDatabases, type TestDatabase } from '../helpers/db.ts';
import { insertCalls, MARCH, NEW_YORK_DST } from './fixtures.ts';

const QUERIES: Array<[string, CallFilter]> = [
  ['March', { since: '2026-03-01', until: '2026-04-01' }],
  ['partial hours at both edges', { since: '2026-03-02T10:30:00Z', until: '2026-03-04T09:10:00Z' }],
  ['campaign K1', { since: '2026-03-01', until: '2026-04-01', campaignId: 'K1' }],
  ['dialer campaign D1', { since: '2026-03-01', until: '2026-04-01', campaignId: 'D1' }],
  ['flow B outbound', { since: '2026-03-01', until: '2026-04-01', flowId: 'B', direction: 'outbound' }],
  ['New York spring-forward', { since: '2026-03-07', until: '2026-03-10', tz: 'America/New_York' }],
  ['New York fall-back', { since: '2026-10-31', until: '2026-11-03', tz: 'America/New_York', flowId: 'NY' }],
  ['Kolkata (+05:30)', { since: '2026-03-01', until: '2026-04-01', tz: 'Asia/Kolkata' }],
];

async function expectSameAsRaw(db: TestDatabase): Promise<void> {
  for (const [name, f] of QUERIES) {
    const raw = await summary(db.db.pool, f, { useRollup: false });
    expect(await summary(db.db.pool, f), `summary: ${name}`).toEqual(raw);
    for (const bucket of ['hour', 'day'] as const) {
      expect(await volume(db.db.pool, f, bucket), `volume ${bucket}: ${name}`).toEqual(await volume(db.db.pool, f, bucket, { useRollup: false }));
    }
  }
}

const dirtyCount = async (db: TestDatabase): Promise<number> => Number((await db.db.pool.query<{ n: string }>('SELECT count(*) AS n FROM analytics_dirty_hours')).rows[0]?.n);

async function openWithFixtures(kind: TestDatabase['kind']): Promise<TestDatabase> {
  const db = await openTestDatabase(kind);
  await insertCalls(db.db.pool, [...MARCH, ...NEW_YORK_DST]);
  // A call as the dialer writes it: the campaign under metadata.campaign.
  await insertCalls(db.db.pool, [{ id: 'd1', direction: 'outbound', flowId: 'B', createdAt: '2026-03-10T15:00:00Z', answeredAfterS: 3, endedAfterS: 42, status: 'completed', outcome: 'success', amd: { result: 'human', decisionMs: 1200 } }]);
  await db.db.pool.query(`UPDATE calls SET metadata = '{"campaign": {"id": "D1", "contactId": "ct1"}}'::jsonb WHERE id = 'd1'`);
  return db;
}

describe.each(testDatabases())('analytics rollup (%s)', (kind) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await openWithFixtures(kind);
  });
  afterAll(() => db?.cleanup());

  it('buckets values in SQL exactly as the bounds in rollup.ts say', async () => {
    for (const [fn, bounds] of [
      [(ms: number) => `analytics_duration_bucket(timestamptz '2026-03-01Z', timestamptz '2026-03-01Z' + interval '${ms} milliseconds')`, DURATION_BOUNDS_MS],
      [(ms: number) => `analytics_amd_bucket(${ms})`, AMD_BOUNDS_MS],
    ] as const) {
      const probes = bounds.flatMap((b, i) => [[b, i + 1], [b - 1, i]] as const);
      const { rows } = await db.db.pool.query<Record<string, number>>(`SELECT ${probes.map(([ms], i) => `${fn(ms)} AS b${i}`).join(', ')}`);
      expect(probes.map((_, i) => rows[0]?.[`b${i}`])).toEqual(probes.map(([, bucket]) => bucket));
    }
  });

  it('marks every hour with calls dirty until a refresh, and reads them raw meanwhile', async () => {
    expect(await dirtyCount(db)).toBeGreaterThan(0);
    const before = await RollupSource.plan(db.db.pool, { since: '2026-03-01', until: '2026-04-01' });
    expect(before.rollup?.dirty.length).toBeGreaterThan(0);
    await expectSameAsRaw(db);
    expect(await refreshAll(db.db.pool)).toBeGreaterThan(0);
    expect(await dirtyCount(db)).toBe(0);
    const after = await RollupSource.plan(db.db.pool, { since: '2026-03-01', until: '2026-04-01' });
    // Whole clean hours come from the rollup: nothing is read raw for a month on whole UTC days.
    expect(after.rollup).toMatchObject({ from: new Date('2026-03-01T00:00:00Z'), to: new Date('2026-04-01T00:00:00Z'), dirty: [] });
    expect(after.raw).toEqual([]);
    expect(Number((await db.db.pool.query<{ n: string }>('SELECT count(*) AS n FROM analytics_hourly')).rows[0]?.n)).toBeGreaterThan(0);
  });

  it('gives the raw figures exactly, including the hand-counted ones', async () => {
    await refreshAll(db.db.pool);
    await expectSameAsRaw(db);
    const s = await summary(db.db.pool, { since: '2026-03-01', until: '2026-03-07' });
    expect(s).toMatchObject({ calls: 7, answered: 5, ended: 6, durationMs: { avg: 75000, p50: 75000, p95: 115500 } });
    expect(s.amd.human).toEqual({ count: 1, avgDecisionMs: 1500, p50DecisionMs: 1500 });
    const d1 = await summary(db.db.pool, { since: '2026-03-01', until: '2026-04-01', campaignId: 'D1' });
    expect(d1).toMatchObject({ calls: 1, answered: 1, outcomes: { success: 1 }, durationMs: { avg: 42000, p50: 42000, p95: 42000 } });
    const fall = await volume(db.db.pool, { since: '2026-11-01', until: '2026-11-03', tz: 'America/New_York', flowId: 'NY' }, 'hour');
    expect(fall.buckets.map((b) => [b.startLocal, b.utcOffsetMinutes, b.calls])).toEqual([
      ['2026-11-01T00:00', -240, 1],
      ['2026-11-01T01:00', -240, 1],
      ['2026-11-01T01:00', -300, 1],
      ['2026-11-01T23:00', -300, 1],
    ]);
  });

  it('follows a call revised after it ended: raw at once, in the rollup after the next refresh', async () => {
    await refreshAll(db.db.pool);
    const f = { since: '2026-03-01', until: '2026-04-01' };
    const before = await summary(db.db.pool, f);
    // The outcome is re-recorded with the same values (a retried write): nothing to refresh.
    await db.db.pool.query(`UPDATE calls SET outcome = 'transferred', failure_reason = NULL WHERE id = 'c5'`);
    expect(await dirtyCount(db)).toBe(0);
    // Then revised: c5 (transferred) becomes a success with a longer talk time and an AMD verdict.
    await db.db.pool.query(`UPDATE calls SET outcome = 'success', ended_at = ended_at + interval '30 seconds', amd_result = 'human', amd_decision_ms = 900 WHERE id = 'c5'`);
    expect(await dirtyCount(db)).toBe(1);
    const revised = await summary(db.db.pool, f);
    expect(revised.outcomes.success).toBe((before.outcomes.success ?? 0) + 1);
    expect(revised.outcomes.transferred).toBe((before.outcomes.transferred ?? 0) - 1);
    expect(revised.amd.human?.count).toBe((before.amd.human?.count ?? 0) + 1);
    expect(revised.durationMs.avg).not.toBe(before.durationMs.avg);
    await expectSameAsRaw(db);
    expect(await refreshDirtyHours(db.db.pool)).toBe(1);
    expect(await summary(db.db.pool, f)).toEqual(revised);
    await expectSameAsRaw(db);
    // A deleted call leaves the rollup too.
    await db.db.pool.query(`DELETE FROM calls WHERE id = 'c6'`);
    await refreshAll(db.db.pool);
    expect((await summary(db.db.pool, f)).calls).toBe(revised.calls - 1);
    await expectSameAsRaw(db);
  });

});

// Two transactions at once: PostgreSQL only (PGlite serves one connection).
describe.each(testDatabases().filter((k) => k === 'postgres'))('analytics rollup under concurrent writes (%s)', (kind) => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await openWithFixtures(kind);
  });
  afterAll(() => db?.cleanup());

  it('keeps an hour dirty when its writer commits after a refresh began', async () => {
    await refreshAll(db.db.pool);
    const writer = await db.db.pool.connect();
    try {
      await writer.query('BEGIN');
      await writer.query(`UPDATE calls SET outcome = 'failed', failure_reason = 'flow-error' WHERE id = 'c1'`);
      // The refresh cannot see the uncommitted change nor its marker: it leaves the marker alone.
      await refreshAll(db.db.pool);
      await writer.query('COMMIT');
    } finally {
      writer.release();
    }
    expect(await dirtyCount(db)).toBe(1);
    const s = await summary(db.db.pool, { since: '2026-03-01', until: '2026-04-01' });
    expect(s.failureReasons).toContainEqual({ reason: 'flow-error', count: 1 });
    await expectSameAsRaw(db);
    await refreshAll(db.db.pool);
    expect(await summary(db.db.pool, { since: '2026-03-01', until: '2026-04-01' })).toEqual(s);
  });
});
