// Resolving a contact held for review (the outcome of its last attempt is unknown: the carrier timed
// out after the call was sent, or the instance dialing it died mid-request). A person decides:
//   done        — a final disposition, the contact is never dialed again;
//   requeue     — dial it again, but never while the unknown call could still be live;
//   do-not-call — the number goes on the deployment's list and the contact is closed.
// Never dialed twice at once: one transaction takes the contact row (state guard `review`, so two
// concurrent resolutions cannot both win), refuses while any attempt of the contact is still open,
// and puts the next dial no earlier than the moment the last call is certainly over — its record
// ended with a carrier status, or ring time + the longest call has passed since it was dialed.
import type pg from 'pg';
import { createError } from '../errors.ts';
import { toContact, type Contact, type ContactRow } from './records.ts';
import type { CampaignSettings } from './settings.ts';
import { inTransaction } from '../store/transaction.ts';

export const REVIEW_ACTIONS = ['done', 'requeue', 'do-not-call'] as const;
export type ReviewAction = (typeof REVIEW_ACTIONS)[number];

export interface ReviewResolution {
  action: ReviewAction;
  /** Final disposition (done); default `reviewed`. */
  disposition?: string;
  /** Requeue: the earliest time to dial (default now); pushed later while the last call may be live. */
  at?: Date;
  note?: string;
}

/** Margin on top of ring time and the longest call, as the engine's overdue sweep uses. */
const LIVE_MARGIN_S = 60;

interface LastCall {
  created_at: Date;
  ended_at: Date | null;
  end_reason: string | null;
}

/** The earliest time the contact's last call is certainly over (null: it already is). */
export function lastCallOverAt(last: LastCall | undefined, settings: Pick<CampaignSettings, 'ringTimeoutS' | 'maxCallS'>): Date | null {
  if (last === undefined) return null;
  // An end the carrier told us (status callback, or its REST API on the sweep) is final; an end the
  // gateway wrote on a guess (`outcome_unknown`: the instance died while sending) is not.
  if (last.ended_at !== null && last.end_reason !== 'outcome_unknown') return null;
  return new Date(last.created_at.getTime() + (settings.ringTimeoutS + settings.maxCallS + LIVE_MARGIN_S) * 1000);
}

export async function resolveReview(pool: pg.Pool, campaignId: string, contactId: string, r: ReviewResolution, actor: string, now = new Date()): Promise<{ contact: Contact; notBefore: string | null }> {
  return inTransaction(pool, async (client) => {
    const { rows: campaigns } = await client.query<{ state: string; settings: CampaignSettings }>('SELECT state, settings FROM campaigns WHERE id = $1 FOR UPDATE', [campaignId]);
    const campaign = campaigns[0];
    if (campaign === undefined) throw createError('GW_ERR_CAMPAIGN_NOT_FOUND', `no campaign ${campaignId}; list them with GET /v1/campaigns`, { statusCode: 404 });
    const { rows: contacts } = await client.query<ContactRow>('SELECT * FROM campaign_contacts WHERE campaign_id = $1 AND id = $2 FOR UPDATE', [campaignId, contactId]);
    const contact = contacts[0];
    if (contact === undefined) throw createError('GW_ERR_CAMPAIGN_CONTACT_NOT_FOUND', `contactId: no contact ${contactId} in campaign ${campaignId}`, { statusCode: 404 });
    if (contact.state !== 'review') {
      throw createError('GW_ERR_CAMPAIGN_NOT_IN_REVIEW', `contactId: contact ${contactId} is ${contact.state}, not in review (it may have been resolved already)`, { statusCode: 409 });
    }
    const { rows: open } = await client.query<{ n: number }>("SELECT count(*)::int AS n FROM campaign_attempts WHERE contact_id = $1 AND state IN ('claimed', 'sending', 'placed')", [contactId]);
    if ((open[0]?.n ?? 0) > 0) {
      throw createError('GW_ERR_CAMPAIGN_NOT_IN_REVIEW', `contactId: contact ${contactId} has an attempt in flight; wait for it to settle`, { statusCode: 409 });
    }
    const { rows: last } = await client.query<LastCall>(
      `SELECT k.created_at, k.ended_at, k.end_reason FROM campaign_attempts a JOIN calls k ON k.id = a.call_id
        WHERE a.contact_id = $1 AND a.state = 'settled' ORDER BY a.attempt DESC LIMIT 1`,
      [contactId],
    );
    let updated: ContactRow | undefined;
    let notBefore: Date | null = null;
    const data: Record<string, unknown> = { contactId, action: r.action, ...(r.note ? { note: r.note } : {}) };
    if (r.action === 'done') {
      const disposition = r.disposition ?? 'reviewed';
      data.disposition = disposition;
      ({ rows: [updated] } = await client.query<ContactRow>("UPDATE campaign_contacts SET state = 'done', disposition = $2, updated_at = now() WHERE id = $1 RETURNING *", [contactId, disposition]));
    } else if (r.action === 'requeue') {
      notBefore = lastCallOverAt(last[0], campaign.settings);
      const wanted = r.at ?? now;
      const at = notBefore !== null && notBefore.getTime() > wanted.getTime() ? notBefore : wanted;
      data.nextAttemptAt = at.toISOString();
      if (campaign.state === 'stopped') {
        throw createError('GW_ERR_CAMPAIGN_ENDED', `campaign ${campaignId} is stopped: a requeued contact would never be dialed; mark it done, or import it into a new campaign`, { statusCode: 409 });
      }
      // A campaign completes when nothing is left to dial, contacts in review aside: requeuing one
      // gives it something to dial again.
      if (campaign.state === 'completed') {
        await client.query("UPDATE campaigns SET state = 'running', state_reason = 'reopened: a contact was requeued from review', ended_at = NULL, next_dial_at = now(), updated_at = now() WHERE id = $1", [campaignId]);
        await client.query("INSERT INTO campaign_events (campaign_id, actor, type, data) VALUES ($1, $2, 'reopened', $3::jsonb)", [campaignId, actor, JSON.stringify({ contactId })]);
        data.reopened = true;
      }
      ({ rows: [updated] } = await client.query<ContactRow>("UPDATE campaign_contacts SET state = 'queued', disposition = NULL, next_attempt_at = $2, updated_at = now() WHERE id = $1 RETURNING *", [contactId, at]));
    } else {
      await client.query("INSERT INTO do_not_call (e164, source, reason, actor) VALUES ($1, 'review', $2, $3) ON CONFLICT (e164) DO NOTHING", [contact.phone, r.note ?? 'resolved from review', actor]);
      // Every campaign's queue, as adding to the list through the API does.
      await client.query("UPDATE campaign_contacts SET state = 'do-not-call', disposition = 'do-not-call', updated_at = now() WHERE phone = $1 AND state = 'queued'", [contact.phone]);
      ({ rows: [updated] } = await client.query<ContactRow>("UPDATE campaign_contacts SET state = 'do-not-call', disposition = 'do-not-call', updated_at = now() WHERE id = $1 RETURNING *", [contactId]));
    }
    await client.query("INSERT INTO campaign_events (campaign_id, actor, type, data) VALUES ($1, $2, 'contact.resolved', $3::jsonb)", [campaignId, actor, JSON.stringify(data)]);
    return { contact: toContact(updated as ContactRow), notBefore: notBefore?.toISOString() ?? null };
  });
}
