// Campaign storage: campaigns (with their settings document), their audit trail of transitions, and
// the read side of contacts and attempts (shapes in records.ts). The dialer's claim and settlement
// live in dialQueue.ts and settle.ts.
import { randomUUID } from 'node:crypto';
import { createError } from '../errors.ts';
import type pg from 'pg';
import { toAttempt, toCampaign, toContact, type Attempt, type AttemptRow, type Campaign, type CampaignEvent, type CampaignRow, type CampaignState, type Contact, type ContactRow, type ContactState } from './records.ts';
import { mergeSettings, type CampaignSettings } from './settings.ts';

/** Allowed transitions (`draft → running ⇄ paused → stopped | completed`) and the state they lead to. */
const TRANSITIONS: Record<'start' | 'pause' | 'resume' | 'stop', { from: CampaignState[]; to: CampaignState }> = {
  start: { from: ['draft'], to: 'running' },
  pause: { from: ['running'], to: 'paused' },
  resume: { from: ['paused'], to: 'running' },
  stop: { from: ['draft', 'running', 'paused'], to: 'stopped' },
};
export type CampaignAction = keyof typeof TRANSITIONS;

function encodeCursor(v: unknown[]): string {
  return Buffer.from(JSON.stringify(v)).toString('base64url');
}

function decodeCursor(cursor: string, field = 'cursor'): unknown[] {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v)) return v;
  } catch {
    // fall through to the error
  }
  throw createError('GW_ERR_CAMPAIGN_BAD_CURSOR', `${field}: not a cursor this server issued; pass nextCursor from the previous page unchanged`, { statusCode: 400 });
}

export class CampaignStore {
  readonly #db: pg.Pool;

  constructor(db: pg.Pool) {
    this.#db = db;
  }

  /** The pool (transactions: review.ts). */
  get db(): pg.Pool {
    return this.#db;
  }

  async create(input: { name: string; flowId: string; flowVersion: number | null; carrier: 'twilio' | 'signalwire'; settings: CampaignSettings }, actor: string): Promise<Campaign> {
    const id = randomUUID();
    const { rows } = await this.#db.query<CampaignRow>(
      `WITH c AS (
         INSERT INTO campaigns (id, name, state, flow_id, flow_version, carrier, settings) VALUES ($1, $2, 'draft', $3, $4, $5, $6::jsonb) RETURNING *
       ), e AS (
         INSERT INTO campaign_events (campaign_id, actor, type, data) SELECT id, $7, 'created', '{}'::jsonb FROM c
       )
       SELECT * FROM c`,
      [id, input.name, input.flowId, input.flowVersion, input.carrier, JSON.stringify(input.settings), actor],
    );
    return toCampaign(rows[0] as CampaignRow);
  }

  async get(id: string): Promise<Campaign | null> {
    const { rows } = await this.#db.query<CampaignRow>('SELECT * FROM campaigns WHERE id = $1', [id]);
    return rows[0] === undefined ? null : toCampaign(rows[0]);
  }

  async mustGet(id: string): Promise<Campaign> {
    const c = await this.get(id);
    if (c === null) throw createError('GW_ERR_CAMPAIGN_NOT_FOUND', `no campaign ${id}; list them with GET /v1/campaigns`, { statusCode: 404 });
    return c;
  }

  async list(opts: { state?: CampaignState; limit: number; cursor?: string }): Promise<{ campaigns: Campaign[]; nextCursor: string | null }> {
    const values: unknown[] = [];
    const where: string[] = [];
    if (opts.state !== undefined) where.push(`state = $${values.push(opts.state)}`);
    if (opts.cursor !== undefined) {
      const [at, id] = decodeCursor(opts.cursor);
      where.push(`(created_at, id) < ($${values.push(new Date(Number(at)))}::timestamptz, $${values.push(String(id))})`);
    }
    const { rows } = await this.#db.query<CampaignRow>(
      `SELECT * FROM campaigns ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC LIMIT $${values.push(opts.limit + 1)}`,
      values,
    );
    const page = rows.slice(0, opts.limit);
    const last = page.at(-1);
    return { campaigns: page.map(toCampaign), nextCursor: rows.length > opts.limit && last ? encodeCursor([last.created_at.getTime(), last.id]) : null };
  }

  /** Merge a settings patch (and name/flow) in one statement; the next claim reads the new values. */
  async update(id: string, patch: { name?: string; flowId?: string; flowVersion?: number | null; settings?: Partial<Record<keyof CampaignSettings, unknown>> }, actor: string, check: (s: CampaignSettings) => string | undefined): Promise<Campaign> {
    const current = await this.mustGet(id);
    if (current.state === 'stopped' || current.state === 'completed') {
      throw createError('GW_ERR_CAMPAIGN_ENDED', `campaign ${id} is ${current.state}; create a new campaign instead`, { statusCode: 409 });
    }
    const { id: _i, name: _n, state: _s, stateReason: _r, flowId: _f, flowVersion: _v, carrier: _c, createdAt: _a, updatedAt: _u, startedAt: _st, endedAt: _e, ...settings } = current;
    const merged = mergeSettings(settings, patch.settings ?? {});
    const problem = check(merged);
    if (problem !== undefined) throw createError('GW_ERR_CAMPAIGN_INVALID', problem, { statusCode: 400 });
    const { rows } = await this.#db.query<CampaignRow>(
      `WITH c AS (
         UPDATE campaigns SET settings = $2::jsonb, name = COALESCE($3, name), flow_id = COALESCE($4, flow_id),
           flow_version = CASE WHEN $5::boolean THEN $6::integer ELSE flow_version END, updated_at = now()
         WHERE id = $1 RETURNING *
       ), e AS (
         INSERT INTO campaign_events (campaign_id, actor, type, data) SELECT id, $7, 'updated', $8::jsonb FROM c
       )
       SELECT * FROM c`,
      [id, JSON.stringify(merged), patch.name ?? null, patch.flowId ?? null, patch.flowVersion !== undefined, patch.flowVersion ?? null, actor, JSON.stringify({
        changed: Object.keys({ ...patch.settings, ...(patch.name ? { name: 1 } : {}), ...(patch.flowId ? { flowId: 1 } : {}), ...(patch.flowVersion !== undefined ? { flowVersion: 1 } : {}) }),
        ...(patch.flowVersion !== undefined ? { flowVersion: patch.flowVersion } : {}),
      })],
    );
    return toCampaign(rows[0] as CampaignRow);
  }

  /**
   * One transition, checked against the state in the same statement (concurrent requests cannot both
   * win). `pinFlowVersion` (start) fixes the flow version the campaign dials with, unless one is set.
   */
  async transition(id: string, action: CampaignAction, actor: string, reason?: string, pinFlowVersion?: number | null): Promise<Campaign> {
    const t = TRANSITIONS[action];
    const pin = pinFlowVersion !== undefined && pinFlowVersion !== null;
    const { rows } = await this.#db.query<CampaignRow>(
      `WITH c AS (
         UPDATE campaigns SET state = $2, state_reason = $4, updated_at = now(),
           started_at = CASE WHEN $2 = 'running' THEN COALESCE(started_at, now()) ELSE started_at END,
           ended_at = CASE WHEN $2 IN ('stopped', 'completed') THEN now() ELSE ended_at END,
           next_dial_at = CASE WHEN $2 = 'running' THEN now() ELSE next_dial_at END,
           flow_version = CASE WHEN $8::boolean THEN COALESCE(flow_version, $9::integer) ELSE flow_version END
         WHERE id = $1 AND state = ANY($3::text[]) RETURNING *
       ), e AS (
         INSERT INTO campaign_events (campaign_id, actor, type, data)
           SELECT id, $5, $6, $7::jsonb || CASE WHEN $8::boolean THEN jsonb_build_object('flowVersion', flow_version) ELSE '{}'::jsonb END FROM c
       )
       SELECT * FROM c`,
      [id, t.to, t.from, reason ?? null, actor, action, JSON.stringify(reason ? { reason } : {}), pin, pin ? pinFlowVersion : null],
    );
    if (rows[0] !== undefined) return toCampaign(rows[0]);
    const current = await this.mustGet(id);
    throw createError('GW_ERR_CAMPAIGN_STATE', `cannot ${action} a campaign that is ${current.state} (allowed from ${t.from.join(', ')})`, { statusCode: 409 });
  }

  async addEvent(campaignId: string, actor: string, type: string, data: Record<string, unknown> = {}): Promise<void> {
    await this.#db.query('INSERT INTO campaign_events (campaign_id, actor, type, data) VALUES ($1, $2, $3, $4::jsonb)', [campaignId, actor, type, JSON.stringify(data)]);
  }

  async events(campaignId: string, opts: { limit: number; after?: number }): Promise<{ events: CampaignEvent[]; nextCursor: string | null }> {
    const { rows } = await this.#db.query<{ id: string; at: Date; actor: string; type: string; data: Record<string, unknown> }>(
      'SELECT id, at, actor, type, data FROM campaign_events WHERE campaign_id = $1 AND id > $2 ORDER BY id LIMIT $3',
      [campaignId, opts.after ?? 0, opts.limit + 1],
    );
    const page = rows.slice(0, opts.limit);
    return {
      events: page.map((r) => ({ id: Number(r.id), at: r.at.toISOString(), actor: r.actor, type: r.type, data: r.data })),
      nextCursor: rows.length > opts.limit && page.length > 0 ? String((page.at(-1) as { id: string }).id) : null,
    };
  }

  async listContacts(campaignId: string, opts: { state?: ContactState; limit: number; cursor?: string }): Promise<{ contacts: Contact[]; nextCursor: string | null }> {
    const values: unknown[] = [campaignId];
    const where = ['campaign_id = $1'];
    if (opts.state !== undefined) where.push(`state = $${values.push(opts.state)}`);
    if (opts.cursor !== undefined) where.push(`id > $${values.push(String(decodeCursor(opts.cursor)[0]))}`);
    const { rows } = await this.#db.query<ContactRow>(`SELECT * FROM campaign_contacts WHERE ${where.join(' AND ')} ORDER BY id LIMIT $${values.push(opts.limit + 1)}`, values);
    const page = rows.slice(0, opts.limit);
    const last = page.at(-1);
    return { contacts: page.map(toContact), nextCursor: rows.length > opts.limit && last ? encodeCursor([last.id]) : null };
  }

  async getContact(campaignId: string, contactId: string): Promise<{ contact: Contact; attempts: Attempt[] } | null> {
    const { rows } = await this.#db.query<ContactRow>('SELECT * FROM campaign_contacts WHERE campaign_id = $1 AND id = $2', [campaignId, contactId]);
    if (rows[0] === undefined) return null;
    const attempts = await this.#db.query<AttemptRow>('SELECT * FROM campaign_attempts WHERE contact_id = $1 ORDER BY attempt', [contactId]);
    return { contact: toContact(rows[0]), attempts: attempts.rows.map(toAttempt) };
  }

  /** Skip a named contact, or the next one due; only a queued contact can be skipped. */
  async skip(campaignId: string, contactId: string | undefined, actor: string): Promise<Contact> {
    const { rows } = await this.#db.query<ContactRow>(
      `UPDATE campaign_contacts SET state = 'skipped', disposition = 'skipped', updated_at = now()
       WHERE id = (
         SELECT id FROM campaign_contacts WHERE campaign_id = $1 AND state = 'queued' AND ($2::text IS NULL OR id = $2)
         ORDER BY priority DESC, next_attempt_at, id LIMIT 1 FOR UPDATE SKIP LOCKED
       ) RETURNING *`,
      [campaignId, contactId ?? null],
    );
    const row = rows[0];
    if (row === undefined) {
      throw createError('GW_ERR_CAMPAIGN_NOTHING_TO_SKIP', contactId ? `contactId: contact ${contactId} is not queued in this campaign (only a queued contact can be skipped)` : 'no contact is queued in this campaign', { statusCode: 409 });
    }
    await this.addEvent(campaignId, actor, 'contact.skipped', { contactId: row.id });
    return toContact(row);
  }
}
