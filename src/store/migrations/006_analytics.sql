-- The read side of calls: each ended call's outcome (src/outcome/vocabulary.ts), its post-call
-- analysis, its recording's registration, and the indexes the analytics queries and the export need.
--
-- outcome/failure_reason are free text with CHECKs kept loose on purpose: the vocabulary grows at
-- the end of its lists (never renamed), and a new value must not need a migration to be written.

ALTER TABLE calls
  ADD COLUMN outcome text,
  ADD COLUMN failure_reason text,
  ADD COLUMN disposition text CHECK (disposition IS NULL OR length(disposition) <= 64),
  ADD COLUMN outcome_at timestamptz(3),
  ADD COLUMN analysis jsonb,
  -- Recording registration: an opaque id the storage resolves (never a path in the API), its size
  -- and duration, and when it was deleted (by the API or retention) so the call says so.
  ADD COLUMN recording_id text,
  ADD COLUMN recording_bytes bigint,
  ADD COLUMN recording_duration_ms integer,
  ADD COLUMN recording_status text CHECK (recording_status IS NULL OR recording_status IN ('recording', 'saved', 'stopped', 'failed', 'deleted')),
  ADD COLUMN recording_deleted_at timestamptz(3);

-- Summaries and volume scan a time range, optionally narrowed by flow, campaign or direction; each
-- index leads with the filter and ends in created_at so the range is one index range.
CREATE INDEX calls_flow_created_idx ON calls (flow_id, created_at);
CREATE INDEX calls_campaign_created_idx ON calls ((metadata->>'campaignId'), created_at) WHERE metadata ? 'campaignId';
CREATE INDEX calls_outcome_created_idx ON calls (outcome, created_at);
-- Retention finds old recordings still on disk without scanning every call.
CREATE INDEX calls_recording_retention_idx ON calls (created_at) WHERE recording_id IS NOT NULL AND recording_deleted_at IS NULL;
-- The latency report reads agent turn events by type.
CREATE INDEX call_events_type_idx ON call_events (type, wall_time);
