// Call records. Every state change is a single SQL statement whose WHERE clause carries the rule
// (status rank, "first terminal status wins", "first end reason wins"), so any number of gateway
// instances may apply carrier callbacks for the same call concurrently: PostgreSQL re-checks the
// WHERE clause against the newest row version when two updates race (READ COMMITTED), and the
// losing update becomes a no-op instead of moving the call backwards.
import { randomUUID } from 'node:crypto';
import type { AmdResult, AnsweredBy, Carrier, Direction } from '../call/events.ts';
import { createError } from '../errors.ts';
import type { Queryable } from './db.ts';
import { KeyedBatch } from './keyedBatch.ts';
import { MAX_NOTIFY_BYTES, PLACED_CALLS_CHANNEL, type PlacedCalls } from './placedCalls.ts';

/** Twilio's CallStatus values; SignalWire's compatibility API uses the same set. */
export type CallStatus = 'queued' | 'initiated' | 'ringing' | 'in-progress' | 'completed' | 'busy' | 'no-answer' | 'failed' | 'canceled';
export type TerminalCallStatus = 'completed' | 'busy' | 'no-answer' | 'failed' | 'canceled';

/** Mirrors the SQL function call_status_rank() in 001_core.sql. */
const STATUS_RANK: Readonly<Record<CallStatus, number>> = {
  queued: 0,
  initiated: 1,
  ringing: 2,
  'in-progress': 3,
  completed: 4,
  busy: 4,
  'no-answer': 4,
  failed: 4,
  canceled: 4,
};

export function isCallStatus(value: string): value is CallStatus {
  return Object.hasOwn(STATUS_RANK, value);
}

export function isTerminalStatus(status: CallStatus): status is TerminalCallStatus {
  return STATUS_RANK[status] === 4;
}

/**
 * A carrier status string → CallStatus, or null when unknown. Twilio's status-callback *event*
 * `answered` (StatusCallbackEvent) means the call is in progress.
 */
export function parseCallStatus(value: string): CallStatus | null {
  const v = value.trim().toLowerCase();
  if (v === 'answered') return 'in-progress';
  return isCallStatus(v) ? v : null;
}

export interface CallRecord {
  id: string;
  carrier: Carrier;
  carrierCallId: string | null;
  streamId: string | null;
  direction: Direction;
  fromNumber: string;
  toNumber: string;
  status: CallStatus;
  flowId: string | null;
  flowVersion: number | null;
  /** ISO 8601 timestamps (UTC, millisecond precision). */
  createdAt: string;
  answeredAt: string | null;
  endedAt: string | null;
  endReason: string | null;
  amdResult: AmdResult | null;
  amdAnsweredBy: AnsweredBy | null;
  amdConfidence: number | null;
  amdDecisionMs: number | null;
  recordingPath: string | null;
  /** The gateway instance serving the call (see instances.ts); null for records made before 003. */
  instanceId: string | null;
  metadata: Record<string, unknown>;
}

export interface NewCall {
  /** Defaults to a random UUID. */
  id?: string;
  carrier: Carrier;
  /** Unknown for an outbound call recorded before the carrier accepted it; see setCarrierCallId. */
  carrierCallId?: string | null;
  streamId?: string | null;
  direction: Direction;
  fromNumber: string;
  toNumber: string;
  /** Defaults to 'ringing' for inbound (the webhook arrives while it rings), 'queued' for outbound. */
  status?: CallStatus;
  flowId?: string | null;
  flowVersion?: number | null;
  /** Defaults to the database's now(). */
  createdAt?: Date;
  metadata?: Record<string, unknown>;
}

/** Which call: our id, or the carrier's id for it. */
export type CallKey = { id: string } | { carrier: Carrier; carrierCallId: string };

export interface AmdOutcome {
  result: AmdResult;
  answeredBy: AnsweredBy;
  confidence: number;
  /** Media time from answer to verdict. */
  decisionMs: number;
}

export interface CallListFilter {
  status?: CallStatus | readonly CallStatus[];
  direction?: Direction;
  /** Matches either party (from or to), exactly. */
  number?: string;
  /** created_at >= since */
  since?: Date;
  /** created_at < until */
  until?: Date;
  flowId?: string;
  /** 1..100, default 50. */
  limit?: number;
  /** From a previous page's nextCursor. */
  cursor?: string;
}

export interface CallPage {
  calls: CallRecord[];
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  nextCursor: string | null;
}

export const DEFAULT_PAGE_SIZE = 50;
export const MAX_PAGE_SIZE = 100;

interface CallRow {
  id: string;
  carrier: Carrier;
  carrier_call_id: string | null;
  stream_id: string | null;
  direction: Direction;
  from_number: string;
  to_number: string;
  status: CallStatus;
  flow_id: string | null;
  flow_version: number | null;
  created_at: Date;
  answered_at: Date | null;
  ended_at: Date | null;
  end_reason: string | null;
  amd_result: AmdResult | null;
  amd_answered_by: AnsweredBy | null;
  amd_confidence: number | null;
  amd_decision_ms: number | null;
  recording_path: string | null;
  instance_id: string | null;
  metadata: Record<string, unknown> | null;
}

/** An instant as toRecord gives it (ISO 8601, UTC, milliseconds), in SQL. */
const isoSql = (column: string): string => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/**
 * The record of a just-inserted row `ins`, as JSON text shaped as toRecord shapes it: the payload
 * announcing a placed call (PlacedCalls.receive), built by the INSERT itself.
 */
const ANNOUNCED_RECORD = `json_build_object(
  'id', ins.id, 'carrier', ins.carrier, 'carrierCallId', ins.carrier_call_id, 'streamId', ins.stream_id, 'direction', ins.direction,
  'fromNumber', ins.from_number, 'toNumber', ins.to_number, 'status', ins.status, 'flowId', ins.flow_id, 'flowVersion', ins.flow_version,
  'createdAt', ${isoSql('ins.created_at')}, 'answeredAt', ${isoSql('ins.answered_at')}, 'endedAt', ${isoSql('ins.ended_at')}, 'endReason', ins.end_reason,
  'amdResult', ins.amd_result, 'amdAnsweredBy', ins.amd_answered_by, 'amdConfidence', ins.amd_confidence, 'amdDecisionMs', ins.amd_decision_ms,
  'recordingPath', ins.recording_path, 'instanceId', ins.instance_id, 'metadata', COALESCE(ins.metadata, '{}'::jsonb))::text`;

function toRecord(row: CallRow): CallRecord {
  return {
    id: row.id,
    carrier: row.carrier,
    carrierCallId: row.carrier_call_id,
    streamId: row.stream_id,
    direction: row.direction,
    fromNumber: row.from_number,
    toNumber: row.to_number,
    status: row.status,
    flowId: row.flow_id,
    flowVersion: row.flow_version,
    createdAt: row.created_at.toISOString(),
    answeredAt: row.answered_at?.toISOString() ?? null,
    endedAt: row.ended_at?.toISOString() ?? null,
    endReason: row.end_reason,
    amdResult: row.amd_result,
    amdAnsweredBy: row.amd_answered_by,
    amdConfidence: row.amd_confidence,
    amdDecisionMs: row.amd_decision_ms,
    recordingPath: row.recording_path,
    instanceId: row.instance_id ?? null,
    metadata: row.metadata ?? {},
  };
}

/** WHERE fragment selecting one call by key; parameters start at $<first>. */
function keyWhere(key: CallKey, first: number): { sql: string; values: unknown[] } {
  if ('id' in key) return { sql: `id = $${first}`, values: [key.id] };
  return { sql: `carrier = $${first} AND carrier_call_id = $${first + 1}`, values: [key.carrier, key.carrierCallId] };
}

function badRequest(code: `GW_ERR_${string}`, message: string): Error {
  return createError(code, message, { statusCode: 400 });
}

function encodeCursor(row: CallRow): string {
  return Buffer.from(JSON.stringify([row.created_at.getTime(), row.id])).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: Date; id: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parsed = null;
  }
  if (!Array.isArray(parsed) || parsed.length !== 2 || !Number.isFinite(parsed[0]) || typeof parsed[1] !== 'string') {
    throw badRequest('GW_ERR_STORE_BAD_CURSOR', 'The cursor is not one this server issued: pass nextCursor from a previous page unchanged');
  }
  return { createdAt: new Date(parsed[0] as number), id: parsed[1] };
}

/**
 * The batch window of stream starts and AMD verdicts on PostgreSQL (the event log's flush interval
 * there; on embedded PGlite the composition uses the event log's longer one).
 */
export const CALL_WRITE_BATCH_MS = 100;

/** The columns a stream's start writes: see CallStore.startStream. */
interface StreamStart {
  streamId: string;
  answeredAt: Date;
}

export interface CallStoreOptions {
  /** This process's instance; calls it records or streams are marked as its own. */
  instanceId?: string;
  /** Remembers the outbound calls this store records, and announces them on the change feed. */
  placed?: PlacedCalls;
  /**
   * How long a stream's start, the flow it runs, an AMD verdict and its end (by call id) wait for other calls' to be written in
   * the same statement (keyedBatch.ts). 0, the default: each is written at once, alone.
   */
  batchWindowMs?: number;
}

// A stream's start: the stream, the instance that serves the call, and the answer — what
// applyStatus('in-progress') does (status forward to in-progress, answered_at first-wins, also on a
// call already completed without one).
const START_SET = `stream_id = v.stream_id, instance_id = COALESCE(v.instance_id, c.instance_id),
       status = CASE WHEN call_status_rank(c.status) < 3 THEN 'in-progress' ELSE c.status END,
       answered_at = CASE WHEN call_status_rank(c.status) < 3 OR c.status = 'completed' THEN COALESCE(c.answered_at, v.answered_at) ELSE c.answered_at END`;
// The first end reason and the first terminal status win (see end()).
const END_SET = `status = CASE WHEN call_status_rank(c.status) < 4 THEN v.status ELSE c.status END,
       end_reason = COALESCE(c.end_reason, v.reason), ended_at = COALESCE(c.ended_at, v.at)`;
const AMD_SET = 'amd_result = v.result, amd_answered_by = v.answered_by, amd_confidence = v.confidence, amd_decision_ms = v.decision_ms';

export class CallStore {
  readonly #db: Queryable;
  readonly #instanceId: string | null;
  /** Outbound calls placed lately, in memory (placedCalls.ts): their webhook needs no database read. */
  readonly placed: PlacedCalls | undefined;
  /** How long a batched write waits for other calls' (CallStoreOptions.batchWindowMs); writers of other columns of calls share it. */
  readonly batchWindowMs: number;
  readonly #starts: KeyedBatch<StreamStart, CallRecord>;
  readonly #amd: KeyedBatch<AmdOutcome, CallRecord>;
  readonly #flows: KeyedBatch<{ flowId: string; flowVersion: number | null }, CallRecord>;
  readonly #ends: KeyedBatch<{ status: TerminalCallStatus; reason: string; at: Date }, CallRecord>;

  constructor(db: Queryable, opts: CallStoreOptions = {}) {
    this.#db = db;
    this.#instanceId = opts.instanceId ?? null;
    this.placed = opts.placed;
    const windowMs = opts.batchWindowMs ?? 0;
    this.batchWindowMs = windowMs;
    this.#starts = new KeyedBatch({
      windowMs,
      one: (id, s) => this.#updateOne(`UPDATE calls c SET ${START_SET} FROM (SELECT $2::text AS stream_id, $3::text AS instance_id, $4::timestamptz AS answered_at) v WHERE c.id = $1 RETURNING c.*`, [id, s.streamId, this.#instanceId, s.answeredAt]),
      many: (entries) =>
        this.#updateMany(
          `UPDATE calls c SET ${START_SET}
             FROM (SELECT u.*, $4::text AS instance_id FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS u(id, stream_id, answered_at)) v
            WHERE c.id = v.id RETURNING c.*`,
          [entries.map(([id]) => id), entries.map(([, s]) => s.streamId), entries.map(([, s]) => s.answeredAt), this.#instanceId],
        ),
    });
    this.#amd = new KeyedBatch({
      windowMs,
      one: (id, amd) => this.#setAmdWhere({ id }, amd),
      many: (entries) =>
        this.#updateMany(
          `UPDATE calls c SET ${AMD_SET}
             FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[], $5::int[]) AS v(id, result, answered_by, confidence, decision_ms)
            WHERE c.id = v.id RETURNING c.*`,
          [entries.map(([id]) => id), entries.map(([, a]) => a.result), entries.map(([, a]) => a.answeredBy), entries.map(([, a]) => a.confidence), entries.map(([, a]) => Math.round(a.decisionMs))],
        ),
    });
    this.#ends = new KeyedBatch({
      windowMs,
      keep: 'earlier',
      one: (id, e) => this.#endWhere({ id }, e.reason, e.status, e.at),
      many: (entries) =>
        this.#updateMany(
          `UPDATE calls c SET ${END_SET}
             FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[]) AS v(id, status, reason, at)
            WHERE c.id = v.id RETURNING c.*`,
          [entries.map(([id]) => id), entries.map(([, e]) => e.status), entries.map(([, e]) => e.reason), entries.map(([, e]) => e.at)],
        ),
    });
    this.#flows = new KeyedBatch({
      windowMs,
      one: (id, f) => this.#setFlowWhere({ id }, f.flowId, f.flowVersion),
      many: (entries) =>
        this.#updateMany(
          `UPDATE calls c SET flow_id = v.flow_id, flow_version = v.flow_version
             FROM unnest($1::text[], $2::text[], $3::int[]) AS v(id, flow_id, flow_version)
            WHERE c.id = v.id RETURNING c.*`,
          [entries.map(([id]) => id), entries.map(([, f]) => f.flowId), entries.map(([, f]) => f.flowVersion)],
        ),
    });
  }

  /** An outbound call we are placing: kept here (create's INSERT announced it to the other processes). */
  #remember(call: CallRecord): void {
    this.placed?.remember(call);
  }

  /**
   * Records a call. Idempotent on (carrier, carrierCallId): a retried webhook gets the existing
   * record back with `created: false`.
   */
  async create(input: NewCall): Promise<{ created: boolean; call: CallRecord }> {
    const status = input.status ?? (input.direction === 'inbound' ? 'ringing' : 'queued');
    if (!isCallStatus(status)) throw badRequest('GW_ERR_STORE_UNKNOWN_STATUS', `Unknown call status "${String(status)}"`);
    const values = [
      input.id ?? randomUUID(),
      input.carrier,
      input.carrierCallId ?? null,
      input.streamId ?? null,
      input.direction,
      input.fromNumber,
      input.toNumber,
      status,
      input.flowId ?? null,
      input.flowVersion ?? null,
      input.createdAt ?? null,
      JSON.stringify(input.metadata ?? {}),
      this.#instanceId,
      // An outbound call placed here is announced by the same statement (one round trip, and only
      // once its row is written): the other processes' webhooks then answer it without the database.
      input.direction === 'outbound' && this.placed !== undefined ? PLACED_CALLS_CHANNEL : null,
      MAX_NOTIFY_BYTES,
    ];
    const { rows } = await this.#db.query<CallRow & { created: boolean }>(
      `WITH ins AS (
         INSERT INTO calls (id, carrier, carrier_call_id, stream_id, direction, from_number, to_number, status, flow_id, flow_version, created_at, metadata, instance_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, COALESCE($11::timestamptz, now()), $12::jsonb, $13)
         ON CONFLICT (carrier, carrier_call_id) DO NOTHING
         RETURNING *
       ), announced AS (
         SELECT pg_notify($14::text, CASE WHEN octet_length(a.record) < $15::int THEN a.record ELSE json_build_object('id', a.id)::text END)
           FROM (SELECT ins.id, ${ANNOUNCED_RECORD} AS record FROM ins) a
          WHERE $14::text IS NOT NULL
       )
       SELECT true AS created, ins.* FROM ins WHERE (SELECT count(*) FROM announced) >= 0
       UNION ALL
       SELECT false AS created, c.* FROM calls c
        WHERE c.carrier = $2 AND c.carrier_call_id = $3 AND NOT EXISTS (SELECT 1 FROM ins)`,
      values,
    );
    const row = rows[0];
    if (row !== undefined) {
      const call = toRecord(row);
      if (row.created && call.direction === 'outbound') this.#remember(call);
      return { created: row.created, call };
    }
    // A concurrent insert of the same carrier call committed after this statement's snapshot:
    // the conflict suppressed our insert, and the row is visible to a new statement.
    const existing = input.carrierCallId == null ? null : await this.findByCarrierCallId(input.carrier, input.carrierCallId);
    if (existing === null) throw createError('GW_ERR_STORE_CREATE_LOST', 'The call record could not be created or found; retry the request', { retryable: true });
    return { created: false, call: existing };
  }

  async get(id: string): Promise<CallRecord | null> {
    const { rows } = await this.#db.query<CallRow>('SELECT * FROM calls WHERE id = $1', [id]);
    return rows[0] === undefined ? null : toRecord(rows[0]);
  }

  async findByCarrierCallId(carrier: Carrier, carrierCallId: string): Promise<CallRecord | null> {
    const { rows } = await this.#db.query<CallRow>('SELECT * FROM calls WHERE carrier = $1 AND carrier_call_id = $2', [carrier, carrierCallId]);
    return rows[0] === undefined ? null : toRecord(rows[0]);
  }

  /** Names an outbound call once the carrier has accepted it. Only fills an empty carrier id. */
  async setCarrierCallId(id: string, carrierCallId: string): Promise<CallRecord | null> {
    const { rows } = await this.#db.query<CallRow>(
      'UPDATE calls SET carrier_call_id = $2 WHERE id = $1 AND (carrier_call_id IS NULL OR carrier_call_id = $2) RETURNING *',
      [id, carrierCallId],
    );
    const call = rows[0] === undefined ? null : toRecord(rows[0]);
    if (call !== null && this.placed?.has(id) === true) this.placed.remember(call);
    return call;
  }

  /** The call's media stream started on this instance, which now serves (owns) the call. */
  async attachStream(key: CallKey, streamId: string): Promise<CallRecord | null> {
    const where = keyWhere(key, 3);
    return this.#updateOne(`UPDATE calls SET stream_id = $1, instance_id = COALESCE($2, instance_id) WHERE ${where.sql} RETURNING *`, [streamId, this.#instanceId, ...where.values]);
  }

  /**
   * Applies a carrier status callback. Callbacks arrive out of order and more than once: a status
   * only moves the call forward (queued < initiated < ringing < in-progress < terminal), and the
   * first terminal status is final. `in-progress` stamps answered_at, a terminal status ended_at.
   * A late `in-progress` for a call already `completed` still fills answered_at (a completed call
   * was answered). `status` is the carrier's string (see parseCallStatus); an unknown one is a 400
   * error. Returns null when no call has that carrier id.
   */
  async applyStatus(carrier: Carrier, carrierCallId: string, status: string, atWallTime: Date): Promise<{ changed: boolean; call: CallRecord } | null> {
    const parsed = parseCallStatus(status);
    if (parsed === null) throw badRequest('GW_ERR_STORE_UNKNOWN_STATUS', `Unknown call status "${status}": expected one of ${Object.keys(STATUS_RANK).join(', ')}`);
    const { rows } = await this.#db.query<CallRow & { changed: boolean }>(
      `WITH upd AS (
         UPDATE calls SET
           status = CASE WHEN call_status_rank(status) < call_status_rank($3::text) THEN $3::text ELSE status END,
           answered_at = CASE WHEN $3::text = 'in-progress' THEN COALESCE(answered_at, $4::timestamptz) ELSE answered_at END,
           ended_at = CASE WHEN call_status_rank($3::text) = 4 THEN COALESCE(ended_at, $4::timestamptz) ELSE ended_at END
         WHERE carrier = $1 AND carrier_call_id = $2
           AND (call_status_rank(status) < call_status_rank($3::text)
                OR ($3::text = 'in-progress' AND status = 'completed' AND answered_at IS NULL))
         RETURNING *
       )
       SELECT true AS changed, upd.* FROM upd
       UNION ALL
       SELECT false AS changed, c.* FROM calls c
        WHERE c.carrier = $1 AND c.carrier_call_id = $2 AND NOT EXISTS (SELECT 1 FROM upd)`,
      [carrier, carrierCallId, parsed, atWallTime],
    );
    const row = rows[0];
    return row === undefined ? null : { changed: row.changed, call: toRecord(row) };
  }

  /**
   * The gateway ends a call (hangup by flow, stream stopped…). The first end reason and the first
   * terminal status win, whether they came from here or from a carrier callback.
   */
  async end(key: CallKey, reason: string, status: TerminalCallStatus = 'completed', atWallTime: Date = new Date()): Promise<CallRecord | null> {
    if (!isCallStatus(status) || !isTerminalStatus(status)) {
      throw badRequest('GW_ERR_STORE_NOT_TERMINAL', `end() needs a terminal status (completed, busy, no-answer, failed, canceled), got "${String(status)}"`);
    }
    if (!('id' in key)) return this.#endWhere(key, reason, status, atWallTime);
    this.placed?.forget(key.id);
    return this.#ends.submit(key.id, { status, reason, at: atWallTime });
  }

  #endWhere(key: CallKey, reason: string, status: TerminalCallStatus, atWallTime: Date): Promise<CallRecord | null> {
    const where = keyWhere(key, 4);
    return this.#updateOne(
      `UPDATE calls c SET ${END_SET} FROM (SELECT $1::text AS status, $2::text AS reason, $3::timestamptz AS at) v WHERE ${where.sql} RETURNING c.*`,
      [status, reason, atWallTime, ...where.values],
    );
  }

  /**
   * The call's media stream started on this instance: records the stream, this instance as the one
   * serving the call, and the answer, in one statement where attachStream and
   * applyStatus('in-progress') took two. Returns null when the call is not recorded (yet).
   */
  startStream(id: string, streamId: string, answeredAt: Date): Promise<CallRecord | null> {
    return this.#starts.submit(id, { streamId, answeredAt });
  }

  /** The AMD verdict (or its revision) on the record; by id, batched with other calls' (batchWindowMs). */
  setAmd(key: CallKey, amd: AmdOutcome): Promise<CallRecord | null> {
    return 'id' in key ? this.#amd.submit(key.id, amd) : this.#setAmdWhere(key, amd);
  }

  #setAmdWhere(key: CallKey, amd: AmdOutcome): Promise<CallRecord | null> {
    const where = keyWhere(key, 5);
    return this.#updateOne(
      `UPDATE calls SET amd_result = $1, amd_answered_by = $2, amd_confidence = $3, amd_decision_ms = $4
       WHERE ${where.sql} RETURNING *`,
      [amd.result, amd.answeredBy, amd.confidence, Math.round(amd.decisionMs), ...where.values],
    );
  }

  /** Records which flow (and stored version; null for a shipped flow) the call runs; by id, batched as setAmd. */
  setFlow(key: CallKey, flowId: string, flowVersion: number | null): Promise<CallRecord | null> {
    return 'id' in key ? this.#flows.submit(key.id, { flowId, flowVersion }) : this.#setFlowWhere(key, flowId, flowVersion);
  }

  #setFlowWhere(key: CallKey, flowId: string, flowVersion: number | null): Promise<CallRecord | null> {
    const where = keyWhere(key, 3);
    return this.#updateOne(`UPDATE calls SET flow_id = $1, flow_version = $2 WHERE ${where.sql} RETURNING *`, [flowId, flowVersion, ...where.values]);
  }

  async setRecording(key: CallKey, recordingPath: string): Promise<CallRecord | null> {
    const where = keyWhere(key, 2);
    return this.#updateOne(`UPDATE calls SET recording_path = $1 WHERE ${where.sql} RETURNING *`, [recordingPath, ...where.values]);
  }

  /** Newest first, keyset-paginated on (created_at, id) so pages stay stable while calls arrive. */
  async list(filter: CallListFilter = {}): Promise<CallPage> {
    const limit = filter.limit ?? DEFAULT_PAGE_SIZE;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
      throw badRequest('GW_ERR_STORE_BAD_LIMIT', `limit must be an integer from 1 to ${MAX_PAGE_SIZE}`);
    }
    const conditions: string[] = [];
    const values: unknown[] = [];
    const param = (v: unknown): string => {
      values.push(v);
      return `$${values.length}`;
    };
    if (filter.status !== undefined) {
      const statuses: readonly CallStatus[] = typeof filter.status === 'string' ? [filter.status] : filter.status;
      for (const s of statuses) if (!isCallStatus(s)) throw badRequest('GW_ERR_STORE_UNKNOWN_STATUS', `Unknown call status "${String(s)}"`);
      conditions.push(`status = ANY(${param(statuses)}::text[])`);
    }
    if (filter.direction !== undefined) conditions.push(`direction = ${param(filter.direction)}`);
    if (filter.number !== undefined) {
      const p = param(filter.number);
      conditions.push(`(from_number = ${p} OR to_number = ${p})`);
    }
    if (filter.flowId !== undefined) conditions.push(`flow_id = ${param(filter.flowId)}`);
    for (const [name, d] of [['since', filter.since], ['until', filter.until]] as const) {
      if (d !== undefined && !Number.isFinite(d.getTime())) throw badRequest('GW_ERR_STORE_BAD_RANGE', `${name} is not a valid date: use an ISO 8601 timestamp`);
    }
    if (filter.since !== undefined) conditions.push(`created_at >= ${param(filter.since)}::timestamptz`);
    if (filter.until !== undefined) conditions.push(`created_at < ${param(filter.until)}::timestamptz`);
    if (filter.cursor !== undefined) {
      const c = decodeCursor(filter.cursor);
      conditions.push(`(created_at, id) < (${param(c.createdAt)}::timestamptz, ${param(c.id)}::text)`);
    }
    const where = conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : '';
    // One extra row tells whether another page exists without a COUNT.
    const { rows } = await this.#db.query<CallRow>(
      `SELECT * FROM calls ${where} ORDER BY created_at DESC, id DESC LIMIT ${param(limit + 1)}`,
      values,
    );
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    return { calls: page.map(toRecord), nextCursor: rows.length > limit && last !== undefined ? encodeCursor(last) : null };
  }

  async #updateOne(sql: string, values: unknown[]): Promise<CallRecord | null> {
    const { rows } = await this.#db.query<CallRow>(sql, values);
    return rows[0] === undefined ? null : toRecord(rows[0]);
  }

  async #updateMany(sql: string, values: unknown[]): Promise<Map<string, CallRecord>> {
    const { rows } = await this.#db.query<CallRow>(sql, values);
    return new Map(rows.map((row) => [row.id, toRecord(row)]));
  }
}
