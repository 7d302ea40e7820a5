-- Hourly rollups of calls for the analytics summary and volume (src/analytics/rollup.ts): a month of
-- a million calls is a few thousand rollup rows instead of a million call rows.
--
-- The rollups are never the truth, only a cache of it. Every change to a call that can move a figure
-- appends its UTC hour to analytics_dirty_hours (a trigger, so no write path can forget it); the
-- queries read the raw calls for dirty hours and for the partial hours at the edges of a range, and
-- the rollup only for whole, clean hours. A background pass (src/analytics/rollupRefresher.ts)
-- recomputes dirty hours from the calls and removes their markers in one transaction.
--
-- Markers are appended, never upserted: a writer whose transaction has not committed yet keeps its
-- own marker (invisible to the refresher, so not deleted), and its hour stays dirty until a pass that
-- sees its change. That makes the refresh race-free without locking any hot row on the write path.

-- The histogram buckets of talk time (answer → end) and AMD decision time, in ms: bucket i holds
-- values from bound i up to bound i+1 (width_bucket numbering; src/analytics/rollup.ts keeps the same
-- bounds and a test holds them equal). The rollup counts calls per bucket, which locates a
-- percentile's bucket; the indexes below then read the calls of that one bucket, so percentiles are
-- exact without sorting a month of values.
CREATE FUNCTION analytics_duration_bucket(answered timestamptz, ended timestamptz) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT width_bucket((EXTRACT(EPOCH FROM (ended - answered)) * 1000)::bigint,
  ARRAY[0,1000,2000,3000,5000,7500,10000,15000,20000,25000,30000,35000,40000,45000,50000,55000,60000,70000,80000,90000,100000,110000,120000,135000,150000,165000,180000,195000,210000,225000,240000,255000,270000,285000,300000,330000,360000,420000,480000,600000,720000,900000,1200000,1800000,2700000,3600000,7200000]::bigint[]) $$;

CREATE FUNCTION analytics_amd_bucket(ms integer) RETURNS integer
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT width_bucket(ms::bigint,
  ARRAY[0,250,500,750,1000,1250,1500,1750,2000,2250,2500,2750,3000,3250,3500,3750,4000,4500,5000,6000,7000,8000,10000,15000,20000,30000]::bigint[]) $$;

CREATE INDEX calls_duration_bucket_idx ON calls (analytics_duration_bucket(answered_at, ended_at), created_at)
  WHERE answered_at IS NOT NULL AND ended_at IS NOT NULL;
CREATE INDEX calls_amd_bucket_idx ON calls (amd_result, analytics_amd_bucket(amd_decision_ms), created_at)
  WHERE amd_decision_ms IS NOT NULL;

CREATE TABLE analytics_dirty_hours (
  hour timestamptz NOT NULL
);
CREATE INDEX analytics_dirty_hours_idx ON analytics_dirty_hours (hour);

-- One row per UTC hour and filter dimensions (flow, campaign, direction). duration_hist counts the
-- answered-and-ended calls per duration bucket (analytics_duration_bucket).
CREATE TABLE analytics_hourly (
  hour timestamptz NOT NULL,
  flow_id text,
  campaign_id text,
  direction text NOT NULL,
  calls integer NOT NULL,
  answered integer NOT NULL,
  ended integer NOT NULL,
  success integer NOT NULL,
  completed integer NOT NULL,
  transferred integer NOT NULL,
  voicemail_dropped integer NOT NULL,
  failed integer NOT NULL,
  abandoned integer NOT NULL,
  duration_count integer NOT NULL,
  duration_sum_ms bigint NOT NULL,
  duration_hist integer[] NOT NULL
);
CREATE INDEX analytics_hourly_hour_idx ON analytics_hourly (hour);

CREATE TABLE analytics_hourly_reasons (
  hour timestamptz NOT NULL,
  flow_id text,
  campaign_id text,
  direction text NOT NULL,
  failure_reason text NOT NULL,
  calls integer NOT NULL
);
CREATE INDEX analytics_hourly_reasons_hour_idx ON analytics_hourly_reasons (hour);

CREATE TABLE analytics_hourly_amd (
  hour timestamptz NOT NULL,
  flow_id text,
  campaign_id text,
  direction text NOT NULL,
  amd_result text NOT NULL,
  calls integer NOT NULL,
  decision_count integer NOT NULL,
  decision_sum_ms bigint NOT NULL,
  decision_hist integer[] NOT NULL
);
CREATE INDEX analytics_hourly_amd_hour_idx ON analytics_hourly_amd (hour);

-- Only changes to what the figures read mark an hour: the many status and bookkeeping updates of a
-- live call do not.
CREATE FUNCTION analytics_mark_dirty() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    INSERT INTO analytics_dirty_hours (hour) VALUES (date_trunc('hour', OLD.created_at, 'UTC'));
    RETURN OLD;
  END IF;
  IF TG_OP = 'UPDATE' AND date_trunc('hour', OLD.created_at, 'UTC') <> date_trunc('hour', NEW.created_at, 'UTC') THEN
    INSERT INTO analytics_dirty_hours (hour) VALUES (date_trunc('hour', OLD.created_at, 'UTC'));
  END IF;
  INSERT INTO analytics_dirty_hours (hour) VALUES (date_trunc('hour', NEW.created_at, 'UTC'));
  RETURN NEW;
END $$;

CREATE TRIGGER calls_analytics_insert AFTER INSERT OR DELETE ON calls
  FOR EACH ROW EXECUTE FUNCTION analytics_mark_dirty();
CREATE TRIGGER calls_analytics_update AFTER UPDATE ON calls
  FOR EACH ROW WHEN (
    OLD.created_at IS DISTINCT FROM NEW.created_at
    OR OLD.answered_at IS DISTINCT FROM NEW.answered_at
    OR OLD.ended_at IS DISTINCT FROM NEW.ended_at
    OR OLD.outcome IS DISTINCT FROM NEW.outcome
    OR OLD.failure_reason IS DISTINCT FROM NEW.failure_reason
    OR OLD.amd_result IS DISTINCT FROM NEW.amd_result
    OR OLD.amd_decision_ms IS DISTINCT FROM NEW.amd_decision_ms
    OR OLD.flow_id IS DISTINCT FROM NEW.flow_id
    OR OLD.direction IS DISTINCT FROM NEW.direction
    OR COALESCE(OLD.metadata->>'campaignId', OLD.metadata->'campaign'->>'id') IS DISTINCT FROM COALESCE(NEW.metadata->>'campaignId', NEW.metadata->'campaign'->>'id')
  ) EXECUTE FUNCTION analytics_mark_dirty();

-- A call's campaign as src/analytics/filters.ts reads it: the dialer writes metadata.campaign.id,
-- POST /v1/calls callers may write metadata.campaignId (the only key 006's index covers).
CREATE INDEX calls_campaign_any_created_idx ON calls ((COALESCE(metadata->>'campaignId', metadata->'campaign'->>'id')), created_at);

-- Calls that exist before this migration: their hours are dirty until the first refresh pass.
INSERT INTO analytics_dirty_hours (hour) SELECT DISTINCT date_trunc('hour', created_at, 'UTC') FROM calls;
