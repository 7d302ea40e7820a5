// A call's recording registration on its row: id, status, size, duration, deletion. Every update is
// idempotent (a retried write sets the same values).
import type { Queryable } from '../store/db.ts';

export interface RecordingRow {
  callId: string;
  recordingId: string;
  status: string;
  bytes: number | null;
  deletedAt: Date | null;
}

export class RecordingStore {
  readonly #db: Queryable;

  constructor(db: Queryable) {
    this.#db = db;
  }

  async begin(callId: string, recordingId: string): Promise<void> {
    await this.#db.query(`UPDATE calls SET recording_id = $2, recording_status = COALESCE(recording_status, 'recording') WHERE id = $1`, [callId, recordingId]);
  }

  async saved(callId: string, r: { bytes: number; durationMs: number; stopped: boolean }): Promise<void> {
    await this.#db.query(
      `UPDATE calls SET recording_bytes = $2, recording_duration_ms = $3, recording_status = $4
        WHERE id = $1 AND recording_deleted_at IS NULL`,
      [callId, r.bytes, Math.round(r.durationMs), r.stopped ? 'stopped' : 'saved'],
    );
  }

  async get(callId: string): Promise<RecordingRow | null> {
    const { rows } = await this.#db.query<{ recording_id: string | null; recording_status: string | null; recording_bytes: string | null; recording_deleted_at: Date | null }>(
      'SELECT recording_id, recording_status, recording_bytes, recording_deleted_at FROM calls WHERE id = $1',
      [callId],
    );
    const r = rows[0];
    if (r === undefined || r.recording_id === null) return null;
    return { callId, recordingId: r.recording_id, status: r.recording_status ?? 'saved', bytes: r.recording_bytes === null ? null : Number(r.recording_bytes), deletedAt: r.recording_deleted_at };
  }

  async markDeleted(callId: string): Promise<void> {
    await this.#db.query(`UPDATE calls SET recording_status = 'deleted', recording_deleted_at = COALESCE(recording_deleted_at, now()) WHERE id = $1`, [callId]);
  }

  /** Recordings of calls created before `before`, still on disk, oldest first. */
  async expired(before: Date, limit: number): Promise<Array<{ callId: string; recordingId: string }>> {
    const { rows } = await this.#db.query<{ id: string; recording_id: string }>(
      `SELECT id, recording_id FROM calls
        WHERE recording_id IS NOT NULL AND recording_deleted_at IS NULL AND created_at < $1
        ORDER BY created_at LIMIT $2`,
      [before, limit],
    );
    return rows.map((r) => ({ callId: r.id, recordingId: r.recording_id }));
  }
}
