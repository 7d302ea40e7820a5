// The streamed export, parsed back with a CSV library and compared with the rows, on both databases.
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXPORT_COLUMNS } from '../../src/analytics/export.ts';
import { testDatabases } from '../helpers/db.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { insertCalls, MARCH } from './fixtures.ts';

describe.each(testDatabases())('calls export (%s)', (kind) => {
  let gw: TestGateway;
  const get = async (q: string) => {
    const res = await fetch(`${gw.httpUrl}/v1/calls/export?${q}`, { headers: { authorization: `Bearer ${gw.apiKey}` } });
    return { status: res.status, headers: res.headers, text: await res.text() };
  };
  beforeAll(async () => {
    gw = await startTestGateway(kind);
    await insertCalls(gw.tdb.db.pool, MARCH);
    // A value that needs quoting.
    await gw.tdb.db.pool.query(`UPDATE calls SET disposition = 'call back, "after 5"', end_reason = 'line1\nline2' WHERE id = 'c2'`);
    // 2,500 more calls in April: more than one page of the keyset scan.
    await gw.tdb.db.pool.query(
      `INSERT INTO calls (id, carrier, carrier_call_id, direction, from_number, to_number, status, created_at, outcome)
       SELECT 'bulk-' || lpad(g::text, 5, '0'), 'twilio', 'CAbulk' || g, 'outbound', '+15551230000', '+15550000000', 'completed',
              timestamptz '2026-04-01 00:00Z' + g * interval '1 second', 'completed'
         FROM generate_series(1, 2500) g`,
    );
  });
  afterAll(() => gw.close());

  it('streams CSV with a header, quoting, UTC ISO times and numbers as numbers', async () => {
    const r = await get('format=csv&since=2026-03-01T00:00:00Z&until=2026-04-01T00:00:00Z');
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toContain('text/csv');
    expect(r.headers.get('content-disposition')).toMatch(/^attachment; filename="calls-.*\.csv"$/);
    const lines = r.text.split('\n');
    expect(lines[0]).toBe(EXPORT_COLUMNS.join(','));
    const rows = parse<Record<string, string>>(r.text, { columns: true });
    expect(rows.map((x) => x.id)).toEqual(['c1', 'c2', 'c3', 'c4', 'c5', 'c6', 'c8']);
    const c2 = rows[1] as Record<string, string>;
    expect(c2).toMatchObject({
      created_at: '2026-03-02T11:00:00.000Z',
      answered_at: '2026-03-02T11:00:10.000Z',
      ended_at: '2026-03-02T11:00:40.000Z',
      duration_ms: '30000',
      outcome: 'failed',
      failure_reason: 'caller-hung-up-early',
      disposition: 'call back, "after 5"',
      end_reason: 'line1\nline2',
      amd_result: 'human',
      amd_decision_ms: '1500',
      campaign_id: 'K1',
      contact_id: 'contact-c2',
    });
    // Numbers are written bare (not quoted); nulls are empty cells.
    expect(r.text).toContain(',30000,');
    expect(rows[6]?.ended_at).toBe('');
  });

  it('applies the list filters and the campaign filter', async () => {
    const r = await get('format=csv&campaignId=K1&status=completed,no-answer');
    const rows = parse<Record<string, string>>(r.text, { columns: true });
    expect(rows.map((x) => x.id)).toEqual(['c2', 'c3', 'c4']);
    const num = parse<Record<string, string>>((await get('number=%2B15551230000&direction=inbound&since=2026-03-01')).text, { columns: true });
    // Inbound from that number since March: c1, c5, c8 (c7 is in February).
    expect(num.map((x) => x.id)).toEqual(['c1', 'c5', 'c8']);
  });

  it('names the campaign and contact of a call the dialer placed (metadata.campaign)', async () => {
    await gw.tdb.db.pool.query(`UPDATE calls SET metadata = '{"campaign": {"id": "D9", "contactId": "ct9", "attemptId": "a9"}}'::jsonb WHERE id = 'c6'`);
    const rows = parse<Record<string, string>>((await get('format=csv&campaignId=D9')).text, { columns: true });
    expect(rows.map((x) => [x.id, x.campaign_id, x.contact_id])).toEqual([['c6', 'D9', 'ct9']]);
  });

  it('streams JSON Lines across many pages, every row once, in order', async () => {
    const r = await get('format=jsonl&since=2026-04-01');
    expect(r.headers.get('content-disposition')).toMatch(/\.jsonl"$/);
    const rows = r.text.trim().split('\n').map((l) => JSON.parse(l) as { id: string; duration_ms: number | null });
    expect(rows).toHaveLength(2500);
    expect(new Set(rows.map((x) => x.id)).size).toBe(2500);
    expect(rows[0]?.id).toBe('bulk-00001');
    expect(rows.at(-1)?.id).toBe('bulk-02500');
    expect(rows[0]?.duration_ms).toBeNull();
  });

  it('refuses a bad filter with a 400 naming it, before streaming', async () => {
    const r = await get('format=csv&since=notadate');
    expect(r.status).toBe(400);
    expect(JSON.parse(r.text).message).toContain('since');
    expect((await get('format=xml')).status).toBe(400);
  });
});
