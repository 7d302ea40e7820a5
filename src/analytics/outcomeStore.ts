// Writes an ended call's outcome onto its record. Both writes are idempotent (derived from the row and
// the facts, so a retry writes the same values), and they run through the call's ordered writer
// behind its end, so the row they read already carries the end reason and status.
import type { CallRecord } from '../store/calls.ts';
import type { Queryable } from '../store/db.ts';
import { KeyedBatch } from '../store/keyedBatch.ts';
import { deriveOutcome, emptyFacts, type CallOutcome, type OutcomeFacts, type OutcomeRow } from './outcome.ts';

interface Row {
  status: string;
  answered_at: Date | null;
  stream_id: string | null;
  end_reason: string | null;
  amd_result: string | null;
  outcome: string | null;
}

const toOutcomeRow = (r: Row): OutcomeRow => ({
  status: r.status,
  answeredAt: r.answered_at?.toISOString() ?? null,
  streamId: r.stream_id,
  endReason: r.end_reason,
  amdResult: r.amd_result,
});

export interface OutcomeStoreOptions {
  /**
   * How long a call's outcome waits for other calls' to share their UPDATE (store/keyedBatch.ts; the
   * call store's window). Default 0: each written alone.
   */
  batchWindowMs?: number;
}

export class OutcomeStore {
  readonly #db: Queryable;
  /** Outcomes of calls with a stream, by call id: concurrent calls' ends share one statement. */
  readonly #outcomes: KeyedBatch<CallOutcome, true>;

  constructor(db: Queryable, opts: OutcomeStoreOptions = {}) {
    this.#db = db;
    this.#outcomes = new KeyedBatch({
      windowMs: opts.batchWindowMs ?? 0,
      one: async (id, o) => ((await this.#write(id, o, '')) ? true : null),
      many: async (entries) => {
        const { rows } = await this.#db.query<{ id: string }>(
          `UPDATE calls c SET outcome = v.outcome, failure_reason = v.failure_reason, disposition = v.disposition, outcome_at = COALESCE(c.outcome_at, now())
             FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS v(id, outcome, failure_reason, disposition)
            WHERE c.id = v.id RETURNING c.id`,
          [entries.map(([id]) => id), entries.map(([, o]) => o.category), entries.map(([, o]) => o.failureReason), entries.map(([, o]) => o.disposition)],
        );
        return new Map(rows.map((r) => [r.id, true as const]));
      },
    });
  }

  /**
   * A call that had a stream: its timeline's facts decide. Returns null when the call is unknown.
   * `ended`: the record as the call's end wrote it (CallStore.end's answer), when the caller has it
   * and nothing was written about the call since — it saves reading the row back.
   */
  async record(callId: string, facts: OutcomeFacts, ended?: CallRecord): Promise<CallOutcome | null> {
    let row: OutcomeRow;
    if (ended !== undefined) row = { status: ended.status, answeredAt: ended.answeredAt, streamId: ended.streamId, endReason: ended.endReason, amdResult: ended.amdResult };
    else {
      const { rows } = await this.#db.query<Row>('SELECT status, answered_at, stream_id, end_reason, amd_result, outcome FROM calls WHERE id = $1', [callId]);
      if (rows[0] === undefined) return null;
      row = toOutcomeRow(rows[0]);
    }
    const outcome = deriveOutcome(row, facts);
    await this.#outcomes.submit(callId, outcome);
    return outcome;
  }

  /**
   * A call the carrier ended without a stream (busy, no answer, failed, canceled): only fills an
   * empty outcome, so it never overwrites what a call's own timeline decided.
   */
  async recordUnconnected(callId: string): Promise<CallOutcome | null> {
    const { rows } = await this.#db.query<Row>('SELECT status, answered_at, stream_id, end_reason, amd_result, outcome FROM calls WHERE id = $1', [callId]);
    const row = rows[0];
    if (row === undefined || row.outcome !== null || row.stream_id !== null) return null;
    const outcome = deriveOutcome(toOutcomeRow(row), emptyFacts());
    await this.#write(callId, outcome, 'AND outcome IS NULL AND stream_id IS NULL');
    return outcome;
  }

  /** Whether a row was written. */
  async #write(callId: string, o: CallOutcome, guard: string): Promise<boolean> {
    const r = await this.#db.query(
      `UPDATE calls SET outcome = $2, failure_reason = $3, disposition = $4, outcome_at = COALESCE(outcome_at, now()) WHERE id = $1 ${guard}`,
      [callId, o.category, o.failureReason, o.disposition],
    );
    return (r.rowCount ?? 0) > 0;
  }
}
