// Instances know each other (DESIGN decision 11). Each gateway process (each cluster worker too) has
// an instance id and a heartbeat row; calls record the instance serving them. When an instance's
// heartbeat stops (SIGKILL, lost host) its open calls would stay `in-progress` forever, so any live
// instance — the next one to start, or one already running — closes them with end reason
// `gateway_lost`, hangs their carrier calls up if they are still live, and tells every registered
// `onInstanceLost` handler (campaigns reconcile their dial attempts there).
//
// Safe with several instances: a lost instance is claimed with a lease (FOR UPDATE SKIP LOCKED picks
// an unclaimed one), each step is idempotent, and a reconciler that dies half-way is replaced when
// its lease runs out. A database outage is not mistaken for a dead instance: an instance reconciles
// others only after its own heartbeat has been written without interruption for `deadAfterMs`, and
// every instance's heartbeat resumes within one period of the database's return.
import { hostname } from 'node:os';
import type { Carrier } from '../call/events.ts';
import type { Queryable, StoreLogger } from './db.ts';

/** End reason of calls closed because the instance serving them was lost. */
export const GATEWAY_LOST = 'gateway_lost';

/** Longest wait, at stop, for the last heartbeat and the "stopped" mark. */
const STOP_WAIT_MS = 500;

export interface InstanceMonitorOptions {
  db: Queryable;
  log: StoreLogger;
  instanceId: string;
  /** Heartbeat period. Default 2 000. */
  heartbeatMs?: number;
  /** An instance whose heartbeat is older than this is lost. Default 15 000. */
  deadAfterMs?: number;
  /**
   * Only this process writes to this database (embedded PGlite): no other instance can be alive and
   * merely cut off from it, so reconciliation need not first see the database for `deadAfterMs`.
   * (Another instance is still lost only once its heartbeat is `deadAfterMs` old.)
   */
  exclusive?: boolean;
  /** Hangs a carrier call up through the carrier's REST API (absent without credentials). */
  hangup?: (carrier: Carrier, carrierCallId: string) => Promise<void>;
  /** How long a claim on a lost instance lasts before another instance may take over. Default 60 000. */
  leaseMs?: number;
}

/** This instance's heartbeat ($1 its id, then its host and pid at the given parameter numbers). */
const heartbeatSql = (host: number, pid: number): string =>
  `INSERT INTO gateway_instances (id, host, pid) VALUES ($1, $${host}, $${pid}) ON CONFLICT (id) DO UPDATE SET heartbeat_at = now()`;

/** Claims one lost instance not claimed by a live reconciler ($1 this id, $2 lease ms, $3 dead-after ms). */
const CLAIM_LOST_SQL = `UPDATE gateway_instances SET reconciling_by = $1, reconciling_until = now() + $2::int * interval '1 millisecond'
  WHERE id = (
    SELECT id FROM gateway_instances
     WHERE reconciled_at IS NULL AND id <> $1
       AND (stopped_at IS NOT NULL OR heartbeat_at < now() - $3::int * interval '1 millisecond')
       AND (reconciling_until IS NULL OR reconciling_until < now())
     ORDER BY heartbeat_at LIMIT 1
     FOR UPDATE SKIP LOCKED)
  RETURNING id`;

export type InstanceLostHandler = (instanceId: string) => Promise<void>;

export interface ReconcileReport {
  instanceId: string;
  callsClosed: number;
  carrierHangups: number;
  hangupFailures: number;
}

interface ClosedCall {
  id: string;
  carrier: Carrier;
  carrier_call_id: string | null;
  prior_status: string;
}

export class InstanceMonitor {
  readonly id: string;
  readonly #db: Queryable;
  readonly #log: StoreLogger;
  readonly #heartbeatMs: number;
  readonly #deadAfterMs: number;
  readonly #exclusive: boolean;
  readonly #hangup: InstanceMonitorOptions['hangup'];
  readonly #leaseMs: number;
  readonly #handlers = new Set<InstanceLostHandler>();
  #timer: NodeJS.Timeout | undefined;
  #tick: Promise<void> | undefined;
  /** performance.now() of the first heartbeat of the current unbroken run of successful ones. */
  #healthySince: number | undefined;
  /**
   * Exclusive database only: whether another instance may still need reconciling. No other process
   * writes there, so once every other instance's row is reconciled none can appear: the heartbeat is
   * then one query, not two (an idle embedded database's work is this process's CPU).
   */
  #othersLeft = true;
  #stopped = false;
  readonly counters = { heartbeats: 0, heartbeatFailures: 0, instancesReconciled: 0, callsClosed: 0, carrierHangups: 0 };

  constructor(opts: InstanceMonitorOptions) {
    this.id = opts.instanceId;
    this.#db = opts.db;
    this.#log = opts.log;
    this.#heartbeatMs = opts.heartbeatMs ?? 2_000;
    this.#deadAfterMs = opts.deadAfterMs ?? 15_000;
    this.#exclusive = opts.exclusive ?? false;
    this.#hangup = opts.hangup;
    this.#leaseMs = opts.leaseMs ?? 60_000;
  }

  /** Registers a handler run (awaited) for each lost instance, after its calls are closed. */
  onInstanceLost(handler: InstanceLostHandler): () => void {
    this.#handlers.add(handler);
    return () => this.#handlers.delete(handler);
  }

  /** Writes the first heartbeat (retried in the background if the database is down) and starts the timer. */
  async start(): Promise<void> {
    await this.#runTick();
    this.#timer = setInterval(() => void this.#runTick(), this.#heartbeatMs);
    this.#timer.unref();
  }

  /** Stops the heartbeat and marks the instance stopped (its calls, if any are still open, are then reconciled by others). */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#timer);
    // A heartbeat stuck on an unresponsive database must not hold the shutdown.
    let timer: NodeJS.Timeout | undefined;
    const bounded = <T>(p: Promise<T> | undefined): Promise<unknown> =>
      Promise.race([p, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error('timed out')), STOP_WAIT_MS)))]).finally(() => clearTimeout(timer));
    try {
      await bounded(this.#tick);
      await bounded(this.#db.query('UPDATE gateway_instances SET stopped_at = now() WHERE id = $1', [this.id]));
    } catch (err) {
      this.#log.warn({ instanceId: this.id, err: (err as Error).message }, 'could not mark the instance stopped; it will be found lost by its heartbeat');
    }
  }

  /**
   * Reconciles every lost instance it can claim now; returns what was done. `claimed` is one the
   * caller has claimed already (the heartbeat's statement claims one: see #beat).
   */
  async reconcileNow(claimed?: string): Promise<ReconcileReport[]> {
    const reports: ReconcileReport[] = [];
    let lost = claimed;
    for (;;) {
      if (lost === undefined) {
        const { rows } = await this.#db.query<{ id: string }>(CLAIM_LOST_SQL, [this.id, this.#leaseMs, this.#deadAfterMs]);
        lost = rows[0]?.id;
      }
      if (lost === undefined) return reports;
      reports.push(await this.#reconcile(lost));
      lost = undefined;
    }
  }

  async #reconcile(lost: string): Promise<ReconcileReport> {
    // Close its open calls, with a last timeline event numbered after whatever it managed to write.
    const { rows } = await this.#db.query<ClosedCall>(
      `WITH open AS (
         SELECT id, status FROM calls WHERE instance_id = $1 AND ended_at IS NULL FOR UPDATE
       ), closed AS (
         UPDATE calls c SET
           status = CASE WHEN call_status_rank(c.status) = 4 THEN c.status WHEN c.status = 'in-progress' THEN 'completed' ELSE 'failed' END,
           end_reason = COALESCE(c.end_reason, $2),
           ended_at = COALESCE(c.ended_at, now())
          FROM open WHERE c.id = open.id
         RETURNING c.id, c.carrier, c.carrier_call_id, open.status AS prior_status
       ), ev AS (
         INSERT INTO call_events (call_id, seq, media_ms, wall_time, type, data)
         SELECT id, COALESCE((SELECT max(seq) FROM call_events e WHERE e.call_id = closed.id), 0) + 1, NULL, now(), 'call.ended',
                jsonb_build_object('reason', $2::text, 'instanceId', $1::text)
           FROM closed
         ON CONFLICT (call_id, seq) DO NOTHING
       )
       SELECT * FROM closed`,
      [lost, GATEWAY_LOST],
    );
    let carrierHangups = 0;
    let hangupFailures = 0;
    for (const call of rows) {
      if (call.carrier_call_id === null || this.#hangup === undefined) continue;
      try {
        await this.#hangup(call.carrier, call.carrier_call_id);
        carrierHangups++;
      } catch (err) {
        hangupFailures++;
        this.#log.warn({ callId: call.id, lostInstance: lost, err: (err as Error).message }, 'hanging up a lost call at the carrier failed; the carrier ends it when its stream is gone');
      }
    }
    let handlersOk = true;
    for (const handler of this.#handlers) {
      try {
        await handler(lost);
      } catch (err) {
        handlersOk = false;
        this.#log.error({ lostInstance: lost, err }, 'an instance-lost handler failed; it runs again when the claim expires');
      }
    }
    if (handlersOk) {
      await this.#db.query('UPDATE gateway_instances SET reconciled_at = now(), reconciling_by = NULL WHERE id = $1 AND reconciling_by = $2', [lost, this.id]);
      this.counters.instancesReconciled++;
    }
    this.counters.callsClosed += rows.length;
    this.counters.carrierHangups += carrierHangups;
    const report = { instanceId: lost, callsClosed: rows.length, carrierHangups, hangupFailures };
    this.#log.warn({ ...report, by: this.id }, 'reconciled a lost gateway instance: its open calls are closed as gateway_lost');
    return report;
  }

  /** Whether any other instance's row is not reconciled yet (lost, or not yet old enough to be). */
  async #othersUnreconciled(): Promise<boolean> {
    const { rows } = await this.#db.query<{ pending: boolean }>('SELECT EXISTS (SELECT 1 FROM gateway_instances WHERE reconciled_at IS NULL AND id <> $1) AS pending', [this.id]);
    return rows[0]?.pending !== false;
  }

  #runTick(): Promise<void> {
    this.#tick ??= this.#beat().finally(() => (this.#tick = undefined));
    return this.#tick;
  }

  async #beat(): Promise<void> {
    if (this.#stopped) return;
    // Judge others only after seeing the database long enough for every live instance to have beaten.
    // Then the heartbeat and the claim of a lost instance are one statement (one round trip a period
    // instead of two, on every idle gateway); a failure of either counts as a failed heartbeat, which
    // only delays judging others.
    const since = this.#healthySince;
    const judge = this.#othersLeft && (this.#exclusive || (since !== undefined && performance.now() - since >= this.#deadAfterMs));
    let claimed: string | undefined;
    try {
      const { rows } = await this.#db.query<{ id: string }>(
        judge ? `WITH beat AS (${heartbeatSql(4, 5)}) ${CLAIM_LOST_SQL}` : heartbeatSql(2, 3),
        judge ? [this.id, this.#leaseMs, this.#deadAfterMs, hostname(), process.pid] : [this.id, hostname(), process.pid],
      );
      claimed = judge ? rows[0]?.id : undefined;
      this.counters.heartbeats++;
      this.#healthySince ??= performance.now();
    } catch (err) {
      this.counters.heartbeatFailures++;
      if (this.#healthySince !== undefined) this.#log.warn({ instanceId: this.id, err: (err as Error).message }, 'instance heartbeat failed; retrying every period');
      this.#healthySince = undefined;
      return;
    }
    if (!judge) return;
    try {
      // Claimed one: reconcile it and claim the next; none: nothing is lost (no second query).
      if (claimed !== undefined) await this.reconcileNow(claimed);
      if (this.#exclusive) this.#othersLeft = await this.#othersUnreconciled();
    } catch (err) {
      this.#log.warn({ err: (err as Error).message }, 'reconciling lost instances failed; retrying next period');
    }
  }
}
