# Helpers shared by the scripts that start aura-api (sourced, not run): a fresh
# database with the owner and app roles, the debug (or release) binaries, aura-api processes
# on free ports, and cleanup of everything started here.
#
# The database server: TEST_DATABASE_URL (a superuser URL), else the local
# postgres://postgres@127.0.0.1:5432/postgres, as the test suite uses.

export PYTHONDONTWRITEBYTECODE=1
AURA_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
AURA_SUPERUSER_URL=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
AURA_TMP=$(mktemp -d "${TMPDIR:-/tmp}/aura-script.XXXXXX")
AURA_PIDS=()
AURA_DB=""
AURA_CLEANUPS=()

# The binary NAME of the test run's debug build, or of AURA_PROFILE=release
# (CARGO_TARGET_DIR honoured); built if missing.
aura_bin() {
    local target=${CARGO_TARGET_DIR:-$AURA_ROOT/target} profile=${AURA_PROFILE:-debug}
    case $target in /*) ;; *) target=$AURA_ROOT/$target ;; esac
    if [ ! -x "$target/$profile/$1" ]; then
        local release=()
        [ "$profile" = release ] && release=(--release)
        (cd "$AURA_ROOT" && cargo build --locked "${release[@]}" --bin "$1") >&2
    fi
    echo "$target/$profile/$1"
}

# URL of the server with another login and database: aura_url USER PASSWORD DATABASE.
aura_url() {
    python3 - "$AURA_SUPERUSER_URL" "$1" "$2" "$3" <<'PY'
import sys, urllib.parse as u
base, user, password, db = sys.argv[1:]
p = u.urlsplit(base)
host = p.hostname or "127.0.0.1"
port = p.port or 5432
cred = u.quote(user, safe="") + (":" + u.quote(password, safe="") if password else "")
print(f"{p.scheme}://{cred}@{host}:{port}/{db}")
PY
}

# A fresh database owned by aura_owner; the roles are created as the test harness does
# (crates/adapter-postgres/src/testing.rs: same names, passwords and advisory lock).
# Sets AURA_DB, AURA_OWNER_URL and AURA_APP_URL.
aura_create_db() {
    AURA_DB="aura_$1_$(python3 -c 'import uuid; print(uuid.uuid4().hex[:12])')"
    psql "$AURA_SUPERUSER_URL" -v ON_ERROR_STOP=1 -q -X >/dev/null <<SQL
BEGIN;
SELECT pg_advisory_xact_lock(4707759426025902932);
DO \$\$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'aura_owner') THEN
        CREATE ROLE aura_owner LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD 'aura_owner';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'aura_app') THEN
        CREATE ROLE aura_app LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD 'aura_app';
    -- 'aura db init' makes it a NOLOGIN group when it finds none; these scripts log in as it.
    -- (No backquotes in this unquoted heredoc: the shell would run them.)
    ELSIF NOT (SELECT rolcanlogin FROM pg_roles WHERE rolname = 'aura_app') THEN
        ALTER ROLE aura_app LOGIN PASSWORD 'aura_app';
    END IF;
END
\$\$;
COMMIT;
CREATE DATABASE "$AURA_DB" OWNER aura_owner TEMPLATE template0 ENCODING 'UTF8';
SQL
    AURA_OWNER_URL=$(aura_url aura_owner aura_owner "$AURA_DB")
    AURA_APP_URL=$(aura_url aura_app aura_app "$AURA_DB")
}

# Starts aura-api as NAME with extra VAR=value arguments; waits until it listens and
# sets AURA_PORT. The log is $AURA_TMP/NAME.log. Development mode, a fresh key directory
# and pepper unless given, bcrypt at its lowest cost, no in-process worker.
aura_start_api() {
    local name=$1
    shift
    local bin log pid port=""
    bin=$(aura_bin aura-api)
    log=$AURA_TMP/$name.log
    mkdir -p "$AURA_TMP/$name"
    : >"$log" # exists before the background process opens it, for the polling below
    (cd "$AURA_TMP/$name" && exec env -i PATH="$PATH" HOME="$AURA_TMP" \
        APP_ENV=development BIND_ADDR=127.0.0.1:0 WORKERS=2 BCRYPT_COST=10 \
        JWT_KEYS_DIR="$AURA_TMP/$name/keys" MAIL_TRANSPORT=file MAIL_DIR="$AURA_TMP/$name/mail" \
        WORKER_ENABLED=false LOG_FORMAT=json RUST_LOG=info "$@" "$bin") >"$log" 2>&1 &
    pid=$!
    AURA_PIDS+=("$pid")
    for _ in $(seq 1 600); do
        port=$(grep -m1 '"message":"listening"' "$log" | grep -o '"port":[0-9]*' | cut -d: -f2 || true)
        [ -n "$port" ] && break
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "aura-api ($name) exited before listening:" >&2
            tail -n 20 "$log" >&2
            return 1
        fi
        sleep 0.1
    done
    if [ -z "$port" ]; then
        echo "aura-api ($name) did not listen within 60 s" >&2
        return 1
    fi
    AURA_PORT=$port
}

# Runs COMMAND at exit (before the processes are stopped and the database dropped).
aura_on_exit() {
    AURA_CLEANUPS+=("$1")
}

# Stops every process started here (by id), drops the database, removes the temp dir.
aura_cleanup() {
    local status=$?
    set +e
    for cleanup in "${AURA_CLEANUPS[@]}"; do eval "$cleanup"; done
    for pid in "${AURA_PIDS[@]}"; do kill "$pid" 2>/dev/null; done
    for pid in "${AURA_PIDS[@]}"; do wait "$pid" 2>/dev/null; done
    if [ -n "$AURA_DB" ]; then
        psql "$AURA_SUPERUSER_URL" -q -X -c "DROP DATABASE IF EXISTS \"$AURA_DB\" WITH (FORCE)" >/dev/null 2>&1
    fi
    if [ -n "${AURA_KEEP_TMP:-}" ]; then
        echo "kept $AURA_TMP" >&2
    else
        rm -rf "$AURA_TMP"
    fi
    return $status
}
trap aura_cleanup EXIT
trap 'exit 130' INT TERM
