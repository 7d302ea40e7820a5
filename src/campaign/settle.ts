// Settlement: attempts learn their outcome from the database, not from in-process events, because the
// call may have been served by another instance than the one that dialed it. Any instance joins open
// attempts to their call rows that have ended (and whose timeline is written), maps the call to an
// outcome (outcome.ts), and moves the contact on — in one transaction whose first statement only
// succeeds for one settler (state guard), so an attempt is settled exactly once.
import { campaignOutcomes } from '../observability/metrics.ts';
import type pg from 'pg';
import type { AttemptOutcome } from '../outcome/vocabulary.ts';
import { attemptOutcome, nextStep, retryKeyFor, type FinishedCall } from './outcome.ts';
import type { CampaignSettings } from './settings.ts';
import { inTransaction } from '../store/transaction.ts';

/**
 * A call row ended this long ago is settled even if its timeline never arrived (the instance serving
 * it died). Long enough for a slow database to take a live instance's buffered events.
 */
const TIMELINE_GRACE_S = 30;
/** A flow may ask for a callback at most this far ahead. */
const MAX_CALLBACK_MS = 90 * 86_400_000;

interface EndedRow {
  attempt_id: string;
  call_id: string;
  campaign_id: string;
  status: string;
  answered_at: Date | null;
  stream_id: string | null;
  end_reason: string | null;
}

interface EventRow {
  type: string;
  media_ms: number | null;
  data: Record<string, unknown> | null;
}

export interface SettleInput {
  attemptId: string;
  outcome: AttemptOutcome;
  abandoned?: boolean;
  carrierError?: boolean;
  amdResult?: string | null;
  voicemailLeft?: boolean;
  disposition?: string | null;
  callbackAt?: Date | null;
  doNotCall?: boolean;
  detail?: Record<string, unknown>;
}

export interface Settled {
  campaignId: string;
  contactId: string;
  outcome: AttemptOutcome;
  abandoned: boolean;
  next: string;
}

/** Flow events hold their payload under `data`; core events at the top. */
function payload(e: EventRow): Record<string, unknown> {
  const d = e.data ?? {};
  const inner = d.data;
  return inner !== null && typeof inner === 'object' ? (inner as Record<string, unknown>) : d;
}

/** The call's row and timeline as a FinishedCall, plus what the flow asked for. */
export function readTimeline(row: Pick<EndedRow, 'status' | 'answered_at' | 'stream_id' | 'end_reason'>, events: EventRow[]): { call: FinishedCall; vars: Record<string, unknown>; amdResult: string | null; flowReason: string | null; amdAction: Record<string, unknown> | null } {
  const call: FinishedCall = { status: row.status, answered: row.answered_at !== null || row.stream_id !== null, voicemailLeft: false, endReason: row.end_reason };
  const vars: Record<string, unknown> = {};
  let flowReason: string | null = null;
  // What the campaign's voicemail policy did (callPolicy.ts), for the attempt's detail.
  let amdAction: Record<string, unknown> | null = null;
  for (const e of events) {
    const at = e.media_ms ?? 0;
    const d = payload(e);
    switch (e.type) {
      case 'amd.verdict':
        if (call.amd === undefined) call.amd = { result: String(d.result), atMs: at };
        break;
      case 'amd.revised':
        // A person's verdict revised to machine (a late beep): the attempt reached a machine. The
        // time a live answer was known stays the first verdict's.
        call.amd = { result: String(d.result), atMs: call.amd?.atMs ?? at };
        break;
      case 'flow.voicemail.left':
        call.voicemailLeft = true;
        break;
      case 'playout.started':
        if (call.firstAudioAtMs === undefined) call.firstAudioAtMs = at;
        break;
      case 'call.ended':
        call.endedAtMs = at;
        break;
      case 'flow.variable.set':
        if (typeof d.name === 'string' && d.name.startsWith('vars.')) vars[d.name.slice(5)] = d.value;
        break;
      case 'flow.campaign.amd_action':
        amdAction = { action: d.action, result: d.result, confidence: d.confidence, revised: d.revised };
        break;
      case 'flow.ended':
        flowReason = typeof d.reason === 'string' ? d.reason : null;
        break;
    }
  }
  return { call, vars, amdResult: call.amd?.result ?? null, flowReason, amdAction };
}

function callbackTime(v: unknown, now: Date): Date | null {
  if (typeof v !== 'string' && typeof v !== 'number') return null;
  const d = new Date(v);
  const t = d.getTime();
  return Number.isFinite(t) && t > now.getTime() && t - now.getTime() <= MAX_CALLBACK_MS ? d : null;
}

/** Settle every attempt whose call has ended. Returns what was settled. */
export async function settleEndedCalls(pool: pg.Pool, now: Date, limit = 200): Promise<Settled[]> {
  const { rows } = await pool.query<EndedRow>(
    `SELECT a.id AS attempt_id, a.call_id, a.campaign_id, c.status, c.answered_at, c.stream_id, c.end_reason
       FROM campaign_attempts a JOIN calls c ON c.id = a.call_id
      WHERE a.state IN ('claimed', 'placed') AND c.ended_at IS NOT NULL
        -- Never answered: nothing more will be written. Answered: wait for the serving instance to
        -- write the call's end (its timeline is then complete), or for the grace if that instance died.
        AND ((c.stream_id IS NULL AND c.answered_at IS NULL) OR c.ended_at < $1::timestamptz - make_interval(secs => $2)
             OR EXISTS (SELECT 1 FROM call_events e WHERE e.call_id = c.id AND e.type = 'call.ended'))
      ORDER BY c.ended_at LIMIT $3`,
    [now, TIMELINE_GRACE_S, limit],
  );
  const settled: Settled[] = [];
  for (const row of rows) {
    const { rows: events } = await pool.query<EventRow>(
      `SELECT type, media_ms, data FROM call_events WHERE call_id = $1
         AND type IN ('amd.verdict', 'amd.revised', 'flow.voicemail.left', 'playout.started', 'call.ended', 'flow.variable.set', 'flow.ended', 'flow.campaign.amd_action') ORDER BY seq`,
      [row.call_id],
    );
    const t = readTimeline(row, events);
    const { outcome, abandoned } = attemptOutcome(t.call);
    const disposition = typeof t.vars.disposition === 'string' ? t.vars.disposition.slice(0, 100) : t.flowReason;
    const done = await settleAttempt(pool, now, {
      attemptId: row.attempt_id,
      outcome,
      abandoned,
      amdResult: t.amdResult,
      voicemailLeft: t.call.voicemailLeft,
      disposition,
      callbackAt: callbackTime(t.vars.callbackAt, now),
      doNotCall: t.vars.doNotCall === true || t.vars.doNotCall === 'true',
      // The carrier refused the request (placeCall.ts ends the record so): a carrier error, not a failed call.
      carrierError: row.end_reason === 'carrier_rejected',
      detail: { callStatus: row.status, endReason: row.end_reason, ...(t.amdAction === null ? {} : { amdAction: t.amdAction }) },
    });
    if (done !== undefined) settled.push(done);
  }
  return settled;
}

/** Settle one attempt (if nobody did yet) and move its contact on, in one transaction. */
export async function settleAttempt(pool: pg.Pool, now: Date, input: SettleInput): Promise<Settled | undefined> {
  const settled = await inTransaction(pool, async (client): Promise<Settled | undefined> => {
    const { rows } = await client.query<{ campaign_id: string; contact_id: string; phone: string; call_id: string }>(
      `UPDATE campaign_attempts SET state = 'settled', outcome = $2, abandoned = $3, amd_result = $4, voicemail_left = $5, disposition = $6,
              detail = detail || $7::jsonb, settled_at = $8
        WHERE id = $1 AND state IN ('claimed', 'placed') RETURNING campaign_id, contact_id, phone, call_id`,
      [input.attemptId, input.outcome, input.abandoned ?? false, input.amdResult ?? null, input.voicemailLeft ?? false, input.disposition ?? null, JSON.stringify(input.detail ?? {}), now],
    );
    const a = rows[0];
    if (a === undefined) return undefined; // settled already: nothing changed, the commit is empty
    const { rows: ctx } = await client.query<{ settings: CampaignSettings; attempts_by_outcome: Record<string, number> }>(
      'SELECT c.settings, k.attempts_by_outcome FROM campaign_contacts k JOIN campaigns c ON c.id = k.campaign_id WHERE k.id = $1 FOR UPDATE OF k',
      [a.contact_id],
    );
    const settings = ctx[0]?.settings;
    const byOutcome = { ...ctx[0]?.attempts_by_outcome };
    const key = retryKeyFor(input.outcome, input.carrierError ?? false);
    if (key !== undefined) byOutcome[key] = (byOutcome[key] ?? 0) + 1;
    let next: string;
    if (input.doNotCall) {
      // The person opted out during the call: on the deployment's list at once, never called again.
      await client.query("INSERT INTO do_not_call (e164, source, reason, actor) VALUES ($1, 'flow', 'opt-out during a campaign call', $2) ON CONFLICT (e164) DO NOTHING", [a.phone, `call:${a.call_id}`]);
      await client.query("UPDATE campaign_contacts SET state = 'do-not-call', disposition = 'do-not-call', last_outcome = $2, attempts_by_outcome = $3::jsonb, updated_at = now() WHERE id = $1", [a.contact_id, input.outcome, JSON.stringify(byOutcome)]);
      next = 'do-not-call';
    } else if (input.callbackAt) {
      await client.query("UPDATE campaign_contacts SET state = 'queued', next_attempt_at = $2, disposition = 'callback', last_outcome = $3, attempts_by_outcome = $4::jsonb, updated_at = now() WHERE id = $1", [a.contact_id, input.callbackAt, input.outcome, JSON.stringify(byOutcome)]);
      next = `callback at ${input.callbackAt.toISOString()}`;
    } else {
      const step = settings === undefined ? ({ kind: 'review' } as const) : nextStep(input.outcome, input.carrierError ?? false, byOutcome, settings, now);
      if (step.kind === 'retry') {
        await client.query("UPDATE campaign_contacts SET state = 'queued', next_attempt_at = $2, last_outcome = $3, attempts_by_outcome = $4::jsonb, updated_at = now() WHERE id = $1", [a.contact_id, step.at, input.outcome, JSON.stringify(byOutcome)]);
        next = `retry at ${step.at.toISOString()}`;
      } else if (step.kind === 'final') {
        await client.query("UPDATE campaign_contacts SET state = 'done', disposition = $2, last_outcome = $3, attempts_by_outcome = $4::jsonb, updated_at = now() WHERE id = $1", [a.contact_id, input.disposition ?? step.disposition, input.outcome, JSON.stringify(byOutcome)]);
        next = 'done';
      } else {
        await client.query("UPDATE campaign_contacts SET state = 'review', disposition = 'unknown', last_outcome = $2, attempts_by_outcome = $3::jsonb, updated_at = now() WHERE id = $1", [a.contact_id, input.outcome, JSON.stringify(byOutcome)]);
        next = 'review';
      }
    }
    return { campaignId: a.campaign_id, contactId: a.contact_id, outcome: input.outcome, abandoned: input.abandoned ?? false, next };
  });
  // Counted once committed: a transaction that failed settled nothing.
  if (settled !== undefined) campaignOutcomes.inc({ campaign: settled.campaignId, outcome: settled.outcome });
  return settled;
}

/** Undo a claim whose call was certainly never sent (no call record): the contact is due again. */
export async function cancelClaim(pool: pg.Pool, attemptId: string, why: string): Promise<boolean> {
  return inTransaction(pool, async (client) => {
    const { rows } = await client.query<{ contact_id: string }>(
      "UPDATE campaign_attempts SET state = 'canceled', detail = detail || $2::jsonb, settled_at = now() WHERE id = $1 AND state = 'claimed' RETURNING contact_id",
      [attemptId, JSON.stringify({ canceled: why })],
    );
    const a = rows[0];
    if (a !== undefined) {
      await client.query("UPDATE campaign_contacts SET state = 'queued', attempts = greatest(attempts - 1, 0), updated_at = now() WHERE id = $1 AND state = 'dialing'", [a.contact_id]);
    }
    return a !== undefined;
  });
}
