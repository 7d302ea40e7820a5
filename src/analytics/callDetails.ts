// The read side of one call beyond its core record: outcome, post-call analysis, recording. The API
// shows a recording by id and URL, never by where it lies on disk.
import type { Queryable } from '../store/db.ts';

export interface CallOutcomeView {
  category: string;
  failureReason: string | null;
  disposition: string | null;
  decidedAt: string | null;
}

export interface RecordingView {
  id: string;
  /** Relative to the API root: GET it (Range supported), `?channel=caller|gateway|both`. */
  url: string;
  status: string;
  bytes: number | null;
  durationMs: number | null;
  deletedAt: string | null;
}

export interface CallDetails {
  outcome: CallOutcomeView | null;
  analysis: Record<string, unknown> | null;
  recording: RecordingView | null;
}

interface Row {
  outcome: string | null;
  failure_reason: string | null;
  disposition: string | null;
  outcome_at: Date | null;
  analysis: Record<string, unknown> | null;
  recording_id: string | null;
  recording_bytes: string | number | null;
  recording_duration_ms: number | null;
  recording_status: string | null;
  recording_deleted_at: Date | null;
}

export function recordingUrl(callId: string): string {
  return `/v1/calls/${encodeURIComponent(callId)}/recording`;
}

export async function loadCallDetails(db: Queryable, callId: string): Promise<CallDetails> {
  const { rows } = await db.query<Row>(
    `SELECT outcome, failure_reason, disposition, outcome_at, analysis, recording_id, recording_bytes, recording_duration_ms, recording_status, recording_deleted_at
       FROM calls WHERE id = $1`,
    [callId],
  );
  const r = rows[0];
  if (r === undefined) return { outcome: null, analysis: null, recording: null };
  return {
    outcome: r.outcome === null ? null : { category: r.outcome, failureReason: r.failure_reason, disposition: r.disposition, decidedAt: r.outcome_at?.toISOString() ?? null },
    analysis: r.analysis,
    recording:
      r.recording_id === null
        ? null
        : {
            id: r.recording_id,
            url: recordingUrl(callId),
            status: r.recording_status ?? 'saved',
            bytes: r.recording_bytes === null ? null : Number(r.recording_bytes),
            durationMs: r.recording_duration_ms,
            deletedAt: r.recording_deleted_at?.toISOString() ?? null,
          },
  };
}
