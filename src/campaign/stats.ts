// Live figures of a campaign, computed by SQL from the contacts and attempts (so every instance
// reports the same numbers): contacts by state, attempts by outcome, dials in the last minute, in
// flight, and the rates. Rates are fractions (0..1) of settled attempts; the abandon rate follows
// the TSR definition: abandoned ÷ live answers (human + abandoned), over the last 30 days.
import type { Queryable } from '../store/db.ts';

export interface CampaignStats {
  campaignId: string;
  state: string;
  stateReason: string | null;
  contacts: Record<string, number>;
  contactsTotal: number;
  attempts: Record<string, number>;
  attemptsTotal: number;
  inFlight: number;
  dialsLastMinute: number;
  answerRate: number;
  humanRate: number;
  voicemailRate: number;
  abandoned30d: number;
  liveAnswers30d: number;
  abandonRate30d: number;
  at: string;
}

const ANSWERED = ['human', 'machine', 'voicemail-dropped', 'abandoned'];

export async function campaignStats(db: Queryable, campaignId: string, now = new Date()): Promise<CampaignStats | null> {
  const { rows: c } = await db.query<{ state: string; state_reason: string | null }>('SELECT state, state_reason FROM campaigns WHERE id = $1', [campaignId]);
  if (c[0] === undefined) return null;
  const [contacts, attempts, live] = await Promise.all([
    db.query<{ state: string; n: string }>('SELECT state, count(*) AS n FROM campaign_contacts WHERE campaign_id = $1 GROUP BY state', [campaignId]),
    db.query<{ outcome: string | null; state: string; n: string; last_minute: string }>(
      `SELECT outcome, state, count(*) AS n, count(*) FILTER (WHERE created_at > $2::timestamptz - interval '1 minute') AS last_minute
         FROM campaign_attempts WHERE campaign_id = $1 AND state <> 'canceled' GROUP BY outcome, state`,
      [campaignId, now],
    ),
    abandonFigures(db, campaignId, now),
  ]);
  const byState: Record<string, number> = {};
  let contactsTotal = 0;
  for (const r of contacts.rows) {
    byState[r.state] = Number(r.n);
    contactsTotal += Number(r.n);
  }
  const byOutcome: Record<string, number> = {};
  let inFlight = 0;
  let lastMinute = 0;
  let settled = 0;
  for (const r of attempts.rows) {
    lastMinute += Number(r.last_minute);
    if (r.outcome === null) {
      inFlight += Number(r.n);
      continue;
    }
    byOutcome[r.outcome] = (byOutcome[r.outcome] ?? 0) + Number(r.n);
    settled += Number(r.n);
  }
  const share = (names: string[]): number => (settled === 0 ? 0 : names.reduce((s, n) => s + (byOutcome[n] ?? 0), 0) / settled);
  return {
    campaignId,
    state: c[0].state,
    stateReason: c[0].state_reason,
    contacts: byState,
    contactsTotal,
    attempts: byOutcome,
    attemptsTotal: settled + inFlight,
    inFlight,
    dialsLastMinute: lastMinute,
    answerRate: share(ANSWERED),
    humanRate: share(['human']),
    voicemailRate: share(['machine', 'voicemail-dropped']),
    abandoned30d: live.abandoned,
    liveAnswers30d: live.live,
    abandonRate30d: live.rate,
    at: now.toISOString(),
  };
}

export async function abandonFigures(db: Queryable, campaignId: string, now: Date): Promise<{ abandoned: number; live: number; rate: number }> {
  const { rows } = await db.query<{ abandoned: string; live: string }>(
    `SELECT count(*) FILTER (WHERE outcome = 'abandoned') AS abandoned, count(*) FILTER (WHERE outcome IN ('human', 'abandoned')) AS live
       FROM campaign_attempts WHERE campaign_id = $1 AND state = 'settled' AND settled_at > $2::timestamptz - interval '30 days'`,
    [campaignId, now],
  );
  const abandoned = Number(rows[0]?.abandoned ?? 0);
  const live = Number(rows[0]?.live ?? 0);
  return { abandoned, live, rate: live === 0 ? 0 : abandoned / live };
}
