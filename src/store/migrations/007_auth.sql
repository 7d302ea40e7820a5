-- Operators and access: users with a role, cookie sessions, API keys with a role, and the audit log of
-- every change made through the /v1 API. Secrets are never stored: passwords as scrypt hashes, session
-- ids and API keys as SHA-256 digests (they are long random values, so a fast digest is enough).

CREATE TABLE users (
  id text PRIMARY KEY,
  name text NOT NULL UNIQUE CHECK (name ~ '^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$'),
  role text NOT NULL CHECK (role IN ('viewer', 'supervisor', 'admin')),
  -- Viewers hear recordings and listen in only when granted; supervisors and admins always may.
  recordings boolean NOT NULL DEFAULT false,
  password_hash text NOT NULL,
  disabled boolean NOT NULL DEFAULT false,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  updated_at timestamptz(3) NOT NULL DEFAULT now()
);

CREATE TABLE sessions (
  id_hash text PRIMARY KEY,
  user_id text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  csrf_token text NOT NULL,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  expires_at timestamptz(3) NOT NULL
);

CREATE INDEX sessions_user_id_idx ON sessions (user_id);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);

CREATE TABLE api_keys (
  id text PRIMARY KEY,
  name text NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
  key_hash text NOT NULL UNIQUE,
  role text NOT NULL CHECK (role IN ('viewer', 'supervisor', 'admin')),
  recordings boolean NOT NULL DEFAULT false,
  created_by text,
  created_at timestamptz(3) NOT NULL DEFAULT now(),
  revoked_at timestamptz(3)
);

CREATE TABLE audit_events (
  id bigserial PRIMARY KEY,
  at timestamptz(3) NOT NULL DEFAULT now(),
  actor_kind text NOT NULL CHECK (actor_kind IN ('user', 'key')),
  actor_id text NOT NULL,
  actor_name text NOT NULL,
  method text NOT NULL,
  route text NOT NULL,
  url text NOT NULL,
  status integer NOT NULL,
  target jsonb NOT NULL DEFAULT '{}'::jsonb
);

CREATE INDEX audit_events_at_idx ON audit_events (at DESC, id DESC);
