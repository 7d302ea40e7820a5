-- Call flows with versions, number → flow routing, and departments (transfer targets).
--
-- A flow version is immutable: POST /v1/flows writes version max+1 of the id. A number maps to one
-- flow id and either a pinned version or NULL for "always the latest". There is no foreign key from
-- numbers to flows because the key of flows is (id, version); the store checks the flow exists.

CREATE TABLE flows (
  id text NOT NULL CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
  version integer NOT NULL CHECK (version > 0),
  definition jsonb NOT NULL,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  PRIMARY KEY (id, version)
);

CREATE TABLE numbers (
  -- E.164 (ITU-T E.164: '+', up to 15 digits); the API validates it too.
  e164 text PRIMARY KEY CHECK (e164 ~ '^\+[1-9][0-9]{6,14}$'),
  flow_id text NOT NULL,
  version integer CHECK (version IS NULL OR version > 0),
  updated_at timestamptz(3) NOT NULL DEFAULT now()
);

CREATE INDEX numbers_flow_id_idx ON numbers (flow_id);

CREATE TABLE departments (
  name text PRIMARY KEY CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9 _.-]{0,99}$'),
  definition jsonb NOT NULL,
  updated_at timestamptz(3) NOT NULL DEFAULT now()
);
