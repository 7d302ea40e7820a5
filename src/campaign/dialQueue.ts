// The claim: in one transaction, take the campaign row (FOR UPDATE SKIP LOCKED: one instance paces a
// campaign at a time, the others move on) and its carrier account's limiter row, work out how many
// dials pacing allows right now, lock that many due contacts (FOR UPDATE SKIP LOCKED), run the
// dial-time checks on them, and write an attempt row for each one that passes. Everything pacing
// counts lives in these rows, so limits hold across every instance on the database.
//
// We use our own table rather than pg-boss or graphile-worker: a retry after no-answer is a business
// event on the contact (state, attempts, next attempt time, priority are what users query and edit),
// and neither queue is a rate limiter; a job table beside the contacts would be a second source of
// truth to keep in step. The claim is the only hot statement, and it is an index range scan
// (campaign_contacts_due_idx).
import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { ConsentLevel } from './settings.ts';
import { CONSENT_LEVELS, type CampaignSettings } from './settings.ts';
import { nextWindowOpening } from './windows.ts';
import { inTransaction } from '../store/transaction.ts';

/** Dials a limiter may let through at once after being idle: a tick's worth, never a flood. */
const BURST_MS = 1000;
const DEFAULT_MAX_BATCH = 50;
/** Candidates fetched beyond the allowance, so a few window-deferred contacts do not starve a tick. */
const EXTRA_CANDIDATES = 20;

export interface ClaimedDial {
  attemptId: string;
  callId: string;
  contactId: string;
  phone: string;
  callerId: string;
  attempt: number;
  name: string | null;
  variables: Record<string, unknown>;
}

export interface ClaimResult {
  dials: ClaimedDial[];
  /** Contacts deferred or closed by the dial-time checks, by reason. */
  deferred: Record<string, number>;
  /** Why no more dials were allowed (the tightest limit). */
  limitedBy: string | undefined;
}

export interface ClaimContext {
  campaignId: string;
  /** Key of the carrier account's limiter, e.g. twilio:AC…. */
  accountKey: string;
  /** Calls per second of the carrier account. */
  accountCps: number;
  instanceId: string;
  now: Date;
  /** Most dials one claim takes (a short transaction, even after a long pause). Default 50. */
  maxBatch?: number;
}

interface CampaignRow {
  id: string;
  state: string;
  settings: CampaignSettings;
  next_dial_at: Date;
  started_at: Date | null;
}

interface CandidateRow {
  id: string;
  phone: string;
  name: string | null;
  timezone: string;
  consent: ConsentLevel;
  attempts: number;
  variables: Record<string, unknown>;
}

/** Calls per minute now, with the optional linear ramp from the campaign's start. */
export function effectivePerMinute(settings: CampaignSettings, startedAt: Date | null, now: Date): number {
  const { callsPerMinute, ramp } = settings.pacing;
  if (ramp === null || startedAt === null) return callsPerMinute;
  const progress = Math.min(1, Math.max(0, (now.getTime() - startedAt.getTime()) / (ramp.overMinutes * 60_000)));
  return Math.max(1, Math.min(callsPerMinute, ramp.fromPerMinute + (callsPerMinute - ramp.fromPerMinute) * progress));
}

/**
 * GCRA slots: how many dials fit between max(nextAt, now - burst) and now at one per interval, and
 * where the limiter's next slot lands after taking `taken` of them.
 */
export function gcraAllowance(nextAt: Date, now: Date, intervalMs: number): { allowed: number; advance: (taken: number) => Date } {
  const start = Math.max(nextAt.getTime(), now.getTime() - Math.max(BURST_MS, intervalMs));
  const allowed = start > now.getTime() ? 0 : Math.floor((now.getTime() - start) / intervalMs) + 1;
  return { allowed, advance: (taken) => new Date(taken === 0 ? nextAt.getTime() : start + taken * intervalMs) };
}

export async function claimDue(pool: pg.Pool, ctx: ClaimContext): Promise<ClaimResult> {
  return inTransaction(pool, (client) => claimIn(client, ctx));
}

async function claimIn(client: pg.PoolClient, ctx: ClaimContext): Promise<ClaimResult> {
  const none = (limitedBy: string): ClaimResult => ({ dials: [], deferred: {}, limitedBy });
  const { rows: campaigns } = await client.query<CampaignRow>(
    "SELECT id, state, settings, next_dial_at, started_at FROM campaigns WHERE id = $1 AND state = 'running' FOR UPDATE SKIP LOCKED",
    [ctx.campaignId],
  );
  const campaign = campaigns[0];
  if (campaign === undefined) return none('not running here');
  const s = campaign.settings;
  const now = ctx.now;

  const perMinute = effectivePerMinute(s, campaign.started_at, now);
  const campaignSlots = gcraAllowance(campaign.next_dial_at, now, 60_000 / perMinute);
  if (campaignSlots.allowed === 0) return none('callsPerMinute');
  const { rows: counts } = await client.query<{ in_flight: string; last_hour: string }>(
    `SELECT count(*) FILTER (WHERE state IN ('claimed', 'placed')) AS in_flight,
            count(*) FILTER (WHERE created_at > $2::timestamptz - interval '1 hour' AND state <> 'canceled') AS last_hour
       FROM campaign_attempts WHERE campaign_id = $1 AND (state IN ('claimed', 'placed') OR created_at > $2::timestamptz - interval '1 hour')`,
    [ctx.campaignId, now],
  );
  const inFlight = Number(counts[0]?.in_flight ?? 0);
  const lastHour = Number(counts[0]?.last_hour ?? 0);
  const limits: Array<[string, number]> = [
    ['callsPerMinute', campaignSlots.allowed],
    ['maxConcurrent', s.pacing.maxConcurrent - inFlight],
    ['callsPerHour', s.pacing.callsPerHour - lastHour],
  ];
  const campaignAllowed = Math.min(...limits.map(([, n]) => n));
  if (campaignAllowed <= 0) return none((limits.find(([, n]) => n <= 0) as [string, number])[0]);

  // The carrier account's limiter, shared by every campaign on the account.
  // A new limiter is an idle one: it allows the same one-second burst as a limiter unused for a while.
  await client.query("INSERT INTO dial_limiters (key, next_dial_at) VALUES ($1, 'epoch') ON CONFLICT (key) DO NOTHING", [ctx.accountKey]);
  const { rows: limiter } = await client.query<{ next_dial_at: Date }>('SELECT next_dial_at FROM dial_limiters WHERE key = $1 FOR UPDATE', [ctx.accountKey]);
  const accountSlots = gcraAllowance(limiter[0]?.next_dial_at ?? now, now, 1000 / ctx.accountCps);
  limits.push(['carrierAccount', accountSlots.allowed]);
  const allowed = Math.min(campaignAllowed, accountSlots.allowed, ctx.maxBatch ?? DEFAULT_MAX_BATCH);
  if (allowed <= 0) return none('carrierAccount');

  const { rows: candidates } = await client.query<CandidateRow>(
    `SELECT id, phone, name, timezone, consent, attempts, variables FROM campaign_contacts
      WHERE campaign_id = $1 AND state = 'queued' AND next_attempt_at <= $2
      ORDER BY priority DESC, next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED`,
    [ctx.campaignId, now, allowed + EXTRA_CANDIDATES],
  );
  if (candidates.length === 0) return none('no contact due');

  // Dial-time checks, immediately before the dial: the list, consent, the window, the per-number cap.
  const phones = candidates.map((c) => c.phone);
  const { rows: dnc } = await client.query<{ e164: string }>('SELECT e164 FROM do_not_call WHERE e164 = ANY($1::text[])', [phones]);
  const onList = new Set(dnc.map((r) => r.e164));
  const { rows: recent } = await client.query<{ phone: string; n: string; oldest: Date }>(
    `SELECT phone, count(*) AS n, min(created_at) AS oldest FROM campaign_attempts
      WHERE phone = ANY($1::text[]) AND created_at > $2::timestamptz - interval '24 hours' AND state <> 'canceled' GROUP BY phone`,
    [phones, now],
  );
  const recentByPhone = new Map(recent.map((r) => [r.phone, { n: Number(r.n), oldest: r.oldest }]));
  const requiredConsent = CONSENT_LEVELS.indexOf(s.requiredConsent);
  const deferred: Record<string, number> = {};
  const defer = (reason: string): void => {
    deferred[reason] = (deferred[reason] ?? 0) + 1;
  };
  const dials: ClaimedDial[] = [];
  const callerIds = s.callerIds;
  for (const c of candidates) {
    if (dials.length >= allowed) break;
    if (onList.has(c.phone)) {
      await client.query("UPDATE campaign_contacts SET state = 'do-not-call', disposition = 'do-not-call', updated_at = now() WHERE id = $1", [c.id]);
      defer('do-not-call');
      continue;
    }
    if (CONSENT_LEVELS.indexOf(c.consent) < requiredConsent) {
      await client.query("UPDATE campaign_contacts SET state = 'done', disposition = 'no-consent', updated_at = now() WHERE id = $1", [c.id]);
      defer('consent');
      continue;
    }
    const opening = nextWindowOpening(now, c.timezone, s.window);
    if (opening === undefined || opening.getTime() > now.getTime()) {
      // Outside the contact's window: wait for its next opening (a week if the window never opens).
      const at = opening ?? new Date(now.getTime() + 7 * 86_400_000);
      await client.query('UPDATE campaign_contacts SET next_attempt_at = $2, updated_at = now() WHERE id = $1', [c.id, at]);
      defer('window');
      continue;
    }
    const r = recentByPhone.get(c.phone);
    if (r !== undefined && r.n >= s.perNumberDailyCap) {
      await client.query('UPDATE campaign_contacts SET next_attempt_at = $2, updated_at = now() WHERE id = $1', [c.id, new Date(r.oldest.getTime() + 86_400_000)]);
      defer('perNumberDailyCap');
      continue;
    }
    const callerId = callerIds[c.attempts % Math.max(1, callerIds.length)];
    if (callerId === undefined) break;
    dials.push({ attemptId: randomUUID(), callId: randomUUID(), contactId: c.id, phone: c.phone, callerId, attempt: c.attempts + 1, name: c.name, variables: c.variables });
  }
  if (dials.length > 0) {
    await client.query(
      `INSERT INTO campaign_attempts (id, campaign_id, contact_id, attempt, phone, caller_id, carrier, call_id, instance_id, state)
       SELECT u.id, $1, u.contact_id, u.attempt, u.phone, u.caller_id, $2, u.call_id, $3, 'claimed'
         FROM unnest($4::text[], $5::text[], $6::integer[], $7::text[], $8::text[], $9::text[]) AS u(id, contact_id, attempt, phone, caller_id, call_id)`,
      [ctx.campaignId, ctx.accountKey.split(':')[0], ctx.instanceId, dials.map((d) => d.attemptId), dials.map((d) => d.contactId), dials.map((d) => d.attempt), dials.map((d) => d.phone), dials.map((d) => d.callerId), dials.map((d) => d.callId)],
    );
    await client.query("UPDATE campaign_contacts SET state = 'dialing', attempts = attempts + 1, updated_at = now() WHERE id = ANY($1::text[])", [dials.map((d) => d.contactId)]);
    await client.query('UPDATE campaigns SET next_dial_at = $2 WHERE id = $1', [ctx.campaignId, campaignSlots.advance(dials.length)]);
    await client.query('UPDATE dial_limiters SET next_dial_at = $2 WHERE key = $1', [ctx.accountKey, accountSlots.advance(dials.length)]);
  }
  const tightest = limits.reduce((a, b) => (b[1] < a[1] ? b : a));
  return { dials, deferred, limitedBy: dials.length >= allowed ? tightest[0] : undefined };
}
