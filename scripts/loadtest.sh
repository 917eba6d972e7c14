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
# Afterwards it prints the server's memory after the load (and once it has served the API
# document), how long a restart takes to be ready, and (with valgrind) the instructions
# and allocations per request of users/me, list 20 and read one.
#
# Settings (environment): LOADTEST_TENANTS (20), LOADTEST_DURATION (seconds, 10),
# LOADTEST_BCRYPT_COST (12, the production default), LOADTEST_POOL (DB_POOL_MAX_SIZE, 16),
# LOADTEST_LOG_SQL=1 (log every statement to $WORK/postgres.log and keep the directory:
# how the pgbench scripts in apps/loadtest/sql were derived), LOADTEST_CALLGRIND=0 (skip
# the instruction counts), LOADTEST_CALLGRIND_REQUESTS (200 per scenario),
# LOADTEST_CALLGRIND_SCENARIOS (me,list,read), LOADTEST_TIMED=0 (only the instruction
# counts), LOADTEST_KEEP=1 (keep the directory: the callgrind dumps, for
# `callgrind_annotate`). Arguments go to the timed aura-loadtest run.
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
    if [ "$LOG_SQL" = 1 ] || [ "${LOADTEST_KEEP:-0}" = 1 ]; then
        echo "kept $WORK (statement log with LOADTEST_LOG_SQL=1: $WORK/postgres.log; callgrind dumps)"
    else
        rm -rf "$WORK"
    fi
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
# Starts aura-api in the background (API_PID) with the settings above; "$@" before the
# binary (valgrind), environment overrides as VAR=value words in START_ENV.
start_api() {
    (
        cd "$WORK"
        exec env RUN_MIGRATIONS=true BIND_ADDR="127.0.0.1:$API_PORT" \
            MAIL_TRANSPORT=log WORKER_ENABLED=false RATE_LIMIT_ENABLED=false \
            ACCESS_TOKEN_TTL_SECS=3600 DB_POOL_MAX_SIZE="$POOL" LOG_FORMAT=json RUST_LOG=warn \
            METRICS_BIND_ADDR="127.0.0.1:$METRICS_PORT" ${START_ENV:-} \
            "$@" "$BIN/aura-api"
    ) >>"$WORK/api.log" 2>&1 &
    API_PID=$!
}

stop_api() {
    kill "$API_PID" 2>/dev/null || true
    wait "$API_PID" 2>/dev/null || true
    API_PID=""
}

# Milliseconds from now until /ready answers 200 (polled every 2 ms), at most $1 seconds.
ready_after_ms() {
    local started now limit=$(($1 * 1000))
    started=$(date +%s%N)
    while :; do
        if [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$API_PORT/ready")" = 200 ]; then
            now=$(date +%s%N)
            echo $(((now - started) / 1000000))
            return
        fi
        now=$(date +%s%N)
        if [ $(((now - started) / 1000000)) -gt "$limit" ]; then
            echo "aura-api not ready within $1 s; its log:" >&2
            tail -20 "$WORK/api.log" >&2
            exit 2
        fi
        sleep 0.002
    done
}

# The server's resident memory now and at its peak (VmRSS, VmHWM), in MiB, and what is
# resident now: the heap and stacks (RssAnon) and the binary's own pages (RssFile).
memory_of() {
    awk '/^VmRSS:/ {rss = $2} /^VmHWM:/ {hwm = $2} /^RssAnon:/ {anon = $2} /^RssFile:/ {file = $2}
         END {printf "RSS %.1f MiB (peak %.1f MiB; heap and stacks %.1f MiB, binary %.1f MiB)",
              rss / 1024, hwm / 1024, anon / 1024, file / 1024}' "/proc/$1/status"
}

status=0
if [ "${LOADTEST_TIMED:-1}" = 1 ]; then
    start_api
    echo "aura-api (release, BCRYPT_COST=$BCRYPT_COST, DB_POOL_MAX_SIZE=$POOL) on :$API_PORT," \
        "PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on :$PG_PORT," \
        "$(nproc) cores"
    "$BIN/aura-loadtest" --base-url "http://127.0.0.1:$API_PORT" --cli "$BIN/aura" --tenants "$TENANTS" \
        --duration "$DURATION" --pgbench-url "$DATABASE_URL" --pgbench-bin "$PGBIN/pgbench" \
        --metrics-url "http://127.0.0.1:$METRICS_PORT/metrics" "$@" || status=$?

    echo "server after the load run: $(memory_of "$API_PID")"
    # The API document is built on its first request (development serves it; production,
    # by default, does not): what serving it once adds.
    curl -s -o /dev/null "http://127.0.0.1:$API_PORT/openapi.json"
    echo "after serving /openapi.json once: $(memory_of "$API_PID")"
    # Start-up on a database already migrated (what a restart or a new instance sees).
    stop_api
    start_api
    echo "ready to serve $(ready_after_ms 30) ms after start (PostgreSQL, migrations up to date)"
    stop_api
fi

# Instructions per request (LOADTEST_CALLGRIND=0 skips): the same binary under
# callgrind, counting only while the measured requests run; two more tenants, created
# with the cheapest bcrypt cost the service accepts (sign-in is not what is counted, and it is slow under valgrind).
if [ "${LOADTEST_CALLGRIND:-1}" = 1 ] && command -v valgrind >/dev/null; then
    START_ENV="BCRYPT_COST=10" start_api valgrind --tool=callgrind --instr-atstart=no \
        --compress-strings=no --callgrind-out-file="$WORK/callgrind.out"
    "$BIN/aura-loadtest" --base-url "http://127.0.0.1:$API_PORT" --cli "$BIN/aura" --tenants 2 --users-per-tenant 1 \
        --scenarios "${LOADTEST_CALLGRIND_SCENARIOS:-me,list,read}" --concurrency 1 \
        --requests "${LOADTEST_CALLGRIND_REQUESTS:-200}" --wait-ready 300 \
        --callgrind-pid "$API_PID" --callgrind-out "$WORK/callgrind.out" | sed -n '/^Server instructions/,$p' || status=$?
    stop_api
fi
exit "$status"
