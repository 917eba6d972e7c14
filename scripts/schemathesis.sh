#!/usr/bin/env bash
# schemathesis against /openapi.json of the debug aura-api on a fresh PostgreSQL database,
# signed in as the owner of a seeded tenant. Every check: no 5xx, every status code,
# content type, header and body as the document declares. A fixed seed and a bounded
# number of examples per operation keep it reproducible and within a few minutes.
#
#   bash scripts/schemathesis.sh                      # as CI runs it
#   SCHEMATHESIS_MAX_EXAMPLES=200 bash scripts/schemathesis.sh
#   AURA_KEEP_TMP=1 bash scripts/schemathesis.sh      # keep the logs and the report
#
# The tool lives in a cached venv (${XDG_CACHE_HOME:-~/.cache}/aura-schemathesis), pinned
# by scripts/requirements-schemathesis.txt. Exits non-zero on any failure.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

SEED=${SCHEMATHESIS_SEED:-20261125}
MAX_EXAMPLES=${SCHEMATHESIS_MAX_EXAMPLES:-25}
REQUIREMENTS=$AURA_ROOT/scripts/requirements-schemathesis.txt

# The venv, keyed by the pinned requirements so a new pin makes a new venv.
cache=${XDG_CACHE_HOME:-$HOME/.cache}/aura-schemathesis
venv=$cache/venv-$(sha256sum "$REQUIREMENTS" | cut -c1-16)
if [ ! -x "$venv/bin/schemathesis" ]; then
    echo "== installing schemathesis into $venv"
    rm -rf "$venv"
    mkdir -p "$cache"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$REQUIREMENTS"
fi

aura_create_db schemathesis
aura_start_api api DATABASE_URL="$AURA_APP_URL" MIGRATION_DATABASE_URL="$AURA_OWNER_URL" \
    RUN_MIGRATIONS=true RATE_LIMIT_ENABLED=false TRUSTED_PROXIES=127.0.0.1 \
    PASSWORD_PEPPER="$(python3 -c 'import base64,os; print(base64.b64encode(os.urandom(32)).decode())')"
base=http://127.0.0.1:$AURA_PORT
echo "== aura-api on $base (database $AURA_DB)"

# A tenant with a record of every kind, so that the ids schemathesis is given exist.
python3 - "$base" "$AURA_ROOT/scripts" >"$AURA_TMP/seed.env" <<'PY'
import sys

sys.path.insert(0, sys.argv[2])
import aura_http

base = sys.argv[1]
PASSWORD = "schemathesis-pass-2026"

def call(method, path, body=None, token=None, if_match=None):
    status, answer, _ = aura_http.call(
        base, method, path, body, token, {"if-match": if_match} if if_match else None)
    assert status < 300, (method, path, status, answer)
    return answer

def login(email):
    return call("POST", "/api/v1/auth/login", {"email": email, "password": PASSWORD})

call("POST", "/api/v1/auth/register", {
    "organisation_name": "Schemathesis GmbH", "email": "owner@schemathesis.test",
    "full_name": "Fuzz Owner", "password": PASSWORD})
owner = login("owner@schemathesis.test")
token = owner["access_token"]
# A second session only for POST /auth/logout, which ends the session it is called with.
logout = login("owner@schemathesis.test")

member = call("POST", "/api/v1/tenants/me/users", {
    "email": "member@schemathesis.test", "full_name": "Fuzz Member", "role": "member"}, token)
processor = call("POST", "/api/v1/processors", {"name": "Mail AG", "country": "DE"}, token)
activity = call("POST", "/api/v1/processing-activities", {
    "name": "Newsletter", "processor_ids": [processor["id"]]}, token)
policy = call("POST", "/api/v1/policies", {"title": "Privacy policy", "kind": "other"}, token)
call("POST", f"/api/v1/policies/{policy['id']}/versions", {"content": "# Text"}, token)
call("PUT", "/api/v1/organisation", {"legal_name": "Schemathesis GmbH"}, token, '"0"')
task = call("POST", "/api/v1/tasks", {
    "title": "Review the DPA", "category": "dpa_review", "due_date": "2030-03-01",
    "assigned_to": member["id"], "link": {"kind": "processor", "id": processor["id"]}}, token)
suggestion = call("POST", "/api/v1/ai/ask", {"question": "Which processors do we use?"}, token)

print(f"ST_TOKEN={token}")
print(f"ST_LOGOUT_TOKEN={logout['access_token']}")
print(f"ST_USER_ID={member['id']}")
print(f"ST_PROCESSOR_ID={processor['id']}")
print(f"ST_ACTIVITY_ID={activity['id']}")
print(f"ST_POLICY_ID={policy['id']}")
print(f"ST_TASK_ID={task['id']}")
print(f"ST_SUGGESTION_ID={suggestion['id']}")
PY
set -a
# shellcheck disable=SC1091
source "$AURA_TMP/seed.env"
set +a

# Seeded ids are offered beside generated ones (`dictionaries`): the handlers' paths for
# existing records are fuzzed too, not only their 404s. /auth/logout gets a session of its
# own, so it cannot end the one every other request uses.
cat >"$AURA_TMP/schemathesis.toml" <<TOML
[dictionaries.ids]
values = ["$ST_USER_ID", "$ST_PROCESSOR_ID", "$ST_ACTIVITY_ID", "$ST_POLICY_ID", "$ST_TASK_ID", "$ST_SUGGESTION_ID"]

[parameters]
"path.id" = { dictionary = "ids", probability = 0.5 }

[[operations]]
include-path = "/api/v1/auth/logout"
headers = { Authorization = "Bearer $ST_LOGOUT_TOKEN" }
TOML

# One worker: Python 3.11's ast module can fail spuriously under threads (CPython
# gh-106905), which schemathesis reports as a runtime error.
echo "== schemathesis (seed $SEED, at most $MAX_EXAMPLES examples per operation)"
set +e
(cd "$AURA_TMP" && "$venv/bin/schemathesis" --config-file "$AURA_TMP/schemathesis.toml" run \
    "$base/openapi.json" \
    --header "Authorization: Bearer $ST_TOKEN" \
    --checks not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance \
    --phases examples,coverage,fuzzing \
    --seed "$SEED" --max-examples "$MAX_EXAMPLES" \
    --workers 1 --request-timeout 30 --no-color \
    --suppress-health-check all) | tee "$AURA_TMP/schemathesis.out"
status=${PIPESTATUS[0]}
set -e

cases=$(grep -oE '^ *[0-9]+ generated' "$AURA_TMP/schemathesis.out" | tail -n 1 | tr -dc '0-9')
if [ "$status" -ne 0 ]; then
    echo "schemathesis: FAILED (exit $status) after ${cases:-?} generated cases"
    exit "$status"
fi
echo "schemathesis: ${cases:-?} generated cases, 0 failures (seed $SEED, $MAX_EXAMPLES examples per operation)"
