-- Outbound campaigns (the power dialer): campaigns, their contacts, one row per dial attempt, the
-- campaign's audit trail, the deployment's do-not-call list, and the pacing limiters.
--
-- The contacts table is the source of truth of the dialer queue (state, attempts, next attempt
-- time, priority): instances claim due contacts with FOR UPDATE SKIP LOCKED, so no contact is
-- claimed twice. Pacing is counted here too (limiter rows locked for the claim's transaction), so
-- limits hold across every gateway instance on the database.

CREATE TABLE campaigns (
  id text PRIMARY KEY,
  name text NOT NULL,
  state text NOT NULL CHECK (state IN ('draft', 'running', 'paused', 'stopped', 'completed')),
  state_reason text,
  flow_id text NOT NULL,
  flow_version integer,
  carrier text NOT NULL CHECK (carrier IN ('twilio', 'signalwire')),
  -- Pacing, retries, window, policies, caller ids, AMD, consent: validated by the API (settings.ts).
  settings jsonb NOT NULL,
  -- Campaign pacing (GCRA): the earliest time the next dial may start.
  next_dial_at timestamptz(3) NOT NULL DEFAULT now(),
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  updated_at timestamptz(3) NOT NULL DEFAULT now(),
  started_at timestamptz(3),
  ended_at timestamptz(3)
);
CREATE INDEX campaigns_state_idx ON campaigns (state);

CREATE TABLE campaign_contacts (
  id text PRIMARY KEY,
  campaign_id text NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
  phone text NOT NULL CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
  name text,
  priority integer NOT NULL DEFAULT 0,
  timezone text NOT NULL,
  timezone_source text NOT NULL CHECK (timezone_source IN ('column', 'number', 'campaign')),
  variables jsonb NOT NULL DEFAULT '{}'::jsonb,
  consent text NOT NULL DEFAULT 'none' CHECK (consent IN ('none', 'express', 'written')),
  consent_source text,
  consent_at timestamptz(3),
  -- queued: waits for next_attempt_at; dialing: an attempt is in flight; done: final disposition;
  -- do-not-call: on the list (kept, never dialed); skipped: skipped by an operator; review: the
  -- outcome of an attempt is unknown and a person must decide (never redialed automatically).
  state text NOT NULL CHECK (state IN ('queued', 'dialing', 'done', 'do-not-call', 'skipped', 'review')),
  disposition text,
  attempts integer NOT NULL DEFAULT 0,
  -- Attempts per outcome, for the per-outcome retry limits.
  attempts_by_outcome jsonb NOT NULL DEFAULT '{}'::jsonb,
  next_attempt_at timestamptz(3) NOT NULL DEFAULT now(),
  last_outcome text,
  source_line integer,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  updated_at timestamptz(3) NOT NULL DEFAULT now(),
  CONSTRAINT campaign_contacts_phone_key UNIQUE (campaign_id, phone)
);
-- The claim: due queued contacts of a campaign, highest priority first, oldest due first.
CREATE INDEX campaign_contacts_due_idx ON campaign_contacts (campaign_id, priority DESC, next_attempt_at, id) WHERE state = 'queued';
CREATE INDEX campaign_contacts_state_idx ON campaign_contacts (campaign_id, state, id);

CREATE TABLE campaign_attempts (
  id text PRIMARY KEY,
  campaign_id text NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
  contact_id text NOT NULL REFERENCES campaign_contacts (id) ON DELETE CASCADE,
  attempt integer NOT NULL,
  phone text NOT NULL,
  caller_id text NOT NULL,
  carrier text NOT NULL,
  -- The call record (calls.id), created before the carrier is asked.
  call_id text NOT NULL UNIQUE,
  carrier_call_id text,
  -- The gateway process that placed it: a lost instance's attempts are reconciled by others.
  instance_id text NOT NULL,
  -- claimed: committed, carrier not asked yet; sending: the carrier request is out; placed: the
  -- carrier accepted it; settled: outcome known (or unknown, decided).
  state text NOT NULL CHECK (state IN ('claimed', 'sending', 'placed', 'settled', 'canceled')),
  outcome text,
  amd_result text,
  disposition text,
  abandoned boolean NOT NULL DEFAULT false,
  voicemail_left boolean NOT NULL DEFAULT false,
  detail jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  placed_at timestamptz(3),
  settled_at timestamptz(3)
);
CREATE INDEX campaign_attempts_open_idx ON campaign_attempts (state, created_at) WHERE state IN ('claimed', 'sending', 'placed');
CREATE INDEX campaign_attempts_campaign_idx ON campaign_attempts (campaign_id, created_at);
CREATE INDEX campaign_attempts_contact_idx ON campaign_attempts (contact_id, attempt);
CREATE INDEX campaign_attempts_phone_idx ON campaign_attempts (phone, created_at);
CREATE INDEX campaign_attempts_instance_idx ON campaign_attempts (instance_id) WHERE state IN ('claimed', 'sending', 'placed');

CREATE TABLE campaign_events (
  id bigserial PRIMARY KEY,
  campaign_id text NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
  at timestamptz(3) NOT NULL DEFAULT now(),
  actor text NOT NULL,
  type text NOT NULL,
  data jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX campaign_events_campaign_idx ON campaign_events (campaign_id, id);

CREATE TABLE do_not_call (
  e164 text PRIMARY KEY CHECK (e164 ~ '^\+[1-9][0-9]{6,14}$'),
  source text NOT NULL,
  reason text,
  actor text NOT NULL,
  created_at timestamptz(3) NOT NULL DEFAULT now()
);

-- One row per carrier account: a GCRA limiter (the earliest time the next dial may start).
CREATE TABLE dial_limiters (
  key text PRIMARY KEY,
  next_dial_at timestamptz(3) NOT NULL DEFAULT now()
);
