// Hand-written call rows for the analytics and export tests: each row's fields are written out, so
// every expected figure in the tests can be counted by hand from this file.
import type { Queryable } from '../../src/store/db.ts';

export interface FixtureCall {
  id: string;
  direction: 'inbound' | 'outbound';
  flowId: string | null;
  campaignId?: string;
  createdAt: string;
  /** Seconds after createdAt. */
  answeredAfterS?: number;
  /** Talk time in seconds after the answer (or seconds after creation when never answered). */
  endedAfterS?: number;
  status: string;
  outcome?: string;
  failureReason?: string;
  disposition?: string;
  amd?: { result: string; decisionMs: number };
  from?: string;
}

export async function insertCalls(db: Queryable, rows: readonly FixtureCall[]): Promise<void> {
  for (const c of rows) {
    const created = new Date(c.createdAt);
    const answered = c.answeredAfterS === undefined ? null : new Date(created.getTime() + c.answeredAfterS * 1000);
    const ended = c.endedAfterS === undefined ? null : new Date((answered ?? created).getTime() + c.endedAfterS * 1000);
    await db.query(
      `INSERT INTO calls (id, carrier, carrier_call_id, direction, from_number, to_number, status, flow_id, created_at, answered_at, ended_at,
                          outcome, failure_reason, disposition, amd_result, amd_decision_ms, metadata, stream_id)
       VALUES ($1, 'twilio', $1, $2, $3, '+15550000000', $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::jsonb, $15)`,
      [
        c.id,
        c.direction,
        c.from ?? '+15551230000',
        c.status,
        c.flowId,
        created,
        answered,
        ended,
        c.outcome ?? null,
        c.failureReason ?? null,
        c.disposition ?? null,
        c.amd?.result ?? null,
        c.amd?.decisionMs ?? null,
        JSON.stringify(c.campaignId === undefined ? {} : { campaignId: c.campaignId, contactId: `contact-${c.id}` }),
        answered === null ? null : `MZ${c.id}`,
      ],
    );
  }
}

/** March 2026 (UTC); c7 is outside the month; c8 is still in progress. */
export const MARCH: FixtureCall[] = [
  { id: 'c1', direction: 'inbound', flowId: 'A', createdAt: '2026-03-02T10:00:00Z', answeredAfterS: 5, endedAfterS: 60, status: 'completed', outcome: 'success', disposition: 'appointment_booked' },
  { id: 'c2', direction: 'outbound', flowId: 'A', campaignId: 'K1', createdAt: '2026-03-02T11:00:00Z', answeredAfterS: 10, endedAfterS: 30, status: 'completed', outcome: 'failed', failureReason: 'caller-hung-up-early', amd: { result: 'human', decisionMs: 1500 } },
  { id: 'c3', direction: 'outbound', flowId: 'A', campaignId: 'K1', createdAt: '2026-03-03T11:30:00Z', endedAfterS: 30, status: 'no-answer', outcome: 'failed', failureReason: 'no-answer' },
  { id: 'c4', direction: 'outbound', flowId: 'B', campaignId: 'K1', createdAt: '2026-03-03T12:00:00Z', answeredAfterS: 8, endedAfterS: 90, status: 'completed', outcome: 'voicemail-dropped', amd: { result: 'machine', decisionMs: 3000 } },
  { id: 'c5', direction: 'inbound', flowId: 'B', createdAt: '2026-03-04T09:00:00Z', answeredAfterS: 2, endedAfterS: 120, status: 'completed', outcome: 'transferred' },
  { id: 'c6', direction: 'outbound', flowId: 'B', campaignId: 'K2', createdAt: '2026-03-04T09:15:00Z', endedAfterS: 5, status: 'busy', outcome: 'failed', failureReason: 'busy' },
  { id: 'c7', direction: 'inbound', flowId: 'A', createdAt: '2026-02-20T10:00:00Z', answeredAfterS: 1, endedAfterS: 10, status: 'completed', outcome: 'success' },
  { id: 'c8', direction: 'inbound', flowId: null, createdAt: '2026-03-05T00:00:00Z', answeredAfterS: 1, status: 'in-progress' },
];

/** Calls of flow NY around both DST changes of 2026 in New York (durations differ, for the rollup's sums). */
export const NEW_YORK_DST: FixtureCall[] = [
  // Fall back on 2026-11-01: 01:30 EDT and 01:30 EST are different hours.
  { id: 'n1', direction: 'inbound', flowId: 'NY', createdAt: '2026-11-01T04:30:00Z', status: 'completed', answeredAfterS: 1, endedAfterS: 5, outcome: 'success' },
  { id: 'n2', direction: 'inbound', flowId: 'NY', createdAt: '2026-11-01T05:30:00Z', status: 'completed', answeredAfterS: 1, endedAfterS: 7, outcome: 'completed' },
  { id: 'n3', direction: 'inbound', flowId: 'NY', createdAt: '2026-11-01T06:30:00Z', status: 'busy', outcome: 'failed', failureReason: 'busy' },
  // 23:30 EST on Nov 1 (a 25-hour day), already Nov 2 in UTC.
  { id: 'n4', direction: 'inbound', flowId: 'NY', createdAt: '2026-11-02T04:30:00Z', status: 'completed', answeredAfterS: 1, endedAfterS: 9, outcome: 'success' },
  // Spring forward on 2026-03-08: 01:30 EST then 03:30 EDT, one hour apart.
  { id: 's1', direction: 'inbound', flowId: 'NY', createdAt: '2026-03-08T06:30:00Z', status: 'completed', answeredAfterS: 1, endedAfterS: 5, outcome: 'success' },
  { id: 's2', direction: 'inbound', flowId: 'NY', createdAt: '2026-03-08T07:30:00Z', status: 'completed', answeredAfterS: 1, endedAfterS: 11, outcome: 'completed' },
];
