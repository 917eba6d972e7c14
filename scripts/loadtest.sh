#!/usr/bin/env bash
# Load figures for AURA-GDPR: builds the release binaries, starts a private PostgreSQL
# cluster (initdb in a temporary directory, its own port and socket: the shared server
# is never touched), creates the roles and database with `aura db init`, starts
# `aura-api` (release) on it, runs `aura-loadtest` with pgbench for the database-alone
# figures and the ceiling (the least SQL a request needs, in one transaction), reading the
# audit-chain lock's hold times from the service's metrics listener, then stops
# everything and removes the directory.
#
#   scripts/loadtest.sh                      # 20 tenants, 10 s per run, concurrency 1,16,64
#   LOADTEST_DURATION=5 scripts/loadtest.sh --scenarios list,read --concurrency 1,16
#
# Settings (environment): LOADTEST_TENANTS (20), LOADTEST_DURATION (seconds, 10),
# LOADTEST_BCRYPT_COST (12, the production default), LOADTEST_POOL (DB_POOL_MAX_SIZE, 16),
# LOADTEST_LOG_SQL=1 (log every statement to $WORK/postgres.log and keep the directory:
# how the pgbench scripts in apps/loadtest/sql were derived). Arguments go to aura-loadtest.
set -euo pipefail

cd "$(dirname "$0")/.."
TENANTS=${LOADTEST_TENANTS:-20}
DURATION=${LOADTEST_DURATION:-10}
BCRYPT_COST=${LOADTEST_BCRYPT_COST:-12}
POOL=${LOADTEST_POOL:-16}
LOG_SQL=${LOADTEST_LOG_SQL:-0}

cargo build --release --locked -p aura-api -p aura-cli -p aura-loadtest
BIN=$(realpath "${CARGO_TARGET_DIR:-target}/release")
PGBIN=$(pg_config --bindir)

WORK=$(mktemp -d /tmp/aura-loadtest.XXXXXX)
chmod 0755 "$WORK"
API_PID=""

# initdb and postgres refuse to run as root: run them as the `postgres` account then.
as_pg() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cleanup() {
    set +e
    if [ -n "$API_PID" ]; then kill "$API_PID" 2>/dev/null; wait "$API_PID" 2>/dev/null; fi
    if [ -f "$WORK/pg/postmaster.pid" ]; then as_pg "$PGBIN/pg_ctl" -D "$WORK/pg" -m immediate -w stop >/dev/null; fi
    if [ "$LOG_SQL" = 1 ]; then echo "kept $WORK (statement log: $WORK/postgres.log)"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

# A free TCP port on the loopback (bash's /dev/tcp: a refused connection means free).
free_port() {
    local port
    for port in $(seq "$1" $(($1 + 200))); do
        if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then echo "$port"; return; fi
    done
    echo "no free port from $1" >&2; exit 2
}

PG_PORT=$(free_port 55432)
mkdir -p "$WORK/pg" "$WORK/sock"
if [ "$(id -u)" = 0 ]; then chown postgres "$WORK/pg" "$WORK/sock"; touch "$WORK/postgres.log"; chown postgres "$WORK/postgres.log"; fi
as_pg "$PGBIN/initdb" -D "$WORK/pg" -U postgres --auth=trust -E UTF8 --no-instructions >/dev/null
PG_OPTS="-p $PG_PORT -c listen_addresses=127.0.0.1 -k $WORK/sock -c max_connections=200 -c shared_buffers=256MB"
if [ "$LOG_SQL" = 1 ]; then PG_OPTS="$PG_OPTS -c log_statement=all -c log_line_prefix=%p:"; fi
as_pg "$PGBIN/pg_ctl" -D "$WORK/pg" -o "$PG_OPTS" -l "$WORK/postgres.log" -w start >/dev/null

DB=aura_load
export DATABASE_URL="postgres://aura_app:load-app@127.0.0.1:$PG_PORT/$DB"
export MIGRATION_DATABASE_URL="postgres://aura_owner:load-owner@127.0.0.1:$PG_PORT/$DB"
"$BIN/aura" db init --superuser-url "postgres://postgres@127.0.0.1:$PG_PORT/postgres" >/dev/null

API_PORT=$(free_port 18080)
METRICS_PORT=$(free_port $((API_PORT + 1)))
# Shared with the `aura` CLI, which aura-loadtest runs to add the members with a password
# (through the API an administrator only invites).
PASSWORD_PEPPER=$(head -c 32 /dev/urandom | base64)
export APP_ENV=development BCRYPT_COST PASSWORD_PEPPER JWT_KEYS_DIR="$WORK/keys"
(
    cd "$WORK"
    exec env RUN_MIGRATIONS=true BIND_ADDR="127.0.0.1:$API_PORT" \
        MAIL_TRANSPORT=log WORKER_ENABLED=false RATE_LIMIT_ENABLED=false \
        ACCESS_TOKEN_TTL_SECS=3600 DB_POOL_MAX_SIZE="$POOL" LOG_FORMAT=json RUST_LOG=warn \
        METRICS_BIND_ADDR="127.0.0.1:$METRICS_PORT" \
        "$BIN/aura-api"
) >"$WORK/api.log" 2>&1 &
API_PID=$!

echo "aura-api (release, BCRYPT_COST=$BCRYPT_COST, DB_POOL_MAX_SIZE=$POOL) on :$API_PORT," \
    "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on :$PG_PORT," \
    "$(nproc) cores"
"$BIN/aura-loadtest" --base-url "http://127.0.0.1:$API_PORT" --cli "$BIN/aura" --tenants "$TENANTS" \
    --duration "$DURATION" --pgbench-url "$DATABASE_URL" --pgbench-bin "$PGBIN/pgbench" \
    --metrics-url "http://127.0.0.1:$METRICS_PORT/metrics" "$@"
