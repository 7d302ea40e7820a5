// Migration 009 dropped two indexes of calls that every live call's update paid for (README, "The cost
// of a call"). The queries they looked as if they served must keep an index range, not read the table.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openTestDatabase, testDatabases, type TestDatabase } from '../helpers/db.ts';

const CALLS = 4000;
const DAY_MS = 86_400_000;
const T0 = Date.parse('2026-11-01T00:00:00.000Z');

async function plan(t: TestDatabase, sql: string): Promise<string> {
  const { rows } = await t.db.pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`);
  return rows.map((r) => r['QUERY PLAN']).join('\n');
}

describe.each(testDatabases())('indexes of calls on %s', (kind) => {
  let t: TestDatabase;
  beforeAll(async () => {
    t = await openTestDatabase(kind);
    // Four thousand calls over 28 days, 20 flows of 3 versions, every fourth call from one of 10 campaigns
    // (half as the dialer writes it, metadata.campaign.id; half as POST /v1/calls may, metadata.campaignId).
    await t.db.pool.query(
      `INSERT INTO calls (id, carrier, carrier_call_id, direction, from_number, to_number, status, flow_id, flow_version, created_at, metadata)
       SELECT 'c' || i, 'twilio', 'CA' || i, CASE WHEN i % 3 = 0 THEN 'inbound' ELSE 'outbound' END, '+1555' || (i % 500), '+1666' || (i % 50), 'completed',
              'flow-' || (i % 20), i % 3, to_timestamp(($1::float8 + (i::float8 / $2) * 28 * $3) / 1000),
              CASE WHEN i % 8 = 0 THEN jsonb_build_object('campaign', jsonb_build_object('id', 'camp-' || (i % 10)))
                   WHEN i % 8 = 4 THEN jsonb_build_object('campaignId', 'camp-' || (i % 10)) ELSE '{}'::jsonb END
         FROM generate_series(1, $2::int) AS i`,
      [T0, CALLS, DAY_MS],
    );
    await t.db.pool.query('ANALYZE calls');
  }, 120_000);
  afterAll(() => t?.cleanup());

  it('no longer has the indexes 009 dropped', async () => {
    const { rows } = await t.db.pool.query<{ indexname: string }>(`SELECT indexname FROM pg_indexes WHERE tablename = 'calls'`);
    const names = rows.map((r) => r.indexname);
    expect(names).not.toContain('calls_flow_idx');
    expect(names).not.toContain('calls_campaign_created_idx');
    expect(names).toContain('calls_flow_created_idx');
    expect(names).toContain('calls_campaign_any_created_idx');
  });

  it("reads a flow's calls (the calls list, the flow editor's exit counts) from an index", async () => {
    const listed = await plan(t, `SELECT * FROM calls WHERE flow_id = 'flow-7' ORDER BY created_at DESC, id DESC LIMIT 51`);
    expect(listed).toMatch(/Index Scan/);
    expect(listed).not.toMatch(/Seq Scan/);
    const since = new Date(T0 + 7 * DAY_MS).toISOString();
    const until = new Date(T0 + 14 * DAY_MS).toISOString();
    for (const version of ['NULL', '2']) {
      const counted = await plan(t, `SELECT count(*) FROM calls c WHERE c.flow_id = 'flow-7' AND c.created_at >= '${since}' AND c.created_at < '${until}' AND (${version}::int IS NULL OR c.flow_version = ${version})`);
      expect(counted).toMatch(/calls_flow_created_idx/);
    }
    const { rows } = await t.db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM calls WHERE flow_id = 'flow-7' AND flow_version = 2 AND created_at >= $1 AND created_at < $2`,
      [since, until],
    );
    // The version is a filter on the flow's range: the calls are still found.
    expect(rows[0]?.n).toBeGreaterThan(0);
  });

  it("reads a campaign's calls, either way the campaign is written, from the index 008 made for it", async () => {
    const since = new Date(T0).toISOString();
    const until = new Date(T0 + 28 * DAY_MS).toISOString();
    const sql = `SELECT count(*) FROM calls WHERE COALESCE(metadata->>'campaignId', metadata->'campaign'->>'id') = 'camp-4' AND created_at >= '${since}' AND created_at < '${until}'`;
    expect(await plan(t, sql)).toMatch(/calls_campaign_any_created_idx/);
    const { rows } = await t.db.pool.query<{ count: string }>(sql);
    // The index path counts the same calls as reading both keys directly.
    const { rows: direct } = await t.db.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM calls WHERE metadata->>'campaignId' = 'camp-4' OR metadata->'campaign'->>'id' = 'camp-4'`,
    );
    expect(Number(rows[0]?.count)).toBe(Number(direct[0]?.n));
    expect(Number(direct[0]?.n)).toBeGreaterThan(0);
  });
});
