-- Core call records and the per-call event timeline.
--
-- Ids are text (the gateway generates UUIDs) so a malformed id from a replay or a test can never
-- make a whole event batch fail on a type error. Timestamps are timestamptz(3): millisecond
-- precision round-trips exactly through a JavaScript Date, which keeps keyset pagination cursors
-- exact.

-- Call status progression used to ignore out-of-order carrier callbacks (Twilio/SignalWire status
-- callbacks are not delivered in order): queued < initiated < ringing < in-progress < terminal.
-- Every terminal status shares the top rank, so the first terminal status wins.
CREATE FUNCTION call_status_rank(status text) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT CASE status
  WHEN 'queued' THEN 0
  WHEN 'initiated' THEN 1
  WHEN 'ringing' THEN 2
  WHEN 'in-progress' THEN 3
  WHEN 'completed' THEN 4
  WHEN 'busy' THEN 4
  WHEN 'no-answer' THEN 4
  WHEN 'failed' THEN 4
  WHEN 'canceled' THEN 4
END $$;

CREATE TABLE calls (
  id text PRIMARY KEY,
  carrier text NOT NULL CHECK (carrier IN ('twilio', 'signalwire')),
  carrier_call_id text,
  stream_id text,
  direction text NOT NULL CHECK (direction IN ('inbound', 'outbound')),
  from_number text NOT NULL,
  to_number text NOT NULL,
  status text NOT NULL CHECK (call_status_rank(status) IS NOT NULL),
  flow_id text,
  flow_version integer,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  answered_at timestamptz(3),
  ended_at timestamptz(3),
  end_reason text,
  amd_result text CHECK (amd_result IN ('human', 'machine', 'fax', 'unknown')),
  amd_answered_by text,
  amd_confidence double precision,
  amd_decision_ms integer,
  recording_path text,
  metadata jsonb NOT NULL DEFAULT '{}'::jsonb,
  -- NULLs are distinct: an outbound call may be recorded before the carrier has named it.
  CONSTRAINT calls_carrier_call_id_key UNIQUE (carrier, carrier_call_id)
);

-- The list endpoint pages newest first by (created_at, id); each filter gets an index that ends in
-- the same keys so a filtered page is an index range scan, not a sort.
CREATE INDEX calls_created_idx ON calls (created_at DESC, id DESC);
CREATE INDEX calls_status_created_idx ON calls (status, created_at DESC, id DESC);
CREATE INDEX calls_direction_created_idx ON calls (direction, created_at DESC, id DESC);
CREATE INDEX calls_from_created_idx ON calls (from_number, created_at DESC, id DESC);
CREATE INDEX calls_to_created_idx ON calls (to_number, created_at DESC, id DESC);
CREATE INDEX calls_flow_idx ON calls (flow_id, flow_version);

-- No foreign key to calls: events are written from a buffer that may reach the database before
-- the call row does, and one orphan must never block the batch it travels in.
CREATE TABLE call_events (
  call_id text NOT NULL,
  seq integer NOT NULL,
  media_ms double precision,
  wall_time timestamptz(3) NOT NULL,
  type text NOT NULL,
  data jsonb NOT NULL DEFAULT '{}'::jsonb,
  PRIMARY KEY (call_id, seq)
);
