-- Request counts per client and fixed window, shared by every gateway instance (DESIGN decision 12:
-- limits that must hold across instances are counted in the database). `key` is the route and the
-- client (IPv4 address or IPv6 /64). Rows whose window has long ended are deleted by the counting
-- statement itself, at most once a minute per instance.
CREATE TABLE IF NOT EXISTS rate_limits (
  key text PRIMARY KEY,
  window_start timestamptz NOT NULL,
  count integer NOT NULL
);
CREATE INDEX IF NOT EXISTS rate_limits_window_start ON rate_limits (window_start);
