// The campaign engine: one per gateway process, all of them sharing the work through the database.
// Each tick it claims due contacts of running campaigns within pacing (dialQueue.ts), places their
// calls (placeCall.ts, like POST /v1/calls), settles attempts whose calls ended — whoever served them
// (settle.ts) — pauses a campaign whose abandon rate passed its limit, completes campaigns with
// nothing left to dial, and reconciles attempts nobody will finish: claims of a dead instance, and
// calls whose end never arrived (asked of the carrier's REST API, never redialed blindly).
import { campaignDials } from '../observability/metrics.ts';
import type pg from 'pg';
import { placeOutboundCall } from '../api/placeCall.ts';
import type { Config } from '../config.ts';
import { GatewayError, isAbortError } from '../errors.ts';
import type { CarrierClients } from '../gateway/carrierClients.ts';
import { isTerminalStatus, parseCallStatus, type CallStore } from '../store/calls.ts';
import type { ChangeFeed } from '../store/changeFeed.ts';
import { claimDue, type ClaimedDial } from './dialQueue.ts';
import { withDefaults, type CampaignSettings } from './settings.ts';
import { cancelClaim, settleAttempt, settleEndedCalls } from './settle.ts';
import { abandonFigures } from './stats.ts';

export interface EngineLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface CampaignEngineDeps {
  pool: pg.Pool;
  calls: CallStore;
  clients: CarrierClients;
  config: Pick<Config, 'publicUrl' | 'carriers'>;
  /** Signs the context in the webhook URLs of the calls it places (api/placeCall.ts). */
  streamTokenSecret: string;
  /** This process; recorded on every attempt it places. */
  instanceId: string;
  log: EngineLogger;
  /** Default 200 ms. */
  tickMs?: number;
  /** Dials per second per carrier account (Twilio and SignalWire default to 1). */
  accountCps?: number;
  /** A claim still not sent after this long belongs to a dead or stuck instance. Default 60 s. */
  staleClaimMs?: number;
  /**
   * Only this process uses the database (embedded PGlite): a campaign starts only through this
   * process's API, which wakes the engine, so with no running campaign and no attempt outstanding
   * it asks the database once every DORMANT_TICK_MS instead of ticking every second.
   */
  exclusive?: boolean;
  /**
   * The change feed: a campaign becoming running anywhere is announced on CAMPAIGN_CHANNEL (migration
   * 010), so once it listens an idle dialer sleeps like an exclusive one — one query every
   * DORMANT_TICK_MS instead of two a second — and wakes on the notification (or a resync).
   */
  changes?: Pick<ChangeFeed, 'subscribe' | 'ready'>;
  /** Default DORMANT_TICK_MS (tests shorten it). */
  dormantTickMs?: number;
  now?: () => Date;
}

/** The channel migration 010's trigger announces a campaign becoming running on (payload: its id). */
export const CAMPAIGN_CHANNEL = 'gateway_campaigns';

interface RunningCampaign {
  id: string;
  carrier: 'twilio' | 'signalwire';
  flow_id: string;
  flow_version: number | null;
  settings: CampaignSettings;
}

const SWEEP_EVERY_MS = 5000;
/** Margin on top of ring time and the longest call before a call's end is asked of the carrier. */
const OVERDUE_MARGIN_S = 60;
/**
 * Margin on top of ring time for a call never answered: a lost status callback must not hold its
 * concurrency slot (and its contact) for the length of the longest call.
 */
const UNANSWERED_MARGIN_S = 20;

/** Tick period while no campaign runs and nothing is left to settle. */
const IDLE_TICK_MS = 1000;
/**
 * Check period of a dormant engine (nothing running or outstanding, and an exclusive database or a
 * listening change feed): one query instead of a tick's two to five a second, which were most of an
 * idle database's work. It only bounds how late a campaign made running is noticed when neither
 * wake() nor the feed's notification told this process (a lost notification: the feed's connection
 * dropped it and its resync did not come).
 */
const DORMANT_TICK_MS = 10_000;

export class CampaignEngine {
  readonly instanceId: string;
  private readonly deps: CampaignEngineDeps;
  private readonly now: () => Date;
  private readonly dials = new Set<Promise<void>>();
  private readonly stopped = new AbortController();
  private loop: Promise<void> | undefined;
  private lastSweep = 0;
  private failures = 0;
  private wakeUp: (() => void) | undefined;
  /** The last tick found no running campaign, nothing to settle and no dial under way. */
  private idle = false;
  /** Idle on an exclusive database with no attempt outstanding: nothing can need a tick until wake(). */
  private dormant = false;
  /** Counts wake() calls: a wake during a tick keeps that tick from making the engine dormant. */
  private wakes = 0;
  /** Sleeping is allowed: the database is exclusive, or the change feed listens for campaigns. */
  private canSleep: boolean;
  private unsubscribe: (() => void) | undefined;

  constructor(deps: CampaignEngineDeps) {
    this.deps = deps;
    this.instanceId = deps.instanceId;
    this.now = deps.now ?? (() => new Date());
    this.canSleep = deps.exclusive === true;
  }

  start(): void {
    if (this.loop !== undefined) return;
    const feed = this.deps.changes;
    if (feed !== undefined) {
      // Any notification wakes it, RESYNC included (the feed reconnected and may have missed some).
      this.unsubscribe = feed.subscribe(CAMPAIGN_CHANNEL, () => this.wake());
      // Only once LISTEN is in place: a campaign started before then is seen by the tick this wake runs.
      void feed.ready().then(() => {
        if (this.stopped.signal.aborted) return;
        this.canSleep = true;
        this.wake();
      });
    }
    this.loop = this.run();
  }

  /** Run a tick soon (a campaign was started or resumed). */
  wake(): void {
    this.wakes++;
    this.dormant = false;
    this.wakeUp?.();
  }

  /** Stop claiming; calls already placed go on and are settled by whichever instance is left. */
  async close(): Promise<void> {
    this.stopped.abort();
    this.unsubscribe?.();
    this.wakeUp?.();
    await this.loop;
    await Promise.allSettled([...this.dials]);
  }

  /** Resolves when every dial this process started has been handed to the carrier (or failed). */
  async settleDials(): Promise<void> {
    await Promise.allSettled([...this.dials]);
  }

  private async run(): Promise<void> {
    const tickMs = this.deps.tickMs ?? 200;
    while (!this.stopped.signal.aborted) {
      try {
        if (!this.dormant || (await this.hasWork())) await this.tick();
        this.failures = 0;
      } catch (err) {
        // Logged on the first failure and then every 50th: a database outage must not flood the log.
        if (!isAbortError(err) && this.failures++ % 50 === 0) this.deps.log.error({ err, failures: this.failures }, 'campaign tick failed; retrying');
      }
      await new Promise<void>((resolve) => {
        // Nothing to do: ask the database less often (its queries are most of an idle database's
        // work); a campaign started here wakes the loop at once, elsewhere through the change feed
        // (or, without one, within a second).
        const timer = setTimeout(done, this.dormant ? (this.deps.dormantTickMs ?? DORMANT_TICK_MS) : this.idle ? Math.max(tickMs, IDLE_TICK_MS) : tickMs);
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        this.wakeUp = done;
      });
      this.wakeUp = undefined;
    }
  }

  /** One pass: claim and dial, settle, and now and then sweep. Exposed for tests and benchmarks. */
  async tick(): Promise<void> {
    const { pool } = this.deps;
    const now = this.now();
    const wakes = this.wakes;
    const { rows: running } = await pool.query<RunningCampaign>("SELECT id, carrier, flow_id, flow_version, settings FROM campaigns WHERE state = 'running'");
    for (const c of running) {
      if (this.stopped.signal.aborted) break;
      await this.claimAndDial(c, now);
    }
    const settled = await settleEndedCalls(pool, this.now());
    this.idle = running.length === 0 && settled.length === 0 && this.dials.size === 0;
    const dormant = this.idle && this.canSleep && !(await this.hasWork());
    // A campaign started while this tick ran (its wake() came after the reads above) keeps it awake.
    this.dormant = dormant && this.wakes === wakes;
    const abandonedIn = new Set(settled.filter((s) => s.abandoned).map((s) => s.campaignId));
    for (const id of abandonedIn) await this.checkAbandonRate(id);
    for (const c of running) await this.completeIfDone(c.id);
    if (now.getTime() - this.lastSweep >= SWEEP_EVERY_MS) {
      this.lastSweep = now.getTime();
      await this.sweep(now);
    }
  }

  /** Whether a campaign runs or an attempt is outstanding (claimed, being sent, or placed and not settled). */
  private async hasWork(): Promise<boolean> {
    const { rows } = await this.deps.pool.query<{ work: boolean }>(
      "SELECT EXISTS (SELECT 1 FROM campaigns WHERE state = 'running') OR EXISTS (SELECT 1 FROM campaign_attempts WHERE state IN ('claimed', 'sending', 'placed')) AS work",
    );
    return rows[0]?.work !== false;
  }

  private accountKey(carrier: 'twilio' | 'signalwire'): string {
    const c = this.deps.config.carriers;
    return carrier === 'twilio' ? `twilio:${c.twilio?.accountSid ?? ''}` : `signalwire:${c.signalwire?.projectId ?? ''}`;
  }

  private async claimAndDial(c: RunningCampaign, now: Date): Promise<void> {
    if (this.deps.clients[c.carrier] === undefined) {
      await this.systemPause(c.id, `no ${c.carrier} credentials on this gateway: set them and resume`);
      return;
    }
    const claim = await claimDue(this.deps.pool, { campaignId: c.id, accountKey: this.accountKey(c.carrier), accountCps: this.deps.accountCps ?? 1, instanceId: this.instanceId, now });
    for (const d of claim.dials) this.track(this.dial(c, d));
  }

  private track(p: Promise<void>): void {
    this.dials.add(p);
    void p.finally(() => this.dials.delete(p));
  }

  private async dial(c: RunningCampaign, d: ClaimedDial): Promise<void> {
    const { pool, calls, log } = this.deps;
    const client = this.deps.clients[c.carrier];
    if (client === undefined) return;
    const { amd } = withDefaults(c.settings);
    try {
      const result = await placeOutboundCall(
        { config: this.deps.config, calls, client, streamTokenSecret: this.deps.streamTokenSecret, onNoteFailed: (err, callId) => log.warn({ err, callId }, 'recording the carrier call id failed; the webhook will fill it in') },
        {
          id: d.callId,
          carrier: c.carrier,
          to: d.phone,
          from: d.callerId,
          flowId: c.flow_id,
          // The version pinned when the campaign started: a redeploy does not change a running campaign.
          flowVersion: c.flow_version,
          variables: { ...d.variables, contact: { ...d.variables, name: d.name, phone: d.phone } },
          amd: c.settings.amd.enabled,
          timeoutS: c.settings.ringTimeoutS,
          metadata: {
            campaign: {
              id: c.id,
              contactId: d.contactId,
              attemptId: d.attemptId,
              voicemailPolicy: c.settings.voicemailPolicy,
              hangupConfidence: amd.hangupConfidence,
              dropMessage: amd.dropMessage,
            },
          },
        },
      );
      if (result.kind === 'placed') {
        campaignDials.inc({ campaign: c.id });
        await pool.query("UPDATE campaign_attempts SET state = 'placed', carrier_call_id = $2, placed_at = now() WHERE id = $1 AND state = 'claimed'", [d.attemptId, result.carrierCallId]);
      } else if (result.kind === 'rejected') {
        await settleAttempt(pool, this.now(), { attemptId: d.attemptId, outcome: 'failed', carrierError: true, detail: { error: result.error.code, message: result.error.message } });
      } else {
        log.warn({ attemptId: d.attemptId, callId: d.callId }, 'carrier timed out after the call was sent: outcome unknown, the contact waits for review');
        await settleAttempt(pool, this.now(), { attemptId: d.attemptId, outcome: 'unknown', detail: { error: result.error.code } });
      }
    } catch (err) {
      // Before the carrier was asked (the call record could not be written) the claim is undone;
      // otherwise the sweep decides from the record.
      log.error({ err, attemptId: d.attemptId }, 'placing a campaign call failed');
      const record = await calls.get(d.callId).catch(() => undefined);
      if (record === null) await cancelClaim(pool, d.attemptId, 'call record not written').catch(() => undefined);
    }
  }

  private async systemPause(campaignId: string, reason: string): Promise<void> {
    const { rows } = await this.deps.pool.query<{ id: string }>(
      `WITH c AS (UPDATE campaigns SET state = 'paused', state_reason = $2, updated_at = now() WHERE id = $1 AND state = 'running' RETURNING id)
       INSERT INTO campaign_events (campaign_id, actor, type, data) SELECT id, 'system', 'pause', $3::jsonb FROM c RETURNING campaign_id AS id`,
      [campaignId, reason, JSON.stringify({ reason })],
    );
    if (rows.length > 0) this.deps.log.warn({ campaignId, reason }, 'campaign paused itself');
  }

  private async checkAbandonRate(campaignId: string): Promise<void> {
    const { rows } = await this.deps.pool.query<{ settings: CampaignSettings }>('SELECT settings FROM campaigns WHERE id = $1', [campaignId]);
    const limit = rows[0]?.settings.abandonRateLimit;
    if (limit === undefined) return;
    const f = await abandonFigures(this.deps.pool, campaignId, this.now());
    if (f.rate * 100 > limit) {
      await this.systemPause(campaignId, `abandon rate ${(f.rate * 100).toFixed(1)}% (${f.abandoned} of ${f.live} live answers in 30 days) is above the limit of ${limit}%`);
    }
  }

  private async completeIfDone(campaignId: string): Promise<void> {
    await this.deps.pool.query(
      `WITH c AS (
         UPDATE campaigns SET state = 'completed', state_reason = 'no contact left to dial', ended_at = now(), updated_at = now()
          WHERE id = $1 AND state = 'running'
            -- An empty campaign waits for its import rather than completing at once.
            AND EXISTS (SELECT 1 FROM campaign_contacts WHERE campaign_id = $1)
            AND NOT EXISTS (SELECT 1 FROM campaign_contacts WHERE campaign_id = $1 AND state IN ('queued', 'dialing'))
            AND NOT EXISTS (SELECT 1 FROM campaign_attempts WHERE campaign_id = $1 AND state IN ('claimed', 'placed'))
          RETURNING id)
       INSERT INTO campaign_events (campaign_id, actor, type, data) SELECT id, 'system', 'completed', '{}'::jsonb FROM c`,
      [campaignId],
    );
  }

  /**
   * Reconcile what a lost instance left open. Its claims never sent are undone (the contact is due
   * again); a claim whose call record exists may have reached the carrier: it is linked if the
   * carrier's id is known, else its outcome is unknown (review, never redialed). Placed calls need
   * nothing here: their end reaches the database through the carrier's callbacks to any instance.
   */
  async reconcileLostInstance(instanceId: string): Promise<{ requeued: number; unknown: number; linked: number }> {
    const { rows } = await this.deps.pool.query<{ id: string; call_id: string }>("SELECT id, call_id FROM campaign_attempts WHERE instance_id = $1 AND state = 'claimed'", [instanceId]);
    return this.reconcileClaims(rows);
  }

  private async reconcileClaims(claims: Array<{ id: string; call_id: string }>): Promise<{ requeued: number; unknown: number; linked: number }> {
    const out = { requeued: 0, unknown: 0, linked: 0 };
    for (const a of claims) {
      const call = await this.deps.calls.get(a.call_id);
      if (call === null) {
        if (await cancelClaim(this.deps.pool, a.id, 'never sent (instance lost)')) out.requeued++;
      } else if (call.carrierCallId !== null) {
        await this.deps.pool.query("UPDATE campaign_attempts SET state = 'placed', carrier_call_id = $2, placed_at = now() WHERE id = $1 AND state = 'claimed'", [a.id, call.carrierCallId]);
        out.linked++;
      } else if (call.endedAt === null) {
        // The request may or may not have reached the carrier: never dial it again on a guess.
        await this.deps.calls.end({ id: call.id }, 'outcome_unknown', 'failed');
        if (await settleAttempt(this.deps.pool, this.now(), { attemptId: a.id, outcome: 'unknown', detail: { reconciled: 'instance lost while sending' } })) out.unknown++;
      }
    }
    if (claims.length > 0) this.deps.log.info({ ...out }, 'reconciled open campaign claims');
    return out;
  }

  private async sweep(now: Date): Promise<void> {
    const staleMs = this.deps.staleClaimMs ?? 60_000;
    const { rows: stale } = await this.deps.pool.query<{ id: string; call_id: string }>(
      "SELECT id, call_id FROM campaign_attempts WHERE state = 'claimed' AND created_at < $1::timestamptz - make_interval(secs => $2) LIMIT 500",
      [now, staleMs / 1000],
    );
    await this.reconcileClaims(stale);
    await this.reconcileOverdue(now);
  }

  /** Placed calls whose end never arrived (unanswered past their ring time, or past the longest call): ask the carrier. */
  private async reconcileOverdue(now: Date): Promise<void> {
    const { rows } = await this.deps.pool.query<{ id: string; call_id: string; carrier: 'twilio' | 'signalwire'; carrier_call_id: string | null }>(
      `SELECT a.id, a.call_id, a.carrier, a.carrier_call_id FROM campaign_attempts a
         JOIN campaigns c ON c.id = a.campaign_id JOIN calls k ON k.id = a.call_id
        WHERE a.state = 'placed' AND k.ended_at IS NULL
          AND (
            -- Never answered and past its ring time: the end (no-answer, busy…) should have come.
            (k.answered_at IS NULL AND a.placed_at < $1::timestamptz - make_interval(secs => (c.settings->>'ringTimeoutS')::int + $3))
            OR a.placed_at < $1::timestamptz - make_interval(secs => (c.settings->>'ringTimeoutS')::int + (c.settings->>'maxCallS')::int + $2))
        LIMIT 100`,
      [now, OVERDUE_MARGIN_S, UNANSWERED_MARGIN_S],
    );
    for (const a of rows) {
      const client = this.deps.clients[a.carrier];
      if (client === undefined || a.carrier_call_id === null) continue;
      try {
        const remote = await client.getCall(a.carrier_call_id);
        const status = parseCallStatus(remote.status);
        if (status !== null && isTerminalStatus(status)) {
          await this.deps.calls.applyStatus(a.carrier, a.carrier_call_id, status, now);
          await this.deps.calls.end({ id: a.call_id }, `carrier_${status}`, status);
        }
      } catch (err) {
        const details = err instanceof GatewayError ? (err.details as { status?: number } | undefined) : undefined;
        if (details?.status === 404) {
          await this.deps.calls.end({ id: a.call_id }, 'carrier_unknown_call', 'failed');
          await settleAttempt(this.deps.pool, now, { attemptId: a.id, outcome: 'unknown', detail: { reconciled: 'carrier does not know the call' } });
        } else {
          this.deps.log.warn({ err, attemptId: a.id }, 'asking the carrier about an overdue call failed; will retry');
        }
      }
    }
  }
}
