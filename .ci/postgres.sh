#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster for the test suite and print the URL to use:
#
#   eval "$(bash .ci/postgres.sh)"      # sets TEST_DATABASE_URL
#
# Idempotent: installs PostgreSQL from Debian only when no server binaries exist, initialises the
# cluster only once, starts it only when it is not running, creates the role/database only when
# missing. Everything except the final `export` line goes to stderr so `eval` sees just that line.
# PostgreSQL refuses to run as root, so as root the server runs as the `postgres` system user.
#
# Knobs (environment): PG_CI_PORT (54329), PG_CI_DIR (/tmp/gw-ci-postgres), PG_CI_USER (gateway),
# PG_CI_PASSWORD (gateway), PG_CI_DB (gateway).
set -euo pipefail

port="${PG_CI_PORT:-54329}"
base="${PG_CI_DIR:-/tmp/gw-ci-postgres}"
role="${PG_CI_USER:-gateway}"
password="${PG_CI_PASSWORD:-gateway}"
dbname="${PG_CI_DB:-gateway}"
data="$base/data"

log() { printf '[postgres.sh] %s\n' "$*" >&2; }

find_bindir() {
  local dir
  # Newest installed major version wins (sort -V orders 9.6 < 15 < 16).
  for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$dir/initdb" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/postgres" ]; then
      printf '%s\n' "$dir"
      return 0
    fi
  done
  return 1
}

if ! bindir="$(find_bindir)"; then
  if [ "$(id -u)" -ne 0 ]; then
    log "PostgreSQL server binaries not found and not root: install the Debian 'postgresql' package first"
    exit 1
  fi
  log "installing PostgreSQL from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update >&2
  # The package's post-install creates and tries to start a default 'main' cluster; in a container
  # without an init system that start is a no-op. We do not use that cluster.
  apt-get install -y --no-install-recommends postgresql >&2
  bindir="$(find_bindir)"
fi
log "using $bindir"

# Run a command as the cluster owner: postgres itself when we are root, otherwise ourselves.
if [ "$(id -u)" -eq 0 ]; then
  owner=postgres
  if ! id "$owner" >/dev/null 2>&1; then
    useradd --system --home-dir /var/lib/postgresql --shell /bin/bash "$owner"
  fi
  as_owner() { runuser -u "$owner" -- "$@"; }
else
  owner="$(id -un)"
  as_owner() { "$@"; }
fi

mkdir -p "$base"
chown "$owner" "$base"
chmod 700 "$base"

if [ ! -s "$data/PG_VERSION" ]; then
  log "initialising cluster in $data"
  pwfile="$base/.pwfile"
  # The superuser's password is random: the tests only ever use the dedicated role below.
  head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$pwfile"
  chown "$owner" "$pwfile"
  chmod 600 "$pwfile"
  # Local socket: trust (only the owner can reach $base); TCP: password (scram-sha-256).
  as_owner "$bindir/initdb" -D "$data" -U postgres --pwfile="$pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 >&2
  rm -f "$pwfile"
fi

if as_owner "$bindir/pg_ctl" -D "$data" status >/dev/null 2>&1; then
  log "cluster already running"
else
  log "starting cluster on 127.0.0.1:$port"
  # fsync off: a throwaway test cluster trades durability for speed.
  as_owner "$bindir/pg_ctl" -D "$data" -l "$base/server.log" -w -t 60 \
    -o "-p $port -k $base -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
    start >&2
fi

psql_admin() {
  as_owner "$bindir/psql" -h "$base" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -qAt "$@"
}

# CREATEDB: the test helper creates and drops one scratch database per test.
if [ "$(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$role'")" != "1" ]; then
  log "creating role $role"
  psql_admin -c "CREATE ROLE \"$role\" LOGIN CREATEDB PASSWORD '$password'" >&2
fi
if [ "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$dbname'")" != "1" ]; then
  log "creating database $dbname"
  psql_admin -c "CREATE DATABASE \"$dbname\" OWNER \"$role\"" >&2
fi

printf 'export TEST_DATABASE_URL=%q\n' "postgres://$role:$password@127.0.0.1:$port/$dbname"
