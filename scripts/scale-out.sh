#!/usr/bin/env bash
# Scale-out proof on this machine: two aura-api instances behind nginx (round robin), with
# pgbouncer in transaction-pooling mode (a server pool of 2) in front of PostgreSQL.
# It shows, with PASS/FAIL lines, that
#   1. a session ended through one instance is refused by the other (access and refresh
#      tokens), and a replayed refresh token is refused across instances;
#   2. rate limits are shared: failed sign-ins alternating between the instances are
#      throttled at the same attempt as against one instance; the per-tenant API limit
#      (when the build has RATE_LIMIT_TENANT_PER_MINUTE) holds across both;
#   3. the RLS tenant context survives transaction pooling: two tenants hammering the API
#      concurrently through 2 server connections only ever see their own rows, and a
#      server connection handed back to the pool carries no tenant;
#   4. documents are shared: one uploaded through instance 1 (several chunks, sealed with
#      the data key both derive from the shared pepper) is downloaded byte-identical, and
#      a range across a chunk boundary, through instance 2.
# nginx and pgbouncer (Debian packages nginx-light, pgbouncer; installed if missing) run
# unprivileged from a temp dir on free ports; migrations go straight to PostgreSQL as the
# owner role. Exits non-zero on any FAIL. Everything started here is stopped at exit.
#
#   bash scripts/scale-out.sh
set -euo pipefail
source "$(dirname "$0")/lib.sh"

have() { command -v "$1" >/dev/null || [ -x "/usr/sbin/$1" ]; }
if ! have nginx || ! have pgbouncer; then
    echo "== installing nginx-light and pgbouncer"
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q nginx-light pgbouncer >/dev/null ||
        { apt-get update -q >/dev/null && apt-get install -y -q nginx-light pgbouncer >/dev/null; }
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
PGBOUNCER=$(command -v pgbouncer || echo /usr/sbin/pgbouncer)

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Waits until something listens on 127.0.0.1:$1 (or gives up after 10 s).
wait_port() {
    python3 - "$1" <<'PY'
import socket, sys, time
for _ in range(100):
    try:
        socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=0.2).close()
        sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(1)
PY
}

# Unprivileged: as root, nginx and pgbouncer run as `nobody`.
as_nobody=()
if [ "$(id -u)" = 0 ]; then
    as_nobody=(runuser -u nobody --)
    chmod 755 "$AURA_TMP"
fi

aura_create_db scale
pepper=$(python3 -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())')

# --- pgbouncer: transaction pooling, 2 server connections for the app role -------------
pgb_dir=$AURA_TMP/pgbouncer
mkdir -p "$pgb_dir"
pgb_port=$(free_port)
db_port=$(python3 -c 'import sys, urllib.parse as u; print(u.urlsplit(sys.argv[1]).port or 5432)' "$AURA_SUPERUSER_URL")
db_host=$(python3 -c 'import sys, urllib.parse as u; print(u.urlsplit(sys.argv[1]).hostname or "127.0.0.1")' "$AURA_SUPERUSER_URL")
cat >"$pgb_dir/userlist.txt" <<EOF
"aura_app" "aura_app"
EOF
cat >"$pgb_dir/pgbouncer.ini" <<EOF
[databases]
aura = host=$db_host port=$db_port dbname=$AURA_DB user=aura_app password=aura_app

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $pgb_port
unix_socket_dir =
auth_type = md5
auth_file = $pgb_dir/userlist.txt
pool_mode = transaction
default_pool_size = 2
min_pool_size = 0
reserve_pool_size = 0
max_client_conn = 200
server_reset_query =
logfile = $pgb_dir/pgbouncer.log
pidfile = $pgb_dir/pgbouncer.pid
EOF
chown -R nobody "$pgb_dir" 2>/dev/null || true
"${as_nobody[@]}" "$PGBOUNCER" "$pgb_dir/pgbouncer.ini" >"$pgb_dir/stdout.log" 2>&1 &
AURA_PIDS+=("$!")
wait_port "$pgb_port" || { echo "pgbouncer did not start:"; cat "$pgb_dir"/*.log; exit 1; }
pooled_url="postgres://aura_app:aura_app@127.0.0.1:$pgb_port/aura"
echo "== pgbouncer $($PGBOUNCER --version | head -n 1) on 127.0.0.1:$pgb_port (transaction mode, pool 2)"

# --- two API instances: shared keys and pepper, the pool through pgbouncer ---------------
rate_limited=false
if grep -q RATE_LIMIT_TENANT_PER_MINUTE "$AURA_ROOT/apps/api/src/config.rs"; then
    rate_limited=true
fi
# Above what one tenant sends in part 3 (about 155 requests), so only part 2 meets it.
tenant_limit=200
common=(DATABASE_URL="$pooled_url" DB_TRANSACTION_POOLING="${SCALE_TRANSACTION_POOLING:-true}" DB_POOL_MAX_SIZE=8
    JWT_KEYS_DIR="$AURA_TMP/keys" PASSWORD_PEPPER="$pepper" TRUSTED_PROXIES=127.0.0.1
    RATE_LIMIT_ENABLED="$rate_limited" RATE_LIMIT_TENANT_PER_MINUTE="$tenant_limit"
    RATE_LIMIT_TENANT_BURST="$tenant_limit" RATE_LIMIT_AUTH_PER_MINUTE=1000
    # One user sends everything here: count the tenant only (no per-user share), so parts
    # 2 and 3 measure the tenant's limit across the instances.
    RATE_LIMIT_USER_SHARE_PERCENT=100)
# The first migrates (straight to PostgreSQL as the owner) and creates the signing key.
aura_start_api api1 "${common[@]}" MIGRATION_DATABASE_URL="$AURA_OWNER_URL" RUN_MIGRATIONS=true
api1=$AURA_PORT
aura_start_api api2 "${common[@]}" RUN_MIGRATIONS=false
api2=$AURA_PORT
echo "== aura-api instances on 127.0.0.1:$api1 and 127.0.0.1:$api2 (database $AURA_DB)"

# --- nginx: round robin over both, X-Forwarded-For set by the proxy ----------------------
ngx_dir=$AURA_TMP/nginx
mkdir -p "$ngx_dir"
ngx_port=$(free_port)
cat >"$ngx_dir/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $ngx_dir/nginx.pid;
error_log $ngx_dir/error.log warn;
events { worker_connections 512; }
http {
    access_log $ngx_dir/access.log;
    client_body_temp_path $ngx_dir/body;
    proxy_temp_path $ngx_dir/proxy;
    fastcgi_temp_path $ngx_dir/fastcgi;
    uwsgi_temp_path $ngx_dir/uwsgi;
    scgi_temp_path $ngx_dir/scgi;
    upstream aura {
        server 127.0.0.1:$api1;
        server 127.0.0.1:$api2;
        keepalive 16;
    }
    server {
        listen 127.0.0.1:$ngx_port;
        location / {
            proxy_pass http://aura;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$host;
            proxy_set_header X-Forwarded-For \$remote_addr;
            proxy_set_header X-Forwarded-Proto \$scheme;
            add_header X-Upstream \$upstream_addr always;
        }
    }
}
EOF
chown -R nobody "$ngx_dir" 2>/dev/null || true
"${as_nobody[@]}" "$NGINX" -p "$ngx_dir" -e "$ngx_dir/error.log" -c "$ngx_dir/nginx.conf" \
    >"$ngx_dir/stdout.log" 2>&1 &
AURA_PIDS+=("$!")
wait_port "$ngx_port" || { echo "nginx did not start:"; cat "$ngx_dir"/*.log; exit 1; }
echo "== nginx $("$NGINX" -v 2>&1 | cut -d/ -f2) on 127.0.0.1:$ngx_port"

# --- the proofs ----------------------------------------------------------------------------
set +e
python3 - "$api1" "$api2" "$ngx_port" "$rate_limited" "$tenant_limit" "$AURA_ROOT/scripts" <<'PY'
import hashlib, http.client, json, math, os, sys, threading, time, uuid
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, sys.argv[6])
import aura_http

api1, api2, proxy = (f"http://127.0.0.1:{p}" for p in sys.argv[1:4])
rate_limited, tenant_limit = sys.argv[4] == "true", int(sys.argv[5])
PASSWORD = "scale-out-pass-2026"
failures = 0


def call(base, method, path, body=None, token=None, forwarded=None):
    return aura_http.call(base, method, path, body, token,
                          {"x-forwarded-for": forwarded} if forwarded else None)


def check(ok, what):
    global failures
    print(("PASS " if ok else "FAIL ") + what, flush=True)
    failures += 0 if ok else 1


def register(name):
    email = f"owner@{name.lower()}.scale.test"
    status, body, _ = call(api1, "POST", "/api/v1/auth/register", {
        "organisation_name": name, "email": email, "full_name": "Scale Owner", "password": PASSWORD})
    assert status == 201, (status, body)
    return email, body["tenant"]["id"]


def login(base, email, password=PASSWORD, forwarded=None):
    return call(base, "POST", "/api/v1/auth/login", {"email": email, "password": password},
                forwarded=forwarded)


# 1. Revocation is seen by every instance ------------------------------------------------
print("-- 1. sessions and revocation across instances")
email_a, tenant_a = register("Alpha")
status, pair, _ = login(api1, email_a)
access, refresh = pair["access_token"], pair["refresh_token"]
status, me, _ = call(api2, "GET", "/api/v1/users/me", token=access)
check(status == 200, f"a token issued by instance 1 is accepted by instance 2 (shared keys): {status}")
status, _, _ = call(api1, "POST", "/api/v1/auth/logout", token=access)
check(status == 204, f"logout through instance 1: {status}")
status, _, _ = call(api2, "GET", "/api/v1/users/me", token=access)
check(status == 401, f"the ended session's access token is refused by instance 2: {status}")
status, _, _ = call(api2, "POST", "/api/v1/auth/refresh", {"refresh_token": refresh})
check(status == 401, f"the ended session's refresh token is refused by instance 2: {status}")

status, pair, _ = login(api1, email_a)
first = pair["refresh_token"]
status, rotated, _ = call(api1, "POST", "/api/v1/auth/refresh", {"refresh_token": first})
check(status == 200, f"refresh through instance 1: {status}")
status, _, _ = call(api2, "POST", "/api/v1/auth/refresh", {"refresh_token": first})
check(status == 401, f"the replayed (already rotated) refresh token is refused by instance 2: {status}")
status, _, _ = call(api1, "POST", "/api/v1/auth/refresh", {"refresh_token": rotated["refresh_token"]})
check(status == 401, f"the replay ended the session: its newest refresh token is refused by instance 1: {status}")
status, _, _ = call(api2, "GET", "/api/v1/users/me", token=rotated["access_token"])
check(status == 401, f"... and its access token by instance 2: {status}")

# 2. Shared limits --------------------------------------------------------------------------
print("-- 2. shared limits")


def first_throttled(bases, email, address, tries=12):
    """The attempt number of the first 429 for failed sign-ins sent round robin to `bases`."""
    for attempt in range(1, tries + 1):
        status, _, headers = login(bases[attempt % len(bases)], email, "wrong password!", address)
        if status == 429:
            return attempt, headers.get("Retry-After")
        if status != 401:
            return f"unexpected {status}", None
    return None, None


email_b, _ = register("Beta")
email_c, _ = register("Gamma")
one, _ = first_throttled([api1], email_b, "198.51.100.7")
both, retry_after = first_throttled([api1, api2], email_c, "198.51.100.8")
check(isinstance(one, int) and one == both,
      f"failed sign-ins are throttled at attempt {both} alternating between the instances, "
      f"as at attempt {one} against one instance (Retry-After: {retry_after})")

if rate_limited:
    status, pair, _ = login(api1, email_b, forwarded="198.51.100.9")
    token = pair["access_token"] if status == 200 else None
    served, started = 0, time.monotonic()
    for i in range(2 * tenant_limit + 5):
        status, _, _ = call(api1 if i % 2 else api2, "GET", "/api/v1/users/me", token=token)
        if status == 429:
            break
        served += status == 200
    # What refills while the loop runs may be served too.
    refill = math.ceil((time.monotonic() - started) * tenant_limit / 60)
    check(tenant_limit - 2 <= served <= tenant_limit + refill + 2,
          f"the per-tenant limit of {tenant_limit}/min holds across both instances: "
          f"{served} requests served before 429 (up to {refill} refilled meanwhile; "
          f"unshared would allow {2 * tenant_limit})")
else:
    print("SKIP per-tenant rate limit across instances: this build has no RATE_LIMIT_TENANT_PER_MINUTE")

# 3. RLS context under transaction pooling --------------------------------------------------
print("-- 3. tenant context under transaction pooling (pgbouncer pool of 2 server connections)")
tenants = {}
for name in ("Delta", "Epsilon"):
    email, tenant_id = register(name)
    status, pair, _ = login(api1, email)
    marker = f"{name}-{uuid.uuid4().hex[:8]}"
    for i in range(3):
        s, _, _ = call(proxy, "POST", "/api/v1/processing-activities",
                       {"name": f"{marker} activity {i}"}, token=pair["access_token"])
        assert s == 201, s
    tenants[name] = (tenant_id, pair["access_token"], marker)

lock = threading.Lock()
counts = {"responses": 0, "foreign": 0, "errors": 0, "upstreams": set()}


def hammer(name, i):
    tenant_id, token, marker = tenants[name]
    kind = i % 3
    if kind == 0:
        status, body, headers = call(proxy, "GET", "/api/v1/processing-activities?limit=100", token=token)
        items = body.get("items", []) if status == 200 else []
        foreign = sum(1 for it in items if it["tenant_id"] != tenant_id or not it["name"].startswith(marker))
        foreign += 0 if len(items) >= 3 else 1
    elif kind == 1:
        status, body, headers = call(proxy, "GET", "/api/v1/tenants/me", token=token)
        foreign = 0 if status == 200 and body["id"] == tenant_id else 1
    else:
        status, body, headers = call(proxy, "POST", "/api/v1/processing-activities",
                                     {"name": f"{marker} load {i}"}, token=token)
        foreign = 0 if status == 201 and body["tenant_id"] == tenant_id else 1
    with lock:
        counts["responses"] += 1
        counts["upstreams"].add(headers.get("X-Upstream"))
        if status >= 400:
            counts["errors"] += 1
        elif foreign:
            counts["foreign"] += 1


jobs = [(name, i) for i in range(150) for name in tenants]
with ThreadPoolExecutor(max_workers=16) as pool:
    list(pool.map(lambda job: hammer(*job), jobs))
check(counts["errors"] == 0 and counts["foreign"] == 0,
      f"{counts['responses']} responses checked, {counts['foreign']} foreign, {counts['errors']} errors "
      f"(16 concurrent clients, 2 tenants)")
check(len(counts["upstreams"]) == 2, f"nginx spread them over both instances: {sorted(counts['upstreams'])}")

# 4. Documents written by one instance are read by the other ------------------------------
print("-- 4. a document uploaded through instance 1, downloaded through instance 2")


def fetch(base, path, token, headers=None, method="GET", data=None):
    """A transfer: the status and the bytes, or the broken transfer's error as the status,
    so a reset or a timeout is a FAIL line, not a traceback."""
    try:
        status, body, _ = aura_http.send(base, method, path, data, token, headers)
        return status, body
    except (OSError, http.client.HTTPException) as error:
        return type(error).__name__, b""


def json_of(body):
    """The JSON object of a body, or {} for an empty or non-JSON one (a proxy's error page)."""
    try:
        value = json.loads(body)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


email_z, _ = register("Zeta")
status, pair, _ = login(api1, email_z)
token = pair["access_token"]
status, body = fetch(api1, "/api/v1/documents", token,
                     {"content-type": "application/json", "idempotency-key": str(uuid.uuid4())},
                     "POST", json.dumps({"title": "Signed DPA", "kind": "dpa"}).encode())
doc = json_of(body)
check(status == 201 and "id" in doc, f"document created through instance 1: {status}")
if not (status == 201 and "id" in doc):
    sys.exit(1)
versions = f"/api/v1/documents/{doc['id']}/versions"
# A PDF by its magic bytes, three 256 KiB chunks and a bit.
content = b"%PDF-1.7\n" + os.urandom(3 * 256 * 1024 + 4321)
status, body = fetch(api1, versions, token, {"content-type": "application/pdf", "x-file-name": "dpa.pdf"},
                     "POST", content)
digest = hashlib.sha256(content).hexdigest()
check(status == 201 and json_of(body).get("sha256") == digest,
      f"upload of {len(content)} bytes through instance 1: {status}")


status, back = fetch(api2, f"{versions}/1/content", token)
check(status == 200 and back == content,
      f"downloaded through instance 2: {status}, {len(back)} bytes, "
      f"SHA-256 {'equal' if hashlib.sha256(back).hexdigest() == digest else 'DIFFERENT'}")
first, last = 256 * 1024 - 100, 256 * 1024 + 99
status, part = fetch(api2, f"{versions}/1/content", token, {"range": f"bytes={first}-{last}"})
check(status == 206 and part == content[first:last + 1],
      f"a range across a chunk boundary through instance 2: {status}, {len(part)} bytes")
sys.exit(1 if failures else 0)
PY
proofs=$?
set -e

echo "-- the database side"
pooled=$(PGPASSWORD=aura_app psql "host=127.0.0.1 port=$pgb_port dbname=aura user=aura_app" -X -A -t -q \
    -c "SELECT coalesce(nullif(current_setting('app.tenant_id', true), ''), 'none') || ' ' || (SELECT count(*) FROM processing_activities)" 2>&1)
servers=$(psql "$AURA_SUPERUSER_URL" -X -A -t -q \
    -c "SELECT count(*) FROM pg_stat_activity WHERE datname = '$AURA_DB' AND usename = 'aura_app'")
extra=0
if [ "$pooled" = "none 0" ]; then
    echo "PASS a pooled server connection after the run has no tenant set and sees 0 tenant rows"
else
    echo "FAIL a pooled server connection after the run: tenant and visible rows = $pooled"
    extra=1
fi
if [ "$servers" -le 2 ]; then
    echo "PASS PostgreSQL served both instances (pools of 8 each) with $servers app-role connections (pgbouncer pool 2)"
else
    echo "FAIL PostgreSQL has $servers app-role connections: they did not go through the pool of 2"
    extra=1
fi
errors=$(cat "$AURA_TMP"/api1.log "$AURA_TMP"/api2.log | grep -c '"level":"ERROR"' || true)
if [ "$errors" -eq 0 ]; then
    echo "PASS no errors in either instance's log"
else
    echo "FAIL $errors error lines in the instances' logs, e.g.:"
    cat "$AURA_TMP"/api1.log "$AURA_TMP"/api2.log | grep '"level":"ERROR"' | head -n 3
    extra=1
fi

if [ "$proofs" -ne 0 ] || [ "$extra" -ne 0 ]; then
    echo "scale-out: FAILED"
    exit 1
fi
echo "scale-out: all checks passed"
