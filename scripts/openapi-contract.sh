#!/usr/bin/env bash
# The API document as a contract: fetches /openapi.json from the debug aura-api on a fresh
# PostgreSQL database, validates it under a strict OpenAPI 3.1 validator, requires 0 untyped
# bodies and 0 query parameters declared as path, generates a Python client
# (openapi-python-client) and TypeScript types (openapi-typescript, checked by tsc), and
# runs an end-to-end flow through the generated Python client: sign up, create a processor
# and an activity linked to it, list with a filter, update with If-Match, export.
#
#   bash scripts/openapi-contract.sh                  # as CI runs it
#   AURA_KEEP_TMP=1 bash scripts/openapi-contract.sh  # keep the document, clients and logs
#
# The tools live in a cache outside the repository (${XDG_CACHE_HOME:-~/.cache}/aura-openapi),
# pinned by scripts/requirements-openapi.txt and scripts/openapi/package-lock.json; the
# generated code is written to the temp dir, never to the repository. Exits non-zero on
# any failure or generator warning.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

REQUIREMENTS=$AURA_ROOT/scripts/requirements-openapi.txt
NPM_DIR=$AURA_ROOT/scripts/openapi
cache=${XDG_CACHE_HOME:-$HOME/.cache}/aura-openapi

# The Python tools, keyed by the pinned requirements so a new pin makes a new venv.
venv=$cache/venv-$(sha256sum "$REQUIREMENTS" | cut -c1-16)
if [ ! -x "$venv/bin/openapi-python-client" ]; then
    echo "== installing the Python tools into $venv"
    rm -rf "$venv"
    mkdir -p "$cache"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$REQUIREMENTS"
fi
# The npm tools, keyed by the lock file.
node=$cache/npm-$(cat "$NPM_DIR/package.json" "$NPM_DIR/package-lock.json" | sha256sum | cut -c1-16)
if [ ! -x "$node/node_modules/.bin/openapi-typescript" ]; then
    echo "== installing the npm tools into $node"
    rm -rf "$node"
    mkdir -p "$node"
    cp "$NPM_DIR/package.json" "$NPM_DIR/package-lock.json" "$node/"
    (cd "$node" && npm ci --silent --no-audit --no-fund)
fi
# openapi-python-client runs ruff from PATH on what it generates.
export PATH=$venv/bin:$node/node_modules/.bin:$PATH

aura_create_db contract
aura_start_api api DATABASE_URL="$AURA_APP_URL" MIGRATION_DATABASE_URL="$AURA_OWNER_URL" \
    RUN_MIGRATIONS=true RATE_LIMIT_ENABLED=false \
    PASSWORD_PEPPER="$(python3 -c 'import base64,os; print(base64.b64encode(os.urandom(32)).decode())')"
base=http://127.0.0.1:$AURA_PORT
echo "== aura-api on $base (database $AURA_DB)"

doc=$AURA_TMP/openapi.json
python3 - "$base/openapi.json" "$doc" <<'PY'
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=30) as answer:
    assert answer.status == 200, answer.status
    open(sys.argv[2], "wb").write(answer.read())
PY

echo "== validate (openapi-spec-validator), untyped bodies, query parameters as path"
"$venv/bin/python" "$AURA_ROOT/scripts/openapi_check.py" "$doc"

# A generator's warnings fail the run as its errors do.
generated() {
    local name=$1 log=$2 status=$3
    cat "$log"
    if [ "$status" -ne 0 ] || grep -qiE 'warning|error' "$log"; then
        echo "$name: FAILED (exit $status, or warnings above)"
        exit 1
    fi
}

echo "== Python client (openapi-python-client)"
mkdir -p "$AURA_TMP/python"
set +e
(cd "$AURA_TMP/python" && openapi-python-client generate --path "$doc" --meta none \
    --config "$NPM_DIR/python-client.yaml" \
    --output-path aura_client) >"$AURA_TMP/python.log" 2>&1
generated openapi-python-client "$AURA_TMP/python.log" $?
set -e

echo "== TypeScript types (openapi-typescript, tsc --noEmit --strict)"
mkdir -p "$AURA_TMP/ts"
set +e
openapi-typescript "$doc" -o "$AURA_TMP/ts/api.d.ts" >"$AURA_TMP/ts.log" 2>&1
generated openapi-typescript "$AURA_TMP/ts.log" $?
set -e
cat >"$AURA_TMP/ts/tsconfig.json" <<'JSON'
{"compilerOptions": {"strict": true, "noEmit": true, "target": "es2022", "module": "esnext",
  "moduleResolution": "bundler"}, "files": ["api.d.ts"]}
JSON
tsc -p "$AURA_TMP/ts/tsconfig.json"
untyped_ts=$(grep -v '^export type webhooks' "$AURA_TMP/ts/api.d.ts" | grep -v '^export type \$defs' |
    grep -c 'Record<string, never>' || true)
if [ "$untyped_ts" -ne 0 ]; then
    grep -n "Record<string, never>" "$AURA_TMP/ts/api.d.ts"
    echo "openapi-typescript: $untyped_ts fields typed as an empty object"
    exit 1
fi

echo "== end-to-end flow through the generated Python client"
"$venv/bin/python" "$AURA_ROOT/scripts/openapi_e2e.py" "$base" "$AURA_TMP/python"
echo "openapi-contract: OK"
